"""Register entries and their history. An entry is keyed by its register and a normalised name (the risk,
the idea, the asset, ...), so a later task that lists the same risk updates it instead of adding a copy."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, JSONType, UTCDateTime, utcnow


class RegisterEntry(Base):
    __tablename__ = "register_entries"
    __table_args__ = (UniqueConstraint("relationship_id", "register", "key"),
                      Index("ix_register_entries_register_removed", "register", "removed"))

    id: Mapped[int] = mapped_column(primary_key=True)
    relationship_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"))
    register: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict] = mapped_column(JSONType, default=dict)
    joint: Mapped[bool] = mapped_column(default=False)  # shared with the partner organisation
    removed: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)
    source: Mapped[str] = mapped_column(String(120))  # "form" or the task it came from
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class RegisterChange(Base):
    """One version of an entry, kept for ever: who changed what, when, from where."""

    __tablename__ = "register_changes"
    __table_args__ = (UniqueConstraint("entry_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("register_entries.id", ondelete="CASCADE"))
    version: Mapped[int]
    change: Mapped[str] = mapped_column(String(20))  # created | updated | removed | restored
    data: Mapped[dict] = mapped_column(JSONType, default=dict)
    joint: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class RegisterFeed(Base):
    """A completed task whose data the registers have taken in (each is read once)."""

    __tablename__ = "register_feeds"

    human_task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id", ondelete="CASCADE"), primary_key=True)
    relationship_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"), index=True)
    fed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
