"""PDF exports rendered off the request path: the requests (jobs) and the rendered files, kept by content hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class ExportJob(Base):
    """One person's request for a PDF (a plan version or the assessor pack). The scheduler claims it for a lease
    and renders it; a process that dies mid-render leaves the lease to run out, and the job is claimed again.
    `stamp` says what the request saw (the newest change and the day), so an unchanged request reuses the job."""

    __tablename__ = "export_jobs"
    __table_args__ = (Index("ix_export_jobs_status_lease_until", "status", "lease_until"),
                      Index("ix_export_jobs_request", "relationship_id", "user_id", "what", "stamp"))

    id: Mapped[int] = mapped_column(primary_key=True)
    relationship_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    what: Mapped[str] = mapped_column(String(20))  # rmp | assessor_pack
    number: Mapped[int | None] = mapped_column()  # the plan version (rmp only)
    stamp: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(10), default="queued")  # queued | rendering | done | failed
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(300), default="")
    rendered: Mapped[bool] = mapped_column(default=False)  # False when an identical file was already kept
    error: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RenderedExport(Base):
    """A rendered PDF by the SHA-256 of what it was rendered from: the same plan or pack is rendered once."""

    __tablename__ = "rendered_exports"

    source_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    size: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
