"""Relationships: list (stage, status), start, one with its open tasks, raise an issue or an exit trigger."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from ..lifecycle import services as lifecycle
from ..relationships import services as relationships
from .common import (
    NAME_MAX,
    TEXT_MAX,
    In,
    PageArgs,
    StageOut,
    blueprint,
    engine,
    now,
    page_of,
    paginate,
    session,
    user,
)
from .tasks import TaskOut, task_dict

bp = blueprint("api_relationships", "Relationships and their progress through the eight stages")


class ListArgs(PageArgs):
    status = fields.String(load_default="", validate=validate.OneOf(["", "running", "completed", "cancelled"]))
    stage = fields.Integer(load_default=None, validate=validate.Range(min=1, max=8))


class StartIn(In):
    title = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    partner = fields.String(required=True, validate=validate.Length(min=1, max=200))


class IssueIn(In):
    title = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    description = fields.String(load_default="", validate=validate.Length(max=TEXT_MAX))


class ExitTriggerIn(In):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=TEXT_MAX))


class ProgressOut(Schema):
    stage = fields.Integer(allow_none=True, metadata={"description": "the stage being worked, or the last one"})
    label = fields.String()
    status = fields.String()
    outcome = fields.String(allow_none=True)


class RelationshipOut(Schema):
    id = fields.Integer()
    title = fields.String()
    partner = fields.String(allow_none=True)
    status = fields.String()
    version_id = fields.Integer()
    created_at = fields.DateTime()
    progress = fields.Nested(ProgressOut)
    open_tasks = fields.Integer()
    overdue = fields.Integer()
    next_review = fields.DateTime(allow_none=True)


RelationshipPage = page_of(RelationshipOut)


class IssueOut(Schema):
    id = fields.Integer()
    title = fields.String()
    status = fields.String()
    level = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)


class RelationshipDetailOut(RelationshipOut):
    tasks = fields.List(fields.Nested(TaskOut), metadata={"description": "open tasks, linked instances included"})
    issues = fields.List(fields.Nested(IssueOut))
    linked = fields.List(fields.Dict(), metadata={"description": "linked instances (reviews, issues)"})
    event_count = fields.Integer()


class ActionOut(Schema):
    relationship_id = fields.Integer()
    instance_id = fields.Integer(metadata={"description": "the instance the action started or changed"})
    status = fields.String()
    tasks = fields.List(fields.Nested(TaskOut), metadata={"description": "the relationship's open tasks now"})
    stage = fields.Nested(StageOut, allow_none=True)


def summary_dict(summary) -> dict:
    row, progress = summary.instance, summary.progress
    return {"id": row.id, "title": summary.title, "partner": summary.partner, "status": row.status,
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
    return out


def _action(relationship_id: int, result) -> dict:
    from ..inbox.queries import open_tasks
    from ..inbox.stages import STAGES
    session().expire_all()
    tasks = [task_dict(t) for t in open_tasks(session(), relationship_id, now=now())]
    stage = lifecycle.current_stage(session(), relationship_id)
    return {"relationship_id": relationship_id, "instance_id": result.instance_id, "status": result.status,
            "tasks": tasks, "stage": {"key": f"stage{stage}", "number": stage, "label": f"{stage} · {STAGES[stage]}"}
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
                                 now=now())
    session().expire_all()
    return detail_dict(result.instance_id)


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
                                   title=args["title"], description=args["description"], now=now())
    return _action(relationship_id, result)


@bp.post("/relationships/<id:relationship_id>/exit-triggers")
@bp.arguments(ExitTriggerIn)
@bp.response(201, ActionOut)
def raise_exit_trigger(args, relationship_id):
    """Raise an exit trigger (stages 5 to 7): the SERs get an exit review."""
    result = lifecycle.raise_exit_trigger(session(), engine(), user=user(), relationship_id=relationship_id,
                                          reason=args["reason"], now=now())
    return _action(relationship_id, result)
