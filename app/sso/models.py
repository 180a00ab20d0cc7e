"""Who a person is at the OpenID provider (issuer, subject), and which browser sessions began there."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class SsoIdentity(Base):
    """The link from a provider's account (its issuer and the subject it names the person by, which never changes
    for them) to our user: found first at every sign-in, so a changed e-mail address at the provider changes
    nothing here."""

    __tablename__ = "sso_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))  # as the provider last said (for administrators)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SsoSession(Base):
    """A browser session (`user_sessions`) that began at the provider: the tokens it was given, so each request
    (or one every OIDC_CHECK_SECONDS) can ask the provider's userinfo endpoint whether the person is still there.
    The tokens are stored as given (they must be sent back); they die with the session row."""

    __tablename__ = "sso_sessions"

    user_session_id: Mapped[int] = mapped_column(ForeignKey("user_sessions.id", ondelete="CASCADE"),
                                                 primary_key=True)
    issuer: Mapped[str] = mapped_column(String(300))
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
