"""What a relationship relies on of the organisation's management system, and whether it waits for it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, JSONType, UTCDateTime, utcnow


class RelationshipFoundation(Base):
    """One per relationship: the organisation's items it was started on (policy version, SER, competence
    framework, set-up gate), the internal assessment it entered stage 4 under, and the time it waited for one."""

    __tablename__ = "relationship_foundations"
    __table_args__ = (Index("ix_relationship_foundations_waiting", "waiting_since", "released_at"),)

    relationship_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"),
                                                 primary_key=True)
    management_system_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    relied_on: Mapped[dict] = mapped_column(JSONType, default=dict)
    assessment: Mapped[dict | None] = mapped_column(JSONType)  # the approved stage 3 it entered stage 4 under
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # reached stage 4 before the organisation
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the SERs were told it waits
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
