"""Actions on a relationship that the lifecycle defines: raising an issue, raising an exit trigger,
and knowing which stage a relationship is in (read from task rows, never by loading the workflow)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import EventNotExpected, Result, WorkflowEngine

from ..access import services as access
from ..auth.models import User
from ..auth.permissions import Permission, may
from ..db import utcnow
from ..errors import BadRequest, Forbidden
from ..notifications.services import MailSettings
from ..processes.models import HumanTask, ProcessInstance
from ..processes.services import run_action, send_signal
from ..processes.store import bound
from ..stages import EXIT_TRIGGER_SIGNAL, ISSUE_PROCESS, ISSUE_STAGES, LIFECYCLE, stage_of_process


def relationship(session: Session, relationship_id: int) -> ProcessInstance:
    """The relationship (a top-level lifecycle instance). Raises NotFound."""
    return access.relationship_or_404(session, relationship_id, process_id=LIFECYCLE)


def current_stage(session: Session, relationship_id: int) -> int | None:
    """The stage whose tasks are open (the latest stage if several), else the stage of the last task done."""
    processes = session.scalars(select(HumanTask.process_id).where(
        HumanTask.instance_id == relationship_id, HumanTask.state == "ready"))
    stages = [s for s in map(stage_of_process, processes) if s]
    if stages:
        return max(stages)
    last = session.scalar(select(HumanTask.process_id).where(HumanTask.instance_id == relationship_id)
                          .order_by(HumanTask.id.desc()).limit(1))
    return stage_of_process(last)


def _require_running_stage(session, rel: ProcessInstance, what: str) -> int:
    if rel.status != "running":
        raise BadRequest(f"the relationship is {rel.status}; {what} can no longer be raised")
    stage = current_stage(session, rel.id)
    if stage not in ISSUE_STAGES:
        raise BadRequest(f"{what} can be raised in stages 5 to 7; the relationship is in stage {stage}",
                         {"stage": stage})
    return stage


def raise_issue(session: Session, engine: WorkflowEngine, *, user: User, relationship_id: int, title: str,
                description: str = "", now: datetime | None = None, mail: MailSettings | None = None) -> Result:
    """Start an issue-resolution instance linked to the relationship (stages 5-7 only).

    Raises NotFound, Forbidden (assessors and process owners do not raise issues), BadRequest (wrong stage,
    no title).
    """
    if not may(user, Permission.RAISE_ISSUES):
        raise Forbidden("your roles do not allow raising an issue")
    if not title or not title.strip():
        raise BadRequest("an issue needs a title", {"title": "this field is required"})
    rel = relationship(session, relationship_id)
    access.require_relationship(session, user, rel.id)
    stage = _require_running_stage(session, rel, "an issue")
    now = now or utcnow()
    data = {"title": title.strip(), "issue_title": title.strip(), "issue_description": description, "raised_by": user.display_name,
            "raised_on": now.date().isoformat(), "raised_in_stage": stage, "relationship_title": rel.title,
            **agreed_issue_limits(session, rel.id)}
    bound_engine = bound(engine, session, user, now=now, started_by_id=user.id)
    return run_action(session, engine, user, now, lambda: bound_engine.start(
        rel.version_id, ISSUE_PROCESS, data, now=now, parent_id=rel.id), mail=mail)


ISSUE_PROCESS_TASK = "s7_issue_process"  # where the partners agree how issues are resolved and their time limits
LIMITS = ("l1_limit", "l2_limit", "l3_limit")


def agreed_issue_limits(session: Session, relationship_id: int) -> dict:
    """The time limits the partners agreed for issue resolution (the latest agreed issue process, stage 7), which
    every issue raised afterwards runs on; before any is agreed, the catalogue defaults, saying so."""
    agreed = session.execute(
        select(HumanTask.submitted, HumanTask.completed_at).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(ProcessInstance.root_id == relationship_id, HumanTask.bpmn_id == ISSUE_PROCESS_TASK,
               HumanTask.state == "completed").order_by(HumanTask.completed_at.desc()).limit(1)).first()
    limits = {k: (agreed.submitted or {}).get(k) for k in LIMITS} if agreed else {}
    if agreed is None or not all(isinstance(v, str) and v for v in limits.values()):
        return {"limits_source": "the catalogue defaults: no issue resolution process is agreed yet (stage 7)"}
    return {**limits, "limits_source": f"as agreed in the issue resolution process on {agreed.completed_at:%d %b %Y}"}


def raise_exit_trigger(session: Session, engine: WorkflowEngine, *, user: User, relationship_id: int,
                       reason: str, now: datetime | None = None, mail: MailSettings | None = None) -> Result:
    """Raise an exit trigger on the relationship: the SERs get an exit review. Raises BadRequest when the
    relationship is outside stages 5-7 or an exit review is already open."""
    if not may(user, Permission.RAISE_ISSUES):
        raise Forbidden("your roles do not allow raising an exit trigger")
    if not reason or not reason.strip():
        raise BadRequest("say why the exit trigger is raised", {"reason": "this field is required"})
    rel = relationship(session, relationship_id)
    access.require_relationship(session, user, rel.id)
    _require_running_stage(session, rel, "an exit trigger")
    try:
        return send_signal(session, engine, user=user, instance_id=rel.id, name=EXIT_TRIGGER_SIGNAL,
                           payload={"reason": reason.strip(), "source": "person", "raised_by": user.display_name},
                           now=now, mail=mail)
    except EventNotExpected:
        raise BadRequest("an exit review is already open for this relationship; decide it first") from None
