"""SqlInstanceStore: the engine's storage port on SQLAlchemy, inside the caller's transaction.

It never commits. `save_instance` is one conditional UPDATE on (id, revision): zero rows means someone
else saved first, and the caller's whole unit of work is refused with Conflict.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from workflows import (
    Conflict,
    InstanceNotFound,
    InstanceRecord,
    SpecNotFound,
    StoredVersion,
    TimerDue,
    UserTask,
)

from ..db import utcnow
from .lanes import lane_role
from .models import HumanTask, ProcessInstance, ProcessVersion, Timer, VersionFile


class SqlInstanceStore:
    def __init__(self, session: Session, *, actor_id: int | None = None, now: datetime | None = None,
                 started_by_id: int | None = None, title: str | None = None):
        self.session = session
        self.actor_id = actor_id
        self.now = now
        self.started_by_id = started_by_id
        self.title = title

    def _now(self) -> datetime:
        return self.now or utcnow()

    # versions ----------------------------------------------------------------
    def add_version(self, version: StoredVersion) -> int:
        row = ProcessVersion(content_hash=version.content_hash, author=version.author, message=version.message,
                             process_ids=list(version.process_ids), spec_json=version.spec_json,
                             created_at=self._now(), author_id=self.actor_id)
        row.files = [VersionFile(kind="bpmn", name=n, content=c) for n, c in sorted(version.files.items())]
        row.files += [VersionFile(kind="form", name=n, content=c) for n, c in sorted(version.forms.items())]
        self.session.add(row)
        self.session.flush()
        return row.id

    def get_version(self, version_id: int) -> StoredVersion:
        row = self.session.get(ProcessVersion, version_id)
        if row is None:
            raise SpecNotFound(f"version {version_id} does not exist")
        return StoredVersion(row.id, {f.name: f.content for f in row.files if f.kind == "bpmn"},
                             {f.name: f.content for f in row.files if f.kind == "form"}, row.content_hash,
                             row.spec_json, list(row.process_ids), row.author, row.message)

    # instances ---------------------------------------------------------------
    def create_instance(self, record: InstanceRecord) -> int:
        now = self._now()
        result = self.session.execute(insert(ProcessInstance).values(
            version_id=record.version_id, process_id=record.process_id, parent_id=record.parent_id,
            title=self.title if record.parent_id is None else None, status=record.status, state=record.state,
            state_format=record.state_format, revision=1, data=record.data, started_by_id=self.started_by_id,
            created_at=now, updated_at=now, completed_at=now if record.status != "running" else None,
        ).returning(ProcessInstance.id))
        instance_id = result.scalar_one()
        record.id = instance_id
        self._sync_rows(record, existing_ready={})
        return instance_id

    def get_instance(self, instance_id: int) -> InstanceRecord:
        row = self.session.execute(
            select(ProcessInstance.id, ProcessInstance.version_id, ProcessInstance.process_id,
                   ProcessInstance.status, ProcessInstance.state, ProcessInstance.state_format,
                   ProcessInstance.revision, ProcessInstance.parent_id)
            .where(ProcessInstance.id == instance_id)).one_or_none()
        if row is None:
            raise InstanceNotFound(f"instance {instance_id} does not exist")
        record = InstanceRecord(row.id, row.version_id, row.process_id, row.status, row.state, row.state_format,
                                row.revision, row.parent_id)
        tasks = self.session.execute(
            select(HumanTask.task_id, HumanTask.bpmn_id, HumanTask.name, HumanTask.lane, HumanTask.process_id,
                   HumanTask.form_key, HumanTask.ui_form_key, HumanTask.properties, HumanTask.subprocess_id)
            .where(HumanTask.instance_id == instance_id, HumanTask.state == "ready")).all()
        record.ready_tasks = [UserTask(id=t.task_id, bpmn_id=t.bpmn_id, name=t.name, lane=t.lane,
                                       process_id=t.process_id, form=t.form_key, ui_form=t.ui_form_key,
                                       instructions=None, documentation=None, properties=t.properties or {},
                                       subprocess_id=t.subprocess_id) for t in tasks]
        timers = self.session.execute(
            select(Timer.task_id, Timer.bpmn_id, Timer.name, Timer.due_at, Timer.kind)
            .where(Timer.instance_id == instance_id)).all()
        record.timers = [TimerDue(t.task_id, t.bpmn_id, t.name, t.due_at, t.kind) for t in timers]
        return record

    def save_instance(self, record: InstanceRecord) -> int:
        now = self._now()
        values = dict(status=record.status, state=record.state, state_format=record.state_format,
                      revision=record.revision + 1, updated_at=now)
        if record.status != "running":
            values.update(completed_at=now, data=record.data)
        result = self.session.execute(
            update(ProcessInstance)
            .where(ProcessInstance.id == record.id, ProcessInstance.revision == record.revision)
            .values(**values))
        if result.rowcount != 1:
            raise Conflict(f"instance {record.id} was changed by someone else since it was read; "
                           "nothing was saved, reload and try again", instance_id=record.id)
        existing = dict(self.session.execute(
            select(HumanTask.task_id, HumanTask.id)
            .where(HumanTask.instance_id == record.id, HumanTask.state == "ready")).all())
        self._sync_rows(record, existing)
        return record.revision + 1

    def linked_instances(self, parent_id, process_id=None, status="running"):
        query = select(ProcessInstance.id).where(ProcessInstance.parent_id == parent_id)
        if process_id is not None:
            query = query.where(ProcessInstance.process_id == process_id)
        if status is not None:
            query = query.where(ProcessInstance.status == status)
        return list(self.session.scalars(query.order_by(ProcessInstance.id)))

    # derived rows ------------------------------------------------------------
    def _sync_rows(self, record: InstanceRecord, existing_ready: dict[str, int]):
        now = self._now()
        ready_ids = {t.id for t in record.ready_tasks}
        for task_id, row_id in existing_ready.items():
            if task_id in ready_ids:
                continue
            state = record.closed_tasks.get(task_id, "cancelled")
            values = dict(state=state, completed_at=now)
            if state == "completed":
                values["completed_by_id"] = self.actor_id
            self.session.execute(update(HumanTask).where(HumanTask.id == row_id).values(**values))
        new_rows = []
        for task in record.ready_tasks:
            if task.id in existing_ready:
                continue
            mapped = lane_role(task.lane)
            new_rows.append(dict(
                instance_id=record.id, task_id=task.id, bpmn_id=task.bpmn_id, name=task.name,
                process_id=task.process_id, subprocess_id=task.subprocess_id, lane=task.lane,
                role=mapped.role if mapped else None, partner_side=bool(mapped and mapped.partner_side),
                approval_gate=str(task.properties.get("approvalGate", "")).lower() == "true",
                form_key=task.form, ui_form_key=task.ui_form, properties=task.properties, state="ready",
                created_at=now))
        if new_rows:
            self.session.execute(insert(HumanTask), new_rows)
        self.session.execute(delete(Timer).where(Timer.instance_id == record.id))
        if record.timers:
            self.session.execute(insert(Timer), [
                dict(instance_id=record.id, task_id=t.task_id, bpmn_id=t.bpmn_id, name=t.name, kind=t.kind,
                     due_at=t.due_at) for t in record.timers])
