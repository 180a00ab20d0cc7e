"""Deployed versions, running instances, and the rows derived from them on every save.

Human tasks and timers are relational rows, kept in sync with the instance state in the same
transaction, so inboxes and the scheduler query indexed rows and never load a workflow.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, JSONType, UTCDateTime, utcnow


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

    files: Mapped[list[VersionFile]] = relationship(cascade="all, delete-orphan", order_by="VersionFile.name",
                                                    lazy="selectin")


class VersionFile(Base):
    __tablename__ = "version_files"
    __table_args__ = (UniqueConstraint("version_id", "kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # bpmn | form
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
