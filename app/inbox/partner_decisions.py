"""Joint tasks of an alliance: a task in a partner-side lane of a relationship with several partner organisations
is decided by each partner organisation's SER, without drawing a lane per partner.

Each organisation's submission is validated like any completion, kept (`PartnerDecision`) and audited
(`task.partner_decided`); the task stays ready, and in the inbox of the partners still awaited. The last
organisation's submission completes the engine task, once, with the answers combined by `partner_rules` plus
`partner_decisions` ({engine task id: each organisation's own answers, in the order the partners are named}). A relationship with one
partner never comes here: its partner SER completes the task as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflows import Conflict, Result, TaskNotReady, WorkflowEngine

from ..access import services as access
from ..audit.services import record
from ..auth.models import User
from ..errors import Forbidden
from ..notifications.services import MailSettings
from ..processes.models import HumanTask, ProcessInstance
from ..processes.services import check_can_work_on, complete_task, suspended, validated_schema
from . import partner_rules
from .models import PartnerDecision


@dataclass
class Decided:
    organisation_id: int
    organisation: str
    by: str
    at: datetime
    data: dict


@dataclass
class Standing:
    """Who has decided a joint task of several partners, and who is awaited."""

    decided: list[Decided]
    awaited: list[str]  # the names of the partner organisations still to decide


def may_take_several(row: HumanTask) -> bool:
    """Whether `row` is of the kind several partners decide (a partner-side task, not a joint team's): whether it
    does depends on the relationship's partners (`partners_of`). Reads the row only."""
    return row.partner_side and not row.joint


def partners_of(session: Session, row: HumanTask) -> list[tuple[int, str]]:
    """(organisation id, name) of the partners whose SERs must each decide `row`; empty when one partner's SER
    completes it alone (our own tasks, joint-team tasks, a relationship with one partner)."""
    if not may_take_several(row):
        return []
    relationship_id = access.root_id(session, row.instance_id)
    found = access.partners(session, relationship_id) if relationship_id is not None else []
    return found if len(found) > 1 else []


def applies(session: Session, row: HumanTask) -> bool:
    return bool(partners_of(session, row))


def standing(session: Session, row: HumanTask) -> Standing | None:
    """None unless `row` is decided by several partner organisations."""
    partners = partners_of(session, row)
    if not partners:
        return None
    found = {d.organisation_id: d for d, _name in session.execute(
        select(PartnerDecision, User.display_name).join(User, User.id == PartnerDecision.user_id)
        .where(PartnerDecision.human_task_id == row.id))}
    people = dict(session.execute(select(User.id, User.display_name).where(
        User.id.in_([d.user_id for d in found.values()] or [-1]))).all())
    decided = [Decided(org, name, people.get(found[org].user_id, "?"), found[org].decided_at, found[org].data or {})
               for org, name in partners if org in found]
    if row.state != "ready":  # what was decided then (a partner added since was never asked)
        return Standing(decided, []) if decided else None
    return Standing(decided, [name for org, name in partners if org not in found])


def already_decided(session: Session, user: User, row: HumanTask) -> str | None:
    """Why `user` may not decide `row` again: their organisation already has (None otherwise)."""
    if not user.is_partner:
        return None
    at = session.scalar(select(PartnerDecision.decided_at).where(
        PartnerDecision.human_task_id == row.id, PartnerDecision.organisation_id == user.organisation_id))
    if at is None:
        return None
    return f"Your organisation decided this task on {at:%Y-%m-%d %H:%M} UTC; it waits for the other partners"


BeforeRun = Callable[[HumanTask, dict | None, dict], None]


def decide(session: Session, engine: WorkflowEngine, user: User, row: HumanTask, data: dict, *, now: datetime,
           mail: MailSettings | None = None, before_run: BeforeRun | None = None,
           before_keep: BeforeRun | None = None) -> Result:
    """Record `user`'s organisation's decision on `row`; the last organisation's completes the task with the
    combination. `before_run` is the caller's checks and writes for a completion (`complete_task`), `before_keep`
    theirs for a decision that completes nothing yet; both run in the decision's transaction. Raises Forbidden
    (not one of the partners, its organisation decided already, role, four eyes), InvalidData, TaskNotReady,
    Conflict, and what the callbacks raise."""
    partners = partners_of(session, row)
    if not user.is_partner or user.organisation_id not in {org for org, _name in partners}:
        raise Forbidden(f"the task {row.name!r} is decided by the SER of each partner organisation of the "
                        "relationship")
    instance = session.get(ProcessInstance, row.instance_id)
    if row.state != "ready":
        raise TaskNotReady(f"the task {row.name!r} is already {row.state}", task_id=row.task_id)
    if instance.suspended_at is not None:
        raise suspended(instance, f"the task {row.name!r} cannot be decided")
    check_can_work_on(session, user, row)
    if session.get_bind().dialect.name == "postgresql":  # two last partners at once: the second waits, then
        session.execute(select(HumanTask.id).where(HumanTask.id == row.id).with_for_update())  # sees the first
    refused = already_decided(session, user, row)
    if refused:
        raise Forbidden(refused)
    data = dict(data or {})
    schema = validated_schema(session, engine, row, instance.version_id, data)
    name = dict(partners)[user.organisation_id]
    earlier = {d.organisation_id: d for d in session.scalars(
        select(PartnerDecision).where(PartnerDecision.human_task_id == row.id))}
    awaited = [n for org, n in partners if org not in earlier and org != user.organisation_id]

    def keep(target: HumanTask) -> None:
        session.add(PartnerDecision(human_task_id=target.id, organisation_id=user.organisation_id, user_id=user.id,
                                    data=data, decided_at=now))
        record(session, "task.partner_decided", actor=user, instance_id=target.instance_id, task_id=target.task_id,
               at=now, payload={"human_task_id": target.id, "name": target.name, "organisation": name,
                                "organisation_id": user.organisation_id, "fields": sorted(data),
                                "awaited": awaited})
        try:
            session.flush()
        except IntegrityError:
            raise Conflict(f"{name} decided {target.name!r} a moment ago; reload") from None

    if awaited:
        try:
            if before_keep is not None:
                before_keep(row, schema, dict(data))
            keep(row)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        return Result(instance.id, instance.process_id, instance.version_id, instance.status, instance.revision)

    answers = [(n, earlier[org].data if org in earlier else data) for org, n in partners]
    # each organisation's own answers, under the engine task's id: a parallel join deep-merges the other branch's
    # copy of the data into this one, and that copy still holds an earlier round's decisions under the same name
    # (a list there would be overwritten item by item; a new key is kept)
    combined = {**partner_rules.combine(schema, [(n, d or {}) for n, d in answers]),
                "partner_decisions": {row.task_id: [_entry(session, org, n, earlier.get(org), user, data, now)
                                                    for org, n in partners]}}

    def complete_with_all(target: HumanTask, checked_schema: dict | None, submitted: dict) -> None:
        if before_run is not None:
            before_run(target, checked_schema, submitted)
        keep(target)
        # the engine and the task's record get the combination: the same dict complete_task hands on
        submitted.clear()
        submitted.update(combined)

    return complete_task(session, engine, user=user, human_task_id=row.id, data=data, now=now,
                         before_run=complete_with_all, mail=mail)


def _entry(session: Session, organisation_id: int, name: str, decision: PartnerDecision | None, user: User,
           data: dict, now: datetime) -> dict:
    if decision is None:  # the organisation deciding now
        return {"organisation": name, "organisation_id": organisation_id, "decided_by": user.display_name,
                "decided_at": now.isoformat(), "data": data}
    who = session.get(User, decision.user_id)
    return {"organisation": name, "organisation_id": organisation_id,
            "decided_by": who.display_name if who else None, "decided_at": decision.decided_at.isoformat(),
            "data": decision.data or {}}
