"""Relationships: list (stage, status), start, one with its open tasks, raise an issue or an exit trigger."""

from __future__ import annotations

from marshmallow import RAISE

from ..api.common import (
    blueprint,
    engine,
    mail,
    now,
    paginate,
    session,
    user,
)
from ..inbox.schemas import task_dict
from ..lifecycle import services as lifecycle
from ..relationships import services as relationships
from .schemas import (
    ActionOut,
    ExitTriggerIn,
    IssueIn,
    ListArgs,
    PartnerIn,
    RelationshipDetailOut,
    RelationshipPage,
    StartIn,
)

bp = blueprint("api_relationships", "Relationships and their progress through the eight stages")


def summary_dict(summary) -> dict:
    row, progress = summary.instance, summary.progress
    return {"id": row.id, "title": summary.title, "partner": summary.partner, "partners": summary.partners,
            "status": row.status,
            "version_id": row.version_id, "created_at": row.created_at,
            "progress": {"stage": progress.current, "label": progress.label, "status": progress.status,
                         "outcome": progress.outcome},
            "open_tasks": summary.open_tasks, "overdue": summary.overdue, "next_review": summary.next_review}


def detail_dict(relationship_id: int) -> dict:
    detail = relationships.relationship(session(), relationship_id, now=now(), trail=1, viewer=user())
    out = summary_dict(detail.summary)
    out["tasks"] = [task_dict(t) for t in detail.tasks]
    out["issues"] = [{"id": i.instance.id, "title": i.title, "status": i.instance.status, "level": i.level,
                      "outcome": i.outcome} for i in detail.issues]
    out["linked"] = [{"id": m.id, "process_id": m.process_id, "title": m.title, "status": m.status}
                     for m in detail.linked]
    out["event_count"] = detail.event_count
    out["partner_without_ser"] = detail.partner_without_ser
    return out


def _action(relationship_id: int, result) -> dict:
    from ..inbox.queries import open_tasks
    from ..stages import STAGE_NAMES
    session().expire_all()
    tasks = [task_dict(t) for t in open_tasks(session(), relationship_id, now=now())]
    stage = lifecycle.current_stage(session(), relationship_id)
    return {"relationship_id": relationship_id, "instance_id": result.instance_id, "status": result.status,
            "tasks": tasks, "stage": {"key": f"stage{stage}", "number": stage, "label": f"{stage} · {STAGE_NAMES[stage]}"}
            if stage else None}


@bp.get("/relationships")
@bp.arguments(ListArgs, location="query", unknown=RAISE)
@bp.response(200, RelationshipPage)
def index(args):
    """Relationships, newest first, with their stage, open and overdue tasks and next review."""
    found = relationships.summaries(session(), now=now(), status=args["status"], viewer=user())
    if args["stage"] is not None:
        found = [s for s in found if s.progress.current == args["stage"]]
    return paginate([summary_dict(s) for s in found], args["page"], args["per_page"])


@bp.post("/relationships")
@bp.arguments(StartIn)
@bp.response(201, RelationshipDetailOut)
def start(args):
    """Start a relationship on the deployed lifecycle (staff, SERs, the joint team, administrators)."""
    result = relationships.start(session(), engine(), user(), title=args["title"], partner=args["partner"],
                                 partners=args["partners"], now=now(), mail=mail())
    session().expire_all()
    return detail_dict(result.instance_id)


@bp.post("/relationships/<id:relationship_id>/partners")
@bp.arguments(PartnerIn)
@bp.response(201, RelationshipDetailOut)
def add_partner(args, relationship_id):
    """Add a partner organisation to a running relationship (our SERs and administrators): its users see the joint
    parts and its SER decides the joint gates from now on."""
    relationships.add_partner(session(), user(), relationship_id, args["partner"], now=now())
    session().expire_all()
    return detail_dict(relationship_id)


@bp.get("/relationships/<id:relationship_id>")
@bp.response(200, RelationshipDetailOut)
def show(relationship_id):
    """One relationship with its open tasks, issues and linked instances."""
    return detail_dict(relationship_id)


@bp.post("/relationships/<id:relationship_id>/issues")
@bp.arguments(IssueIn)
@bp.response(201, ActionOut)
def raise_issue(args, relationship_id):
    """Raise an issue (stages 5 to 7): starts the issue-resolution process linked to the relationship."""
    result = lifecycle.raise_issue(session(), engine(), user=user(), relationship_id=relationship_id,
                                   title=args["title"], description=args["description"], now=now(),
                                   mail=mail())
    return _action(relationship_id, result)


@bp.post("/relationships/<id:relationship_id>/exit-triggers")
@bp.arguments(ExitTriggerIn)
@bp.response(201, ActionOut)
def raise_exit_trigger(args, relationship_id):
    """Raise an exit trigger (stages 5 to 7): the SERs get an exit review."""
    result = lifecycle.raise_exit_trigger(session(), engine(), user=user(), relationship_id=relationship_id,
                                          reason=args["reason"], now=now(), mail=mail())
    return _action(relationship_id, result)
