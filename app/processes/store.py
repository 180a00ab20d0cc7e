"""SqlInstanceStore: the engine's storage port on SQLAlchemy, inside the caller's transaction.

It never commits. `save_instance` is one conditional UPDATE on (id, revision): zero rows means someone
else saved first, and the caller's whole unit of work is refused with Conflict.

This is the hot path of every user action, so it speaks SQLAlchemy Core on the session's connection,
remembers the rows it read for the save that follows, and skips timer rows when they did not change.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import bindparam, delete, func, insert, literal, literal_column, select, text, update
from sqlalchemy.orm import Session

from workflows import (
    Conflict,
    InstanceNotFound,
    InstanceRecord,
    SpecNotFound,
    StoredVersion,
    TimerDue,
    UserTask,
    WorkflowEngine,
)

from ..db import utcnow
from . import timer_notices
from .lanes import LaneRole, lane_role, resolved
from .models import HumanTask, ProcessInstance, ProcessVersion, Timer, VersionFile, file_kind


def version_lanes(session, version_id: int) -> dict[str, LaneRole]:
    """Which role works which lane in a version: the product's lane names and the mapping it was deployed with.
    Read once per session (a request): versions never change, but ids are only unique within one database."""
    known = session.info.setdefault("version_lanes", {})
    found = known.get(version_id)
    if found is None:
        custom = session.execute(select(ProcessVersion.lane_roles).where(ProcessVersion.id == version_id)).scalar()
        found = known[version_id] = resolved(custom)
    return found


def know_lanes(session, version_id: int, custom: dict | None) -> None:
    """Tell this session a version's lane mapping read along with something else (saves version_lanes a query)."""
    session.info.setdefault("version_lanes", {}).setdefault(version_id, resolved(custom))


# The hot path's statements, built once: SQLAlchemy then reuses their cache keys and compiled forms.
_READY_FIELDS = {"id": HumanTask.id, "task_id": HumanTask.task_id, "bpmn_id": HumanTask.bpmn_id,
                 "name": HumanTask.name, "lane": HumanTask.lane, "process_id": HumanTask.process_id,
                 "form_key": HumanTask.form_key, "ui_form_key": HumanTask.ui_form_key,
                 "subprocess_id": HumanTask.subprocess_id, "properties": HumanTask.properties}


def _ready_tasks_json(dialect: str):
    """SQL: the instance's ready task rows as one JSON array, a column beside the instance's own (one statement
    instead of two on every action; on PostgreSQL each is a round trip)."""
    pairs = []
    for key, column in _READY_FIELDS.items():
        pairs += [literal(key), func.json(column) if key == "properties" and dialect != "postgresql" else column]
    if dialect == "postgresql":
        rows = func.coalesce(func.json_agg(func.json_build_object(*pairs)), literal_column("'[]'::json"))
    else:
        rows = func.json_group_array(func.json_object(*pairs))
    return (select(rows).where(HumanTask.instance_id == ProcessInstance.id, HumanTask.state == "ready")
            .correlate(ProcessInstance).scalar_subquery().label("ready_tasks"))


INSTANCE_COLUMNS = (
    ProcessInstance.id, ProcessInstance.version_id, ProcessInstance.process_id, ProcessInstance.status,
    ProcessInstance.state, ProcessInstance.state_format, ProcessInstance.revision, ProcessInstance.parent_id,
    ProcessInstance.next_due_at,
)
_READY_JSON = {dialect: _ready_tasks_json(dialect) for dialect in ("postgresql", "sqlite")}
_SELECT_INSTANCE = {dialect: select(*INSTANCE_COLUMNS, ready).where(ProcessInstance.id == bindparam("instance_id"))
                    for dialect, ready in _READY_JSON.items()}


def dialect_of(session: Session) -> str:
    """Which of the two kinds of statements above a session needs: "postgresql" or "sqlite"."""
    return "postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"


def instance_columns(dialect: str) -> tuple:
    """The columns `get_instance` reads (the instance's, then its ready tasks as JSON), for a caller that reads
    the instance along with something else and hands the row over as `preloaded` (see SqlInstanceStore)."""
    return (*INSTANCE_COLUMNS, _READY_JSON[dialect])


_SELECT_TIMERS = select(Timer.task_id, Timer.bpmn_id, Timer.name, Timer.due_at, Timer.kind).where(
    Timer.instance_id == bindparam("instance_id")).order_by(Timer.due_at)

def _setting(statement, *columns):
    return statement.values({column: bindparam("new_" + column) for column in columns})


_SAVE_WHERE = update(ProcessInstance).where(
    ProcessInstance.id == bindparam("instance_id"), ProcessInstance.revision == bindparam("expected"))
_SAVED = ("version_id", "status", "state", "state_format", "revision", "updated_at", "next_due_at", "error",
          "error_at")
_SAVE_RUNNING = _setting(_SAVE_WHERE, *_SAVED)
_SAVE_ENDED = _setting(_SAVE_WHERE, *_SAVED, "completed_at", "data")
_NOTIFY = text("SELECT pg_notify(:channel, :due)")
_CLOSE_WHERE = update(HumanTask).where(HumanTask.id == bindparam("row_id"))
_CLOSE_COMPLETED = _setting(_CLOSE_WHERE, "state", "completed_at", "completed_by_id", "submitted")
_CLOSE_CANCELLED = _setting(_CLOSE_WHERE, "state", "completed_at")
_INSERT_TASKS = insert(HumanTask)
_PARENT = ProcessInstance.__table__.alias("parent")
_SET_OWN_ROOT = update(ProcessInstance).where(ProcessInstance.id == bindparam("instance_id")).values(
    root_id=ProcessInstance.id)
_DELETE_TIMERS = delete(Timer).where(Timer.instance_id == bindparam("instance_id"))
_INSERT_TIMERS = insert(Timer)


class SqlInstanceStore:
    def __init__(self, session: Session, *, actor_id: int | None = None, now: datetime | None = None,
                 started_by_id: int | None = None, title: str | None = None,
                 submitted: dict[str, dict] | None = None, preloaded=None):
        self.session = session
        self.actor_id = actor_id
        self.now = now
        self.started_by_id = started_by_id
        self.title = title
        self.submitted = submitted or {}  # engine task id -> the form data a person completed it with
        self._ready_rows: dict[int, dict[str, int]] = {}  # instance id -> {engine task id: row id}, as read
        self._timers: dict[int, list[TimerDue]] = {}  # instance id -> timers as read
        # a row of `instance_columns` the caller read along with something else: the next get_instance of that
        # instance uses it instead of reading again (once: after that, reads are fresh)
        self._preloaded = {preloaded.id: preloaded} if preloaded is not None else {}

    def _execute(self, statement, parameters=None):
        return self.session.connection().execute(statement, parameters)

    def _now(self) -> datetime:
        return self.now or utcnow()

    # versions ----------------------------------------------------------------
    def add_version(self, version: StoredVersion) -> int:
        row = ProcessVersion(content_hash=version.content_hash, author=version.author, message=version.message,
                             process_ids=list(version.process_ids), spec_json=version.spec_json,
                             created_at=self._now(), author_id=self.actor_id)
        row.files = [VersionFile(kind=file_kind(n), name=n, content=c) for n, c in sorted(version.files.items())]
        row.files += [VersionFile(kind="form", name=n, content=c) for n, c in sorted(version.forms.items())]
        self.session.add(row)
        self.session.flush()
        return row.id

    def get_version(self, version_id: int) -> StoredVersion:
        row = self.session.get(ProcessVersion, version_id)
        if row is None:
            raise SpecNotFound(f"version {version_id} does not exist")
        return StoredVersion(row.id, row.engine_files(), row.form_files(), row.content_hash,
                             row.spec_json, list(row.process_ids), row.author, row.message)

    # instances ---------------------------------------------------------------
    def create_instance(self, record: InstanceRecord) -> int:
        now = self._now()
        # root_id: the parent's relationship (the parent itself when its row predates root_id); a top-level
        # instance is its own relationship, set just below once its id is known.
        root_id = None if record.parent_id is None else (
            select(func.coalesce(_PARENT.c.root_id, _PARENT.c.id)).where(_PARENT.c.id == record.parent_id)
            .scalar_subquery())
        result = self._execute(insert(ProcessInstance).values(
            version_id=record.version_id, process_id=record.process_id, parent_id=record.parent_id,
            root_id=root_id,
            title=(self.title if record.parent_id is None else None) or record.title, status=record.status,
            state=record.state,
            state_format=record.state_format, revision=1, data=record.data, started_by_id=self.started_by_id,
            created_at=now, updated_at=now, completed_at=now if record.status != "running" else None,
            next_due_at=record.timers[0].due_at if record.timers else None,
        ).returning(ProcessInstance.id))
        instance_id = result.scalar_one()
        if record.parent_id is None:
            self._execute(_SET_OWN_ROOT, {"instance_id": instance_id})
        record.id = instance_id
        self._sync_rows(record, existing_ready={}, timers_before=[])
        if record.timers:
            self._notify_scheduler(record.timers[0].due_at)
        return instance_id

    def get_instance(self, instance_id: int) -> InstanceRecord:
        row = self._preloaded.pop(instance_id, None)
        if row is None:
            row = self._execute(_SELECT_INSTANCE[self._dialect()], {"instance_id": instance_id}).one_or_none()
        if row is None:
            raise InstanceNotFound(f"instance {instance_id} does not exist")
        record = InstanceRecord(row.id, row.version_id, row.process_id, row.status, row.state, row.state_format,
                                row.revision, row.parent_id)
        tasks = row.ready_tasks
        tasks = json.loads(tasks) if isinstance(tasks, str) else (tasks or [])
        record.ready_tasks = [UserTask(id=t["task_id"], bpmn_id=t["bpmn_id"], name=t["name"], lane=t["lane"],
                                       process_id=t["process_id"], form=t["form_key"], ui_form=t["ui_form_key"],
                                       instructions=None, documentation=None, properties=t["properties"] or {},
                                       subprocess_id=t["subprocess_id"])
                              for t in sorted(tasks, key=lambda t: t["id"])]
        self._ready_rows[instance_id] = {t["task_id"]: t["id"] for t in tasks}
        if row.next_due_at is None:  # no waiting timer: no query
            record.timers = []
        else:
            timers = self._execute(_SELECT_TIMERS, {"instance_id": instance_id}).all()
            record.timers = [TimerDue(t.task_id, t.bpmn_id, t.name, t.due_at, t.kind) for t in timers]
        self._timers[instance_id] = list(record.timers)
        return record

    def _dialect(self) -> str:
        return dialect_of(self.session)

    def save_instance(self, record: InstanceRecord) -> int:
        now = self._now()
        next_due = record.timers[0].due_at if record.timers else None
        values = dict(version_id=record.version_id, status=record.status, state=record.state, state_format=record.state_format,
                      revision=record.revision + 1, updated_at=now, next_due_at=next_due, error=None, error_at=None)
        if record.status != "running":
            values.update(completed_at=now, data=record.data)
        statement = _SAVE_RUNNING if record.status == "running" else _SAVE_ENDED
        result = self._execute(statement, {"instance_id": record.id, "expected": record.revision,
                                           **{"new_" + k: v for k, v in values.items()}})
        if result.rowcount != 1:
            raise Conflict(f"instance {record.id} was changed by someone else since it was read; "
                           "nothing was saved, reload and try again", instance_id=record.id)
        existing = self._ready_rows.pop(record.id, None)
        timers_before = self._timers.pop(record.id, None)
        if existing is None:  # saved without being read through this store
            existing = {row.task_id: row.id for row in self._execute(
                select(HumanTask.task_id, HumanTask.id)
                .where(HumanTask.instance_id == record.id, HumanTask.state == "ready"))}
        self._sync_rows(record, existing, timers_before)
        if next_due is not None:
            self._notify_scheduler(next_due)
        return record.revision + 1

    def _notify_scheduler(self, due_at: datetime) -> None:
        """PostgreSQL tells listening schedulers in other processes at commit (and drops it on rollback)."""
        if self.session.get_bind().dialect.name == "postgresql":
            self._execute(_NOTIFY, {"channel": timer_notices.CHANNEL, "due": due_at.isoformat()})

    def linked_instances(self, parent_id, process_id=None, status="running"):
        query = select(ProcessInstance.id).where(ProcessInstance.parent_id == parent_id)
        if process_id is not None:
            query = query.where(ProcessInstance.process_id == process_id)
        if status is not None:
            query = query.where(ProcessInstance.status == status)
        return list(self._execute(query.order_by(ProcessInstance.id)).scalars())

    # derived rows ------------------------------------------------------------
    def _sync_rows(self, record: InstanceRecord, existing_ready: dict[str, int], timers_before):
        now = self._now()
        ready_ids = {t.id for t in record.ready_tasks}
        for task_id, row_id in existing_ready.items():
            if task_id in ready_ids:
                continue
            state = record.closed_tasks.get(task_id, "cancelled")
            if state == "completed":
                self._execute(_CLOSE_COMPLETED, {"row_id": row_id, "new_state": state, "new_completed_at": now,
                                                 "new_completed_by_id": self.actor_id,
                                                 "new_submitted": self.submitted.get(task_id)})
            else:
                self._execute(_CLOSE_CANCELLED, {"row_id": row_id, "new_state": state, "new_completed_at": now})
        new_rows = []
        lanes = version_lanes(self.session, record.version_id) if record.ready_tasks else None
        for task in record.ready_tasks:
            if task.id in existing_ready:
                continue
            mapped = lane_role(task.lane, lanes)
            new_rows.append(dict(
                instance_id=record.id, task_id=task.id, bpmn_id=task.bpmn_id, name=task.name,
                process_id=task.process_id, subprocess_id=task.subprocess_id, lane=task.lane,
                # outside a mapped lane any staff member may work it: say so in the row, so that inboxes
                # filter on a plain `role IN (...)` the (state, role) index serves
                role=mapped.role if mapped else "staff", partner_side=bool(mapped and mapped.partner_side),
                joint=bool(mapped and mapped.joint),
                approval_gate=str(task.properties.get("approvalGate", "")).lower() == "true",
                due_at=task.due_at,
                form_key=task.form, ui_form_key=task.ui_form, properties=task.properties, state="ready",
                created_at=now))
        if new_rows:
            self._execute(_INSERT_TASKS, new_rows)
        if timers_before is not None and _timer_keys(timers_before) == _timer_keys(record.timers):
            return
        if timers_before is None or timers_before:
            self._execute(_DELETE_TIMERS, {"instance_id": record.id})
        if record.timers:
            self._execute(_INSERT_TIMERS, [
                dict(instance_id=record.id, task_id=t.task_id, bpmn_id=t.bpmn_id, name=t.name, kind=t.kind,
                     due_at=t.due_at) for t in record.timers])


def _timer_keys(timers) -> set:
    return {(t.task_id, t.due_at) for t in timers}



def bound(engine: WorkflowEngine, session: Session, user=None, *, now: datetime | None = None, **store_options):
    """The engine working on this session's rows, acting for `user` (None: the system): the one way the app
    reaches running instances. `store_options` go to SqlInstanceStore (started_by_id, title, submitted)."""
    return engine.using(SqlInstanceStore(session, actor_id=getattr(user, "id", None), now=now, **store_options))
