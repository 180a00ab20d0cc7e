"""What the workbench keeps between deploys: each person's drafts (per file) and diagrams uploaded from
other tools (stored byte for byte, with the verdict `workflows.inspect` gave when they arrived)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, JSONType, UTCDateTime, utcnow


class Draft(Base):
    """A diagram or form edited but not deployed yet; one per person and file, so nobody overwrites another's."""

    __tablename__ = "modeler_drafts"
    __table_args__ = (UniqueConstraint("user_id", "kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # bpmn | dmn | form
    name: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    base_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_versions.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Upload(Base):
    """A .bpmn file from another modelling tool, exactly as it arrived."""

    __tablename__ = "modeler_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    well_formed: Mapped[bool] = mapped_column(Boolean)
    runnable: Mapped[bool] = mapped_column(Boolean)
    verdict: Mapped[dict] = mapped_column(JSONType, default=dict)  # {processes: [...], problems: [...]}
