"""The agenda: upcoming reviews, timers and task deadlines, per relationship, read from the due-time rows
(timers and human tasks), never by loading a workflow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from ..access import services as access
from ..processes.models import HumanTask, ProcessInstance, Timer

# processes whose one run is one review: the agenda names it by the run's title ("Management review", "Internal
# audit: improvement", ...) rather than by its timer's name
REVIEWS = ("periodic_review", "organisation_review", "internal_audit")


@dataclass(frozen=True)
class AgendaEntry:
    when: datetime
    kind: str  # review | timer | deadline
    title: str
    relationship_id: int
    relationship: str | None
    instance_id: int
    process_id: str
    task_id: int | None = None  # the human task row, for deadlines
    overdue: bool = False
    element: str | None = None  # the diagram's id of the timer (reviews, timers) or of the task (deadlines)
    gate: bool = False  # a deadline of an SER gate


def upcoming(session: Session, *, now: datetime, relationship_id: int | None = None,
             until: datetime | None = None, limit: int = 500, viewer=None, tasks=None) -> list[AgendaEntry]:
    """What falls due from `now` on (overdue deadlines included), earliest first; for a partner `viewer`,
    only its relationships' joint processes. `tasks` (SQL on human_tasks, e.g. the inbox's
    `visible_to_work(user)`) narrows the deadlines to the tasks it admits."""
    rel = aliased(ProcessInstance)
    relationship = ProcessInstance.root_id  # indexed; linked instances at any depth
    timers = (select(Timer.due_at, Timer.name, ProcessInstance.id, ProcessInstance.process_id, ProcessInstance.title,
                     relationship.label("relationship_id"), rel.title.label("relationship_title"), Timer.bpmn_id)
              .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
              .join(rel, rel.id == relationship)
              .where(ProcessInstance.status == "running"))
    deadlines = (select(HumanTask.due_at, HumanTask.name, HumanTask.id, ProcessInstance.id, ProcessInstance.process_id,
                        relationship.label("relationship_id"), rel.title.label("relationship_title"),
                        HumanTask.bpmn_id, HumanTask.approval_gate)
                 .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                 .join(rel, rel.id == relationship)
                 .where(HumanTask.state == "ready", HumanTask.due_at.is_not(None)))
    if relationship_id is not None:
        timers = timers.where(relationship == relationship_id)
        deadlines = deadlines.where(relationship == relationship_id)
    if tasks is not None:
        deadlines = deadlines.where(tasks)
    visible = access.visible_relationship_ids(session, viewer) if viewer is not None else None
    if visible is not None:
        # a partner sees the timers of linked joint processes (reviews, issues) and the deadlines of joint tasks
        internal = or_(*(HumanTask.process_id.like(f"stage{n}%") for n in sorted(access.INTERNAL_STAGES)))
        timers = timers.where(relationship.in_(visible), ProcessInstance.parent_id.is_not(None))
        deadlines = deadlines.where(relationship.in_(visible), ~internal)
    if until is not None:
        timers = timers.where(Timer.due_at <= until)
        deadlines = deadlines.where(HumanTask.due_at <= until)
    entries = [
        AgendaEntry(when=row[0], kind="review" if row[3] in REVIEWS else "timer",
                    title=row[4] if row[3] in REVIEWS and row[4] else row[1] or "Timer",
                    relationship_id=row[5], relationship=row[6], instance_id=row[2], process_id=row[3], element=row[7])
        for row in session.execute(timers.order_by(Timer.due_at).limit(limit))
    ]
    entries += [
        AgendaEntry(when=row[0], kind="deadline", title=row[1], relationship_id=row[5], relationship=row[6],
                    instance_id=row[3], process_id=row[4], task_id=row[2], overdue=row[0] <= now, element=row[7],
                    gate=bool(row[8]))
        for row in session.execute(deadlines.order_by(HumanTask.due_at).limit(limit))
    ]
    return sorted(entries, key=lambda e: (e.when, e.kind, e.title))[:limit]
