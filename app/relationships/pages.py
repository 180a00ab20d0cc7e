"""Pages: the list of relationships with their progress, starting one, one relationship, its diagrams."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from workflows import Conflict, WorkflowError

from ..admin import services as admin
from ..agenda.services import upcoming
from ..auth.models import Organisation
from ..auth.permissions import Permission, may, require
from ..auth.session import me
from ..db import utcnow
from ..errors import BadRequest, Forbidden
from ..extensions import db_session, services
from ..lifecycle import health, measures
from ..lifecycle import services as lifecycle
from ..management import services as management
from ..processes.models import ProcessInstance
from ..stages import LIFECYCLE, STAGE_NAMES, stage_of
from . import diagrams
from . import services as relationships

bp = Blueprint("relationships", __name__)


@bp.get("/relationships")
def index():
    status = request.args.get("status", "")
    return _list(status=status)


@bp.post("/relationships")
def start():
    session = db_session()
    title, partner = request.form.get("title", ""), request.form.get("partner", "")
    typed = {k: request.form.get(k, "") for k in ("title", "partner", "more_partners", "ser_name", "ser_username",
                                                  "ser_email")}
    more = [line.strip() for line in typed["more_partners"].splitlines() if line.strip()]
    invited = None
    try:
        if any(typed[k].strip() for k in ("ser_name", "ser_username", "ser_email")):
            invited = _invite_partner_ser(session, partner, typed)  # first: a refusal starts nothing
        result = relationships.start(session, services().workflows, me(), title=title, partner=partner,
                                     partners=more, now=utcnow(), mail=services().mail)
    except BadRequest as exc:
        return _list(errors=exc.errors or {"(form)": exc.message}, message=exc.message, typed=typed,
                     status_code=400)
    except Forbidden as exc:
        return _list(errors={"(form)": exc.message}, message=exc.message,
                     typed={"title": title, "partner": partner}, status_code=403)
    flash(f"Started the relationship {title.strip()!r}.", "success")
    if invited is not None:
        flash(f"{invited.user.display_name} is invited as {partner.strip()}'s SER"
              f"{' (e-mailed)' if invited.emailed else ''}; their one-time link: {invited.url}", "info")
    return redirect(url_for("relationships.show", relationship_id=result.instance_id))


def _invite_partner_ser(session, partner: str, typed: dict):
    """Administrators may invite the partner's SER in the same step (an existing partner, or a new one)."""
    require(me(), Permission.ADMINISTER_USERS, "only administrators invite the partner's SER while starting")
    if not (partner or "").strip():
        raise BadRequest("name the partner organisation", {"partner": "Name the partner organisation."})
    organisation = relationships.partner_organisation(session, partner.strip())
    errors_as = {"display_name": "ser_name", "username": "ser_username", "email": "ser_email"}
    try:
        return admin.invite(session, me(), username=typed["ser_username"], display_name=typed["ser_name"],
                            email=typed["ser_email"], roles=["ser"], organisation_id=organisation.id, now=utcnow(),
                            mail=services().mail, base_url=current_app.config["BASE_URL"])
    except BadRequest as exc:
        session.rollback()
        raise BadRequest("the partner's SER was not invited; nothing was started",
                         {errors_as.get(k, k): v for k, v in exc.errors.items()}) from None


UPCOMING_SHOWN = 8
RELOAD = "Someone else changed this relationship at the same moment. Nothing was raised; try again."


@bp.get("/relationships/<id:relationship_id>")
def show(relationship_id: int):
    return _show(relationship_id)


@bp.post("/relationships/<id:relationship_id>/issues")
def raise_issue(relationship_id: int):
    """Start an issue-resolution process on the relationship (stages 5-7, the roles that work)."""
    title, description = request.form.get("title", ""), request.form.get("description", "")
    return _raise(relationship_id, "issue", {"title": title, "description": description},
                  lambda session, now: lifecycle.raise_issue(
                      session, services().workflows, user=me(), relationship_id=relationship_id, title=title,
                      description=description.strip(), now=now, mail=services().mail),
                  f"Issue raised: {title.strip()!r}. It starts at level 1; its tasks are in the inbox.")


@bp.post("/relationships/<id:relationship_id>/partners")
def add_partner(relationship_id: int):
    """Add a partner organisation (an alliance grows): our SERs and administrators."""
    name = request.form.get("partner", "")
    return _raise(relationship_id, "partner", {"partner": name},
                  lambda session, now: relationships.add_partner(session, me(), relationship_id, name, now=now),
                  f"{name.strip()} is now a partner of this relationship: its users see the joint parts and its "
                  "SER decides the joint gates.")


@bp.post("/relationships/<id:relationship_id>/exit-triggers")
def raise_exit_trigger(relationship_id: int):
    """Raise an exit trigger: both SERs get an exit review."""
    reason = request.form.get("reason", "")
    return _raise(relationship_id, "exit", {"reason": reason},
                  lambda session, now: lifecycle.raise_exit_trigger(
                      session, services().workflows, user=me(), relationship_id=relationship_id, reason=reason,
                      now=now, mail=services().mail),
                  "Exit trigger raised: the SERs of both organisations now review it.")


def _raise(relationship_id, form, typed, action, done):
    """Run a raise action; a refusal comes back on the relationship's page with what was typed."""
    session = db_session()
    try:
        action(session, utcnow())
    except (BadRequest, Forbidden) as exc:
        session.rollback()
        return _show(relationship_id, refused=_refusal(form, exc.message, exc.errors, typed),
                     status_code=exc.status)
    except Conflict:
        session.rollback()
        return _show(relationship_id, refused=_refusal(form, RELOAD, {}, typed), status_code=409)
    except WorkflowError as exc:  # e.g. the diagram refused the data: explained, never a 500
        session.rollback()
        return _show(relationship_id, refused=_refusal(form, exc.message, {}, typed), status_code=422)
    flash(done, "success")
    return redirect(url_for("relationships.show", relationship_id=relationship_id))


def _refusal(form, message, errors, typed):
    fields = {k: v for k, v in (errors or {}).items() if k in typed} if isinstance(errors, dict) else {}
    return {"form": form, "message": message[:1].upper() + message[1:], "errors": fields, "typed": typed}


def _show(relationship_id: int, *, refused=None, status_code=200):
    session, now = db_session(), utcnow()
    everything = request.args.get("trail") == "all"
    detail = relationships.relationship(session, relationship_id, now=now, trail=None if everything else 50,
                                         viewer=me())
    stage = lifecycle.current_stage(session, relationship_id)
    foundation = None if me().is_partner else management.foundation(session, relationship_id)
    waits = foundation is not None and foundation.waiting_since is not None and foundation.released_at is None
    agenda = upcoming(session, now=now, relationship_id=relationship_id, limit=UPCOMING_SHOWN + 1, viewer=me())
    return render_template("relationships/show.html", detail=detail, stages=STAGE_NAMES, now=now,
                           process=_process(session, detail.summary.instance),
                           measures=measures.series(session, relationship_id) if not detail.summary.instance.parent_id
                           else [], measure_chart=measures.chart,
                           health=health.rounds(session, relationship_id) if not detail.summary.instance.parent_id
                           else [],
                           may_raise=relationships.may_raise(me(), detail.summary.instance, stage),
                           may_add_partner=relationships.may_add_partner(me(), detail.summary.instance),
                           upcoming=agenda[:UPCOMING_SHOWN], more_upcoming=len(agenda) > UPCOMING_SHOWN,
                           refused=refused or {}, foundation=foundation,
                           organisation_wait=management.readiness(session, now) if waits else None), status_code


@dataclass(frozen=True)
class _Process:
    """What a process instance that is not a relationship is, for its page: its name, the relationship it serves
    (an issue, a review), or whether it is the organisation's own (the management system and its processes)."""

    label: str
    parent: ProcessInstance | None
    organisation: bool


def _process(session, instance: ProcessInstance) -> _Process | None:
    if instance.process_id == LIFECYCLE:
        return None
    parent = session.get(ProcessInstance, instance.parent_id) if instance.parent_id else None
    if parent is not None and parent.process_id != LIFECYCLE:
        parent = None  # a step of the management system: the organisation's
    return _Process(stage_of(instance.process_id).label, parent, parent is None)


@bp.get("/versions/<id:version_id>/diagrams/<name>")
def diagram_xml(version_id: int, name: str):
    content = diagrams.diagram_xml(db_session(), version_id, name, viewer=me())
    return Response(content, mimetype="application/xml", headers={"Cache-Control": "private, max-age=3600"})


def _list(*, status="", errors=None, message=None, typed=None, status_code=200):
    session = db_session()
    found = relationships.summaries(session, now=utcnow(), status=status, viewer=me())
    partners = session.scalars(select(Organisation.name).where(Organisation.kind == "partner",
                                                               Organisation.active.is_(True))
                               .order_by(Organisation.name)).all() if not me().is_partner else []
    return render_template("relationships/index.html", relationships=found, stages=STAGE_NAMES, status=status,
                           errors=errors or {}, message=message, typed=typed or {}, partners=partners,
                           may_invite=may(me(), Permission.ADMINISTER_USERS),
                           can_start=not me().is_partner and may(me(), Permission.START_RELATIONSHIPS),
                           lifecycle=relationships.lifecycle_deployed(session), now=utcnow(),
                           portfolio=[e for e in management.portfolio(session) if e.collaboration_fits
                                      and e.relationship_id is None] if not me().is_partner else []), status_code
