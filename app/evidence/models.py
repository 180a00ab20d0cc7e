"""Evidence files live in the database: every worker sees them, backups include them, nothing on disk drifts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow


class EvidenceFile(Base):
    __tablename__ = "evidence_files"
    __table_args__ = (Index("ix_evidence_files_relationship_id_uploaded_at", "relationship_id", "uploaded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    relationship_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"))
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"))
    human_task_id: Mapped[int | None] = mapped_column(ForeignKey("human_tasks.id", ondelete="SET NULL"),
                                                      index=True)
    field: Mapped[str | None] = mapped_column(String(255))  # the form field it was uploaded for, if any
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # document control: versions of one document share its first file's id; older versions are kept
    document_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_files.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
