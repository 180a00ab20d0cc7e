"""Who hears about what: in-app notifications for new tasks (by lane role and organisation side),
approvals, escalations, exit triggers and deadlines, each mirrored to e-mail through the outbox when
mail is configured. Delivery retries with backoff, so a failing mail server loses nothing."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import NamedTuple

from sqlalchemy import and_, bindparam, column, func, insert, or_, select, table, update
from sqlalchemy.orm import Session

from ..auth.models import Organisation, RelationshipPartner, User, UserRole
from .models import Notification, NotificationPreference, OutboxEmail

MAX_ATTEMPTS = 8
TITLES = {
    "task": "New task: {name}", "approval": "Approval waiting: {name}", "escalation": "Escalated to you: {name}",
    "exit_trigger": "Exit trigger raised: {name}", "due_soon": "Due soon: {name}", "overdue": "Overdue: {name}",
}


@dataclass(frozen=True)
class TaskNotice:
    """What a notification needs to know about a task (plain data: this package does not read task rows)."""

    instance_id: int
    task_id: str
    name: str
    kind: str
    role: str | None
    partner_side: bool
    assignee_id: int | None = None
    joint: bool = False  # both organisations work the lane


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int = 25
    sender: str = "collabflow@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    base_url: str = "http://127.0.0.1:5000"


def notice_kind(properties: dict, approval_gate: bool) -> str:
    """The diagram says what kind of news a task is: `notify` property, approval gates, else a task."""
    declared = (properties or {}).get("notify")
    if declared in TITLES:
        return declared
    return "approval" if approval_gate else "task"


# read here without their models (notifications sit below processes)
_instances = table("process_instances", column("id"), column("root_id"), column("title"))
_tasks = table("human_tasks", column("id"), column("instance_id"), column("task_id"), column("state"),
               column("assignee_id"))


def partner_organisation_of(session: Session, instance_id: int) -> tuple[int, ...]:
    """The partner organisations of the relationship an instance belongs to (an alliance has several; empty: no
    partner is named)."""
    root = select(_instances.c.root_id).where(_instances.c.id == instance_id).scalar_subquery()
    return tuple(session.scalars(select(RelationshipPartner.organisation_id)
                                 .where(RelationshipPartner.instance_id == root).order_by(RelationshipPartner.id)))


class Recipient(NamedTuple):
    id: int
    display_name: str
    email: str | None
    email_mode: str | None = None  # NotificationPreference.email (None: never chosen, so each)
    muted_kinds: list | None = None

    def wants_email(self, kind: str) -> bool:
        """E-mail this notification now: they chose each notification (the default) and did not mute its kind."""
        return bool(self.email) and (self.email_mode or "each") == "each" and kind not in (self.muted_kinds or ())


# built once (they run inside every completion): the active users, by assignee or by role and side, with how they
# want to hear by e-mail
_ACTIVE = (select(User.id, User.display_name, User.email, NotificationPreference.email,
                  NotificationPreference.muted_kinds)
           .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
           .where(User.is_active.is_(True)))
_ASSIGNEE = _ACTIVE.where(User.id == bindparam("assignee_id"))
_IN_ROLE = (_ACTIVE.join(UserRole, UserRole.user_id == User.id)
            .join(Organisation, Organisation.id == User.organisation_id)
            .where(UserRole.role == bindparam("role")))
_OURS = _IN_ROLE.where(Organisation.kind == "own").order_by(User.id)
_THEIRS = _IN_ROLE.where(Organisation.id.in_(bindparam("organisation_ids", expanding=True))).order_by(User.id)
_BOTH = _IN_ROLE.where(or_(Organisation.kind == "own",
                           Organisation.id.in_(bindparam("organisation_ids", expanding=True)))).order_by(User.id)


def recipients(session: Session, role: str | None, partner_side: bool, assignee_id: int | None,
               partner_organisations: tuple[int, ...] | None = None, joint: bool = False) -> list[Recipient]:
    """The assignee, else everyone with the lane's role on the lane's side (the joint team: both sides). On the
    partner's side only the users of this relationship's partner organisations: no other partner ever hears
    of it. One statement, plain columns."""
    if assignee_id is not None:
        statement, params = _ASSIGNEE, {"assignee_id": assignee_id}
    else:
        params = {"role": role or "staff", "organisation_ids": list(partner_organisations or ())}
        if joint:
            statement = _OURS if not partner_organisations else _BOTH
        elif partner_side:
            if not partner_organisations:
                return []
            statement = _THEIRS
        else:
            statement = _OURS
    return [Recipient(*r) for r in session.execute(statement, params)]


_INSERT_NOTIFICATIONS, _INSERT_EMAILS = insert(Notification), insert(OutboxEmail)


def notify_tasks(session: Session, notices: list[TaskNotice], now: datetime, *, mail: MailSettings | None) -> int:
    """One notification per recipient per task (and an outbox e-mail when `mail` is set). Returns how many."""
    rows, emails = [], []
    partners: dict[int, tuple[int, ...]] = {}
    found: dict[tuple, list[Recipient]] = {}  # the same lane twice in one action: asked once
    where: dict[TaskNotice, tuple[int | None, str | None]] = {}  # (mail only) the task page and relationship
    for notice in notices:
        if notice.instance_id not in partners and (notice.partner_side or notice.joint):
            partners[notice.instance_id] = partner_organisation_of(session, notice.instance_id)
        key = (notice.role, notice.partner_side, notice.assignee_id, partners.get(notice.instance_id), notice.joint)
        if key not in found:
            found[key] = recipients(session, *key)
        for user in found[key]:
            title = TITLES[notice.kind].format(name=notice.name)
            rows.append(dict(user_id=user.id, kind=notice.kind, title=title, body="", instance_id=notice.instance_id,
                             task_id=notice.task_id, created_at=now))
            if mail is not None and user.wants_email(notice.kind):
                if notice not in where:
                    where[notice] = _where(session, notice)
                emails.append(_email(user.email, f"[collabflow] {title}", _mail_body(user, title, where[notice], mail),
                                     now))
    if rows:
        session.connection().execute(_INSERT_NOTIFICATIONS, rows)
    if emails:
        session.connection().execute(_INSERT_EMAILS, emails)
    return len(rows)


def notify_people(session: Session, user_ids: list[int], *, kind: str, title: str, instance_id: int | None,
                  now: datetime) -> int:
    """A notification about no task (a warning, a news item) for each of these people. Returns how many."""
    rows = [dict(user_id=user_id, kind=kind, title=title[:300], body="", instance_id=instance_id, task_id=None,
                 created_at=now) for user_id in user_ids]
    if rows:
        session.connection().execute(_INSERT_NOTIFICATIONS, rows)
    return len(rows)


def send_message(session: Session, people: list[Recipient], *, subject: str, body: str, instance_id: int | None,
                 now: datetime, mail: MailSettings | None) -> tuple[int, int]:
    """A message a process sends (a service task's send_notification): a notification for each person, about no
    task, and an outbox e-mail to each who wants messages e-mailed one by one (`Recipient.wants_email`) when `mail`
    is set. Returns (notifications, e-mails)."""
    rows, emails = [], []
    for person in people:
        rows.append(dict(user_id=person.id, kind="message", title=subject[:300], body=body, instance_id=instance_id,
                         task_id=None, created_at=now))
        if mail is not None and person.wants_email("message"):
            parts = [f"Hello {person.display_name},", subject, body, f"Open collabflow: {mail.base_url}/notifications",
                     "-- collabflow"]
            emails.append(_email(person.email, f"[collabflow] {subject}", "\n\n".join(p for p in parts if p) + "\n",
                                 now))
    if rows:
        session.connection().execute(_INSERT_NOTIFICATIONS, rows)
    if emails:
        session.connection().execute(_INSERT_EMAILS, emails)
    return len(rows), len(emails)


def users_named(session: Session, usernames: list[str]) -> dict[str, tuple[Recipient, int, bool]]:
    """{username: (recipient, organisation id, is a partner's user)} of the active users among `usernames`."""
    found = session.execute(select(User.username, User.id, User.display_name, User.email, NotificationPreference.email,
                                   NotificationPreference.muted_kinds, User.organisation_id, Organisation.kind)
                            .join(Organisation, Organisation.id == User.organisation_id)
                            .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
                            .where(User.username.in_(usernames), User.is_active.is_(True)))
    return {name: (Recipient(user_id, display, email, mode, muted), organisation_id, kind == "partner")
            for name, user_id, display, email, mode, muted, organisation_id, kind in found}


def _where(session: Session, notice: TaskNotice) -> tuple[int | None, str | None]:
    """(the task's page id, its relationship's title): what an e-mail links to and names (mail only)."""
    root = _instances.alias("root")
    found = session.execute(
        select(_tasks.c.id, root.c.title).select_from(_tasks)
        .join(_instances, _instances.c.id == _tasks.c.instance_id).join(root, root.c.id == _instances.c.root_id)
        .where(_tasks.c.instance_id == notice.instance_id, _tasks.c.task_id == notice.task_id)).first()
    return (found[0], found[1]) if found else (None, None)


def _mail_body(user, title, where: tuple[int | None, str | None], mail: MailSettings) -> str:
    task_id, relationship = where
    link = f"{mail.base_url}/tasks/{task_id}" if task_id else f"{mail.base_url}/inbox"
    about = f" ({relationship})" if relationship else ""
    return f"Hello {user.display_name},\n\n{title}{about}.\n\nOpen it: {link}\n\n-- collabflow\n"


# ---------------------------------------------------------------------------------------- in-app
def _still_waiting():
    """SQL: the notification still asks something of its reader: it is about no task, or its task is ready and
    nobody else has taken it. A task completed, withdrawn or claimed by someone else clears it, at no cost to
    the completion itself (decided when read)."""
    task = _tasks.alias("waiting")
    return or_(Notification.task_id.is_(None), select(task.c.id).where(
        task.c.instance_id == Notification.instance_id, task.c.task_id == Notification.task_id,
        _waits_for(task, Notification.user_id)).exists())


def _waits_for(task, reader):
    """SQL: `task` is ready and nobody but `reader` has taken it."""
    return and_(task.c.state == "ready", or_(task.c.assignee_id.is_(None), task.c.assignee_id == reader))


def unread_count(session: Session, user: User) -> int:
    """Unread notifications that still ask something of `user` (see `_still_waiting`)."""
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None), _still_waiting()))


@dataclass
class NotificationView:
    """A notification with where it leads: its task while the task waits for the reader, else its relationship,
    named by title."""

    notification: Notification
    cleared: bool  # its task was completed, withdrawn or taken by someone else
    task: int | None  # the task page's id, while the task still waits for the reader
    relationship_id: int | None
    relationship_title: str | None

    @property
    def unread(self) -> bool:
        return self.notification.read_at is None and not self.cleared


def list_for(session: Session, user: User, *, unread_only: bool = False, limit: int = 50) -> list[NotificationView]:
    member, root = _instances.alias("member"), _instances.alias("root")
    query = (select(Notification, _tasks.c.id, _waits_for(_tasks, user.id), root.c.id, root.c.title)
             .outerjoin(_tasks, and_(_tasks.c.instance_id == Notification.instance_id,
                                     _tasks.c.task_id == Notification.task_id))
             .outerjoin(member, member.c.id == Notification.instance_id)
             .outerjoin(root, root.c.id == member.c.root_id)
             .where(Notification.user_id == user.id))
    if unread_only:
        query = query.where(Notification.read_at.is_(None), _still_waiting())
    rows = session.execute(query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit))
    views = []
    for notification, task_id, is_waiting, relationship_id, title in rows:
        cleared = notification.task_id is not None and not is_waiting
        views.append(NotificationView(notification, cleared, None if cleared else task_id, relationship_id,
                                      title or (f"Relationship #{relationship_id}" if relationship_id else None)))
    return views


def mark_read(session: Session, user: User, now: datetime, ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (all when `ids` is None); others' are never touched. Commits."""
    query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    count = session.execute(query.values(read_at=now)).rowcount
    session.commit()
    return count


# ---------------------------------------------------------------------------------------- e-mail
def backoff(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes, at most six hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=6))


def deliver_outbox(session: Session, now: datetime, mail: MailSettings | None, limit: int = 100) -> tuple[int, int]:
    """Send due e-mails; a failure is kept with its error and retried later. Returns (sent, failed now)."""
    if mail is None:
        return 0, 0
    due = list(session.scalars(select(OutboxEmail).where(
        OutboxEmail.status == "pending", OutboxEmail.next_attempt_at <= now)
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id).limit(limit)))
    sent = failed = 0
    if not due:
        return 0, 0
    try:
        smtp = _connect(mail)
    except (OSError, smtplib.SMTPException) as exc:
        for email in due:
            _failed(email, now, f"cannot reach the mail server: {exc}")
        session.commit()
        return 0, len(due)
    with smtp:
        for email in due:
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = mail.sender, email.to_address, email.subject
            message.set_content(email.body)
            try:
                smtp.send_message(message)
                email.status, email.sent_at, email.attempts = "sent", now, email.attempts + 1
                sent += 1
            except (OSError, smtplib.SMTPException) as exc:
                _failed(email, now, str(exc))
                failed += 1
            session.commit()
    return sent, failed


def _connect(mail: MailSettings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(mail.host, mail.port, timeout=10)
    if mail.starttls:
        smtp.starttls()
    if mail.username:
        smtp.login(mail.username, mail.password or "")
    return smtp


def _failed(email: OutboxEmail, now: datetime, error: str) -> None:
    email.attempts += 1
    email.last_error = error[:2000]
    if email.attempts >= MAX_ATTEMPTS:
        email.status = "failed"
    else:
        email.next_attempt_at = now + backoff(email.attempts)


def queue_email(session: Session, mail: MailSettings | None, *, to: str | None, subject: str, body: str,
                now: datetime) -> bool:
    """One e-mail through the outbox (sent and retried like the others). False when mail is off or there is no
    address: the caller then shows what it would have sent."""
    if mail is None or not to:
        return False
    session.connection().execute(_INSERT_EMAILS, [_email(to, subject, body, now)])
    return True


def _email(to: str, subject: str, body: str, now: datetime) -> dict:
    """An outbox row, due at once."""
    return dict(to_address=to, subject=subject[:300], body=body, status="pending", attempts=0, next_attempt_at=now,
                created_at=now)
