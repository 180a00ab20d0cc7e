"""People: organisations (ours and partners), users and their roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, utcnow

ROLES = ("staff", "ser", "jmt", "process_owner", "assessor", "admin", "top_management")


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (CheckConstraint("kind in ('own', 'partner')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="own")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    contact_email: Mapped[str | None] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(default=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def roles(self) -> set[str]:
        return {r.role for r in self.role_rows}

    @property
    def is_partner(self) -> bool:
        return self.organisation.kind == "partner"


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (
        UniqueConstraint("user_id", "role"),
        CheckConstraint("role in ('staff', 'ser', 'jmt', 'process_owner', 'assessor', 'admin', 'top_management')",
                        name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(30))


class AccountLink(Base):
    """A one-time link that lets a person set their password: an invitation, or a reset an administrator sent.
    Only the sha256 of its secret is kept."""

    __tablename__ = "account_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(10))  # invite | reset
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class RelationshipProfile(Base):
    """Who a relationship is with: the partner's name, and the partner organisation whose users may see the
    relationship's joint parts (people data, so it lives with organisations and users)."""

    __tablename__ = "relationship_profiles"

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"),
                                             primary_key=True)
    partner_name: Mapped[str] = mapped_column(String(200))
    partner_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RelationshipPartner(Base):
    """One partner organisation of a relationship. An alliance has several: each one's users see the joint parts,
    each one's SER decides the joint gates. The profile's `partner_organisation_id` is the lead partner (the first
    named, `position` 0), kept for what reads one partner."""

    __tablename__ = "relationship_partners"
    __table_args__ = (UniqueConstraint("instance_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    partner_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserSession(Base):
    """A signed-in browser session, kept on the server: the cookie carries only a random secret whose sha256 is
    `token_hash`, and the request is signed in only while this row is live (not ended, not idle too long, not
    older than the longest a session may last). Signing out, a password change and deactivating the user end
    it. (API bearer tokens are another thing: app/tokens.)"""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the cookie's secret
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(30))  # signed_out, idle, expired, password_changed, ...
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip: Mapped[str | None] = mapped_column(String(64))


class TotpCredential(Base):
    """A user's second factor: the TOTP secret their authenticator app shares (RFC 6238, 30-second steps). Until
    `enabled_at` is set it is an enrolment waiting for its first code; `last_step` is the latest time step a code
    was accepted for, so no code is accepted twice (nor an older one). The secret must be readable to check a
    code, so it is stored as it is: whoever reads the database could make codes, but still needs the password."""

    __tablename__ = "totp_credentials"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))  # base32
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_step: Mapped[int | None] = mapped_column()


class RecoveryCode(Base):
    """One of the ten codes shown once when the second factor is switched on (or the codes renewed): each signs in
    once in place of a TOTP code. Only the sha256 of the user's id and the code is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SecondFactorRole(Base):
    """A role whose people must sign in with a second factor (the administrator's policy): one row per role."""

    __tablename__ = "second_factor_roles"
    __table_args__ = (
        CheckConstraint("role in ('staff', 'ser', 'jmt', 'process_owner', 'assessor', 'admin', 'top_management')",
                        name="role"),
    )

    role: Mapped[str] = mapped_column(String(30), primary_key=True)
    required_at: Mapped[datetime] = mapped_column(UTCDateTime)
    required_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
