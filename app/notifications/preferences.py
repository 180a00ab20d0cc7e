"""How each person hears by e-mail (each notification, a daily digest, or none; kinds they never want e-mailed), and
the daily digest itself: one e-mail at the hour they chose, grouping what reached them since the last one, each item
with the link that leads to it. In the app every notification still shows.

The digest is claimed by moving `last_digest_at` on in its own statement before it is written, so any number of
schedulers send it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ..audit.services import record
from ..auth.models import User
from ..errors import BadRequest
from .models import NotificationPreference
from .services import MailSettings, list_for, queue_email

MODES = ("each", "digest", "none")
KIND_LABELS = {"task": "New tasks", "approval": "Approvals waiting", "escalation": "Escalations",
               "exit_trigger": "Exit triggers", "due_soon": "Due soon", "overdue": "Overdue",
               "not_ready": "Relationships waiting for the organisation", "no_partner_ser": "Partners without an SER",
               "message": "Messages from processes"}
DIGEST_WINDOW = timedelta(days=1)  # a first digest covers the day before


@dataclass(frozen=True)
class Preferences:
    email: str = "each"
    muted_kinds: tuple[str, ...] = ()
    digest_hour: int = 7


def of(session: Session, user: User) -> Preferences:
    row = session.get(NotificationPreference, user.id)
    return Preferences(row.email, tuple(row.muted_kinds or ()), row.digest_hour) if row else Preferences()


def save(session: Session, user: User, *, email: str, muted_kinds, digest_hour, now: datetime) -> Preferences:
    """Change how `user` hears by e-mail. Raises BadRequest naming the field. Commits, with an audit event."""
    errors = {}
    if email not in MODES:
        errors["email"] = f"choose one of {', '.join(MODES)}"
    kinds = list(dict.fromkeys(muted_kinds or ()))
    unknown = [k for k in kinds if k not in KIND_LABELS]
    if unknown:
        errors["muted_kinds"] = f"unknown kinds {', '.join(map(str, unknown))} (kinds: {', '.join(KIND_LABELS)})"
    if not isinstance(digest_hour, int) or isinstance(digest_hour, bool) or not 0 <= digest_hour <= 23:
        errors["digest_hour"] = "an hour from 0 to 23 (UTC)"
    if errors:
        raise BadRequest("the notification preferences were not saved: " + "; ".join(
            f"{k}: {v}" for k, v in errors.items()), errors)
    row = session.get(NotificationPreference, user.id)
    if row is None:
        row = NotificationPreference(user_id=user.id, last_digest_at=now if email == "digest" else None)
        session.add(row)
    elif email == "digest" and row.email != "digest":
        row.last_digest_at = now  # the first digest covers what comes from now on
    row.email, row.muted_kinds, row.digest_hour, row.updated_at = email, kinds, digest_hour, now
    record(session, "user.notification_preferences", actor=user, at=now,
           payload={"email": email, "muted_kinds": kinds, "digest_hour": digest_hour})
    session.commit()
    return Preferences(email, tuple(kinds), digest_hour)


def digest_due(hour: int, now: datetime) -> datetime:
    """The latest digest time at or before `now` (today's at `hour` UTC, else yesterday's)."""
    today = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return today if today <= now else today - timedelta(days=1)


def send_digests(session: Session, now: datetime, mail: MailSettings | None) -> int:
    """Queue the daily digest of everyone whose digest hour has come since their last one. Returns how many were
    queued (someone with nothing new gets none, and their digest still moves on)."""
    if mail is None:
        return 0
    rows = session.execute(select(NotificationPreference, User).join(User, User.id == NotificationPreference.user_id)
                           .where(NotificationPreference.email == "digest", User.is_active.is_(True),
                                  User.email.is_not(None))).all()
    queued = 0
    for preference, user in rows:
        due = digest_due(preference.digest_hour, now)
        since = preference.last_digest_at
        if since is not None and since >= due:
            continue
        claimed = session.execute(update(NotificationPreference).where(
            NotificationPreference.user_id == user.id,
            or_(NotificationPreference.last_digest_at.is_(None), NotificationPreference.last_digest_at == since))
            .values(last_digest_at=now).execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            session.rollback()
            continue
        body = digest_body(session, user, since or now - DIGEST_WINDOW, now, tuple(preference.muted_kinds or ()),
                           mail)
        if body is not None:
            queued += queue_email(session, mail, to=user.email, subject=body[0], body=body[1], now=now)
        session.commit()
    return queued


def digest_body(session: Session, user: User, since: datetime, now: datetime, muted: tuple[str, ...],
                mail: MailSettings) -> tuple[str, str] | None:
    """(subject, text) of `user`'s digest of the notifications that reached them in (since, now], grouped by kind,
    each with where it leads; None when there were none."""
    views = [v for v in list_for(session, user, limit=500)
             if since < v.notification.created_at <= now and v.notification.kind not in muted]
    if not views:
        return None
    groups: dict[str, list] = {}
    for view in reversed(views):  # oldest first inside a group
        groups.setdefault(view.notification.kind, []).append(view)
    lines = [f"Hello {user.display_name},", "", f"What reached you in collabflow since {since:%d %b %Y %H:%M} UTC:"]
    for kind, items in groups.items():
        lines += ["", f"{KIND_LABELS.get(kind, kind.replace('_', ' ').capitalize())} ({len(items)})"]
        for view in items:
            about = f" ({view.relationship_title})" if view.relationship_title else ""
            state = " [done]" if view.cleared else ""
            link = (f"{mail.base_url}/tasks/{view.task}" if view.task else
                    f"{mail.base_url}/relationships/{view.relationship_id}" if view.relationship_id else
                    f"{mail.base_url}/notifications")
            lines.append(f"- {view.notification.title}{about}{state}: {link}")
    lines += ["", f"Change how you hear from collabflow: {mail.base_url}/account#notifications", "", "-- collabflow"]
    count = len(views)
    return f"[collabflow] Your daily digest: {count} notification{'s' if count != 1 else ''}", "\n".join(lines) + "\n"


__all__ = ["KIND_LABELS", "MODES", "Preferences", "digest_body", "digest_due", "of", "save", "send_digests"]
