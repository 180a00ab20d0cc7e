"""Processes that start on their own: on a timer (each occurrence an instance of its own, on the calendar the
diagram declares) or on a message another system sends (the API).

The next occurrence of every timer start of the latest version is a `ProcessStart` row. Rows follow the deployed
version lazily (`sync`), from the version's deploy time, so a deploy needs no extra step and a redeploy that keeps
a timer keeps its calendar. Each occurrence is claimed by moving the row on in its own transaction before the
instance starts, so any number of schedulers start it exactly once; a start that fails is recorded on the row
(and audited) and the calendar goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflows import Result, WorkflowEngine, WorkflowError
from workflows.starting import (
    MESSAGE,
    TIMER,
    StartDeclaration,
    StartSchedule,
    declarations,
    following,
    schedule,
)

from ..audit.services import record
from ..auth.models import User
from ..auth.permissions import Permission, require
from ..db import utcnow
from ..errors import NotFound
from ..notifications.services import MailSettings
from .models import ProcessStart, ProcessVersion
from .services import latest_version, run_action
from .store import bound


@dataclass(frozen=True)
class Scheduled:
    """A timer-started process as the Start page and the operations console show it."""

    process_id: str
    name: str
    timer: str
    next_at: datetime | None
    started: int
    last_started_at: datetime | None
    last_instance_id: int | None
    last_error: str | None


def _declared(session: Session, engine: WorkflowEngine, how: str) -> tuple[ProcessVersion | None,
                                                                           list[StartDeclaration]]:
    version = latest_version(session)
    if version is None:
        return None, []
    return version, [d for d in declarations(bound(engine, session).specs(version.id)) if d.how == how]


def sync(session: Session, engine: WorkflowEngine) -> list[ProcessStart]:
    """Bring the rows in line with the latest version's timer starts (not committed): a new timer schedules from
    the version's deploy time, an unchanged one moves to the new version keeping its calendar, a process that no
    longer starts on a timer has nothing more to come."""
    version, timers = _declared(session, engine, TIMER)
    rows = {row.process_id: row for row in session.scalars(select(ProcessStart))}
    if version is None:
        return []
    for declared in timers:
        row = rows.get(declared.process_id)
        if row is not None and row.version_id == version.id:
            continue
        if row is not None and row.timer == declared.timer:
            row.version_id = version.id
            continue
        planned = schedule(declared, version.created_at)
        if row is None:
            row = rows[declared.process_id] = ProcessStart(process_id=declared.process_id, started=0)
            session.add(row)
        row.version_id, row.timer, row.updated_at = version.id, declared.timer or "", utcnow()
        _plan(row, planned)
    wanted = {d.process_id for d in timers}
    for row in rows.values():
        if row.process_id not in wanted and row.next_at is not None:
            row.next_at = None
    session.flush()
    return [rows[d.process_id] for d in timers]


def _plan(row: ProcessStart, planned: StartSchedule | None) -> None:
    if planned is None:
        row.next_at, row.period, row.remaining, row.anchor = None, None, 0, None
    else:
        row.next_at, row.period, row.remaining, row.anchor = (planned.next_at, planned.period, planned.remaining,
                                                              planned.anchor)


def scheduled(session: Session, engine: WorkflowEngine) -> list[Scheduled]:
    version, timers = _declared(session, engine, TIMER)
    rows = {row.process_id: row for row in sync(session, engine)}
    session.commit()
    return [Scheduled(d.process_id, d.name, d.timer or "", rows[d.process_id].next_at, rows[d.process_id].started,
                      rows[d.process_id].last_started_at, rows[d.process_id].last_instance_id,
                      rows[d.process_id].last_error) for d in timers if d.process_id in rows]


def next_start_at(session: Session) -> datetime | None:
    return session.scalar(select(ProcessStart.next_at).where(ProcessStart.next_at.is_not(None))
                          .order_by(ProcessStart.next_at).limit(1))


def start_due(session: Session, engine: WorkflowEngine, *, now: datetime | None = None,
              mail: MailSettings | None = None) -> list[Result]:
    """Start one instance for every timer start whose occurrence has come (the scheduler, every round)."""
    now = now or utcnow()
    names = {d.process_id: d.name for d in _declared(session, engine, TIMER)[1]}
    sync(session, engine)
    session.commit()
    due = list(session.scalars(select(ProcessStart).where(ProcessStart.next_at.is_not(None),
                                                          ProcessStart.next_at <= now)
                               .order_by(ProcessStart.next_at)))
    results = []
    for row in due:
        occurrence, version_id = row.next_at, row.version_id
        after = following(StartSchedule(row.next_at, row.period, row.remaining, row.anchor), now)
        claimed = session.execute(update(ProcessStart).where(
            ProcessStart.id == row.id, ProcessStart.next_at == occurrence).values(
            next_at=after.next_at if after else None, remaining=after.remaining if after else 0,
            started=ProcessStart.started + 1, last_started_at=now, updated_at=now))
        session.commit()
        if claimed.rowcount != 1:  # another scheduler took this occurrence
            continue
        data = {"started_on": "timer", "occurrence": occurrence.isoformat(),
                "title": f"{names.get(row.process_id, row.process_id)} · {occurrence:%d %b %Y}"}
        result = _start(session, engine, version_id, row.process_id, data, now, mail, actor="scheduler")
        if isinstance(result, Result):
            results.append(result)
            session.execute(update(ProcessStart).where(ProcessStart.id == row.id).values(
                last_instance_id=result.instance_id, last_error=None))
        else:
            session.execute(update(ProcessStart).where(ProcessStart.id == row.id).values(last_error=result))
        session.commit()
    return results


def _start(session, engine, version_id, process_id, data, now, mail, *, actor, user=None) -> Result | str:
    """Start one instance past its start event; on failure the reason (recorded and audited), never a raise."""
    try:
        return run_action(session, engine, actor, now, lambda: bound(engine, session, user, now=now).start(
            version_id, process_id, data, now=now, triggered=True), mail=mail)
    except WorkflowError as exc:
        session.rollback()
        record(session, "process.start_failed", actor=actor, at=now,
               payload={"process_id": process_id, "version_id": version_id, "reason": exc.message})
        session.commit()
        return exc.message


def message_starts(session: Session, engine: WorkflowEngine) -> dict[str, list[str]]:
    """Message name -> the processes of the latest version it starts."""
    found: dict[str, list[str]] = {}
    for declared in _declared(session, engine, MESSAGE)[1]:
        found.setdefault(declared.message or "", []).append(declared.process_id)
    return found


def start_on_message(session: Session, engine: WorkflowEngine, user: User, message: str, payload: dict, *,
                     now: datetime | None = None, mail: MailSettings | None = None) -> list[Result]:
    """Start every process of the latest version whose start event catches `message`, with `payload` as its
    data. Raises Forbidden (administrators and integrations only), NotFound (no process starts on it, with the
    messages that do), InvalidData (the payload)."""
    require(user, Permission.ADMINISTER_INSTANCES, "messages are sent by administrators and integrations")
    now = now or utcnow()
    version = latest_version(session)
    known = message_starts(session, engine)
    if version is None or message not in known:
        raise NotFound(f"no process starts on the message {message!r}"
                       + (f"; messages that start one: {', '.join(sorted(known))}" if known else ""))
    results = []
    for process_id in known[message]:
        results.append(run_action(session, engine, user, now, lambda p=process_id: bound(
            engine, session, user, now=now, started_by_id=user.id).start(
            version.id, p, {**payload, "started_on": "message", "message": message}, now=now, triggered=True),
            mail=mail))
    return results
