"""Deployed versions, running instances, and the rows derived from them on every save.

Human tasks and timers are relational rows, kept in sync with the instance state in the same
transaction, so inboxes and the scheduler query indexed rows and never load a workflow.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..db import Base, JSONType, UTCDateTime, utcnow

ENGINE_KINDS = ("bpmn", "dmn")  # the files the engine reads: BPMN diagrams and DMN decision tables
SCENARIO_KIND = "scenario"  # a scenario that proves the version (workflows.scenarios), run before it is deployed


def file_kind(name: str) -> str:
    """How a file the engine reads is stored: `dmn` for a decision table, `bpmn` for a diagram."""
    return "dmn" if name.lower().endswith(".dmn") else "bpmn"


class ProcessVersion(Base):
    __tablename__ = "process_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author: Mapped[str | None] = mapped_column(String(80))
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    process_ids: Mapped[list] = mapped_column(JSONType, default=list)
    spec_json: Mapped[str] = mapped_column(Text)
    # lanes the process owner mapped to roles (lane name -> {"role", "partner_side"}), on top of the product's own
    # lane names (app.processes.lanes); each version keeps the mapping it was deployed with
    lane_roles: Mapped[dict | None] = mapped_column(JSONType)

    files: Mapped[list[VersionFile]] = relationship(cascade="all, delete-orphan", order_by="VersionFile.name",
                                                    lazy="selectin")

    def engine_files(self) -> dict[str, bytes]:
        """{name: bytes} of the diagrams and decision tables: what a deploy of the same version is given."""
        return {f.name: f.content for f in self.files if f.kind in ENGINE_KINDS}

    def form_files(self) -> dict[str, bytes]:
        return {f.name: f.content for f in self.files if f.kind == "form"}

    def scenario_files(self) -> dict[str, bytes]:
        return {f.name: f.content for f in self.files if f.kind == SCENARIO_KIND}


class VersionFile(Base):
    __tablename__ = "version_files"
    __table_args__ = (UniqueConstraint("version_id", "kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # bpmn | dmn | form | scenario
    name: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ProcessInstance(Base):
    __tablename__ = "process_instances"
    __table_args__ = (Index("ix_process_instances_parent_id_process_id", "parent_id", "process_id"),
                      Index("ix_process_instances_root_id", "root_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(255))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    # The relationship it belongs to: the top of its chain of parents, its own id for a relationship. Set by
    # the store when the row is inserted and never changed (derived, like next_due_at: no foreign key).
    root_id: Mapped[int | None] = mapped_column()
    title: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), index=True)  # running | completed | cancelled
    state: Mapped[str] = mapped_column(Text)
    state_format: Mapped[int]
    revision: Mapped[int] = mapped_column(default=1)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # earliest waiting timer, if any
    error: Mapped[str | None] = mapped_column(Text)  # why the scheduler could not run it; cleared by a save
    error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # set while an administrator holds it still: people cannot complete its tasks and the scheduler leaves its
    # timers until it is resumed (like `error`, but on purpose; a save does not clear it)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    suspended_reason: Mapped[str | None] = mapped_column(Text)
    suspended_by: Mapped[User | None] = relationship(foreign_keys=[suspended_by_id])
    data: Mapped[dict] = mapped_column(JSONType, default=dict)  # final data once completed
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HumanTask(Base):
    __tablename__ = "human_tasks"
    __table_args__ = (
        UniqueConstraint("instance_id", "task_id"),
        Index("ix_human_tasks_state_role", "state", "role"),
        Index("ix_human_tasks_assignee_id_state", "assignee_id", "state"),
        Index("ix_human_tasks_subprocess_id", "subprocess_id"),
        Index("ix_human_tasks_state_due_at", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))  # the engine's task UUID
    bpmn_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(300))
    process_id: Mapped[str] = mapped_column(String(255))  # the (called) process holding the task
    subprocess_id: Mapped[str | None] = mapped_column(String(36))  # groups one stage run's tasks
    lane: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str | None] = mapped_column(String(30))  # always a concrete role: "staff" outside mapped lanes
    partner_side: Mapped[bool] = mapped_column(default=False)  # lane belongs to the partner organisation
    # both organisations work the lane (the joint teams); server-side default: older schemas' inserts omit it
    joint: Mapped[bool] = mapped_column(server_default=false())
    approval_gate: Mapped[bool] = mapped_column(default=False)  # an SER gate: four eyes apply
    form_key: Mapped[str | None] = mapped_column(String(255))
    ui_form_key: Mapped[str | None] = mapped_column(String(255))
    properties: Mapped[dict] = mapped_column(JSONType, default=dict)
    state: Mapped[str] = mapped_column(String(20))  # ready | completed | cancelled
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted: Mapped[dict | None] = mapped_column(JSONType)  # the form data it was completed with: evidence
    due_soon_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Timer(Base):
    __tablename__ = "timers"
    __table_args__ = (UniqueConstraint("instance_id", "task_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(10))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class InstanceMove(Base):
    """One instance moved to another version, with the state it had before, so the move can be undone."""

    __tablename__ = "instance_moves"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"), index=True)
    from_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    to_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    old_state: Mapped[str] = mapped_column(Text)
    revision_after: Mapped[int]  # the undo is refused once the instance moved on from this revision
    moved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProcessStart(Base):
    """When a process whose start event is a timer starts its next instance (one row per such process of the
    latest version): each occurrence starts an instance of its own, on the calendar the diagram declares."""

    __tablename__ = "process_starts"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(255), unique=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    timer: Mapped[str] = mapped_column(String(300))  # as the diagram writes it: R/P1M, P7D, a date-time
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # None: no start to come
    period: Mapped[str | None] = mapped_column(String(40))
    remaining: Mapped[int | None] = mapped_column()  # starts still to make; None: for ever
    anchor: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started: Mapped[int] = mapped_column(default=0)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id", ondelete="SET NULL"))
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TokenMove(Base):
    """A token move proposed by one administrator (back to an element done before, or past a waiting task), with
    the dry run it was proposed on; applied only once a second administrator approves it (four eyes)."""

    __tablename__ = "token_moves"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"), index=True)
    from_task_id: Mapped[str] = mapped_column(String(36))  # the engine's id of the waiting task whose token moves
    from_name: Mapped[str] = mapped_column(String(300))
    to_element: Mapped[str | None] = mapped_column(String(255))  # the element reopened; None: skip the task
    to_name: Mapped[str | None] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)
    revision: Mapped[int]  # the instance's revision the dry run was made on: approval is refused once it moved on
    preview: Mapped[dict] = mapped_column(JSONType, default=dict)  # the dry run: withdrawn, ready, status, timers
    status: Mapped[str] = mapped_column(String(20), index=True)  # pending | applied | rejected | outdated
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)

    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")
    instance: Mapped[ProcessInstance] = relationship(lazy="joined")
