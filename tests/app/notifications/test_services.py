"""Notifications and e-mail through the real database and a real SMTP server on 127.0.0.1 (aiosmtpd):
who is told about a new task, deadline reminders once each, unread counts, and an outbox that loses
nothing while the mail server is down."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from app.errors import BadRequest
from app.jobs.deadlines import next_reminder_at, send_deadline_reminders
from app.notifications import services as notifications
from app.notifications.models import Notification, OutboxEmail
from app.processes import services as process_services
from app.processes.models import HumanTask
from tests.support.bundles import T0, read_test_bundle


def start_approval(session, wf_engine, users, now=T0, mail=None):
    return process_services.start_instance(session, wf_engine, user=users["staff"], process_id="approval", now=now,
                                           mail=mail)


def notified(session, **where):
    session.expire_all()
    query = select(Notification.user_id, Notification.kind, Notification.title)
    for key, value in where.items():
        query = query.where(getattr(Notification, key) == value)
    return sorted(tuple(row) for row in session.execute(query))


def test_a_new_task_tells_everyone_with_the_lane_role_on_its_side(session, wf_engine, users, version):
    started = start_approval(session, wf_engine, users)
    assert notified(session) == sorted([(users["staff"].id, "task", "New task: Prepare the plan"),
                                        (users["staff2"].id, "task", "New task: Prepare the plan")])
    row = session.scalar(select(HumanTask).where(HumanTask.instance_id == started.instance_id))
    process_services.complete_task(session, wf_engine, user=users["staff"], human_task_id=row.id, data={"plan": "p"},
                                   now=T0)
    approvers = {user_id for user_id, _, title in notified(session) if title == "New task: Approve the plan"}
    assert approvers == {users["ser"].id, users["ser2"].id}, "our SERs, not the partner's"


def test_unread_count_list_and_mark_read_touch_only_my_notifications(session, wf_engine, users, version):
    start_approval(session, wf_engine, users)
    start_approval(session, wf_engine, users)
    staff, staff2 = users["staff"], users["staff2"]
    assert notifications.unread_count(session, staff) == 2
    mine = notifications.list_for(session, staff)
    assert len(mine) == 2 and all(v.notification.user_id == staff.id for v in mine)
    assert notifications.mark_read(session, staff, T0, ids=[mine[0].notification.id] + [v.notification.id for v in
                                   notifications.list_for(session, staff2)]) == 1
    assert notifications.unread_count(session, staff) == 1 and notifications.unread_count(session, staff2) == 2
    assert notifications.mark_read(session, staff, T0) == 1
    assert notifications.list_for(session, staff, unread_only=True) == []


def test_deadline_reminders_fire_once_when_due_soon_and_once_when_overdue(session, wf_engine, users, version):
    started = start_approval(session, wf_engine, users)
    row = session.scalar(select(HumanTask).where(HumanTask.instance_id == started.instance_id))
    assert row.due_at == T0 + timedelta(days=2)                   # the task's dueIn property
    lead = timedelta(hours=24)
    assert next_reminder_at(session, lead) == T0 + timedelta(days=1)
    assert send_deadline_reminders(session, T0 + timedelta(hours=23), lead) == 0
    assert send_deadline_reminders(session, T0 + timedelta(hours=25), lead) == 1
    assert send_deadline_reminders(session, T0 + timedelta(hours=30), lead) == 0, "once"
    assert next_reminder_at(session, lead) == T0 + timedelta(days=2)
    assert send_deadline_reminders(session, T0 + timedelta(days=2, minutes=1), lead) == 1
    assert send_deadline_reminders(session, T0 + timedelta(days=3), lead) == 0
    kinds = [kind for _user, kind, _title in notified(session, instance_id=started.instance_id)]
    assert sorted(kinds) == ["due_soon", "due_soon", "overdue", "overdue", "task", "task"]   # staff and staff2
    assert next_reminder_at(session, lead) is None


def test_a_completed_task_is_not_reminded(session, wf_engine, users, version):
    started = start_approval(session, wf_engine, users)
    row = session.scalar(select(HumanTask).where(HumanTask.instance_id == started.instance_id))
    process_services.complete_task(session, wf_engine, user=users["staff"], human_task_id=row.id, data={"plan": "p"},
                                   now=T0)
    assert send_deadline_reminders(session, T0 + timedelta(days=5)) == 0


# ----------------------------------------------------------------------------------------------- e-mail
class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope)
        return "250 OK"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def mail_app(make_app, smtp_port):
    return make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_port, MAIL_FROM="flow@example.test")


@pytest.fixture
def mail_session(mail_app):
    with mail_app.extensions["collabflow"].sessions() as session:
        yield session


@pytest.fixture
def mail_settings(mail_app):
    return mail_app.extensions["collabflow"].mail


@pytest.fixture
def mailed(mail_session, mail_app):
    """A deployed version and two staff members with e-mail addresses."""
    from app.auth.services import create_user
    from app.processes.services import deploy_version
    wf_engine = mail_app.extensions["collabflow"].workflows
    users = {name: create_user(mail_session, name, password=None, roles=roles, organisation="Us",
                               email=f"{name}@example.test")
             for name, roles in (("staff", ["staff"]), ("ann", ["staff"]), ("owner", ["process_owner"]))}
    deploy_version(mail_session, wf_engine, *read_test_bundle(), user=users["owner"], now=T0)
    return wf_engine, users


def test_mail_is_delivered_through_the_outbox(mail_session, mailed, mail_settings, smtp_port):
    wf_engine, users = mailed
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        start_approval(mail_session, wf_engine, users, mail=mail_settings)
        pending = list(mail_session.scalars(select(OutboxEmail)))
        assert {e.to_address for e in pending} == {"staff@example.test", "ann@example.test"}
        assert notifications.deliver_outbox(mail_session, T0, mail_settings) == (2, 0)
    finally:
        controller.stop()
    assert sorted(m.rcpt_tos[0] for m in inbox.messages) == ["ann@example.test", "staff@example.test"]
    text = inbox.messages[0].content.decode()
    assert "Subject: [collabflow] New task: Prepare the plan" in text and "From: flow@example.test" in text
    task_id = mail_session.scalar(select(HumanTask.id).where(HumanTask.name == "Prepare the plan"))
    assert f"Open it: http://127.0.0.1:5000/tasks/{task_id}" in text, "the e-mail leads to its task"
    mail_session.expire_all()
    assert {e.status for e in mail_session.scalars(select(OutboxEmail))} == {"sent"}


def test_a_failing_mail_server_loses_nothing_and_retries_with_backoff(mail_session, mailed, mail_settings, smtp_port):
    wf_engine, users = mailed
    start_approval(mail_session, wf_engine, users, mail=mail_settings)
    assert notifications.deliver_outbox(mail_session, T0, mail_settings) == (0, 2)          # nothing listens on the port
    mail_session.expire_all()
    emails = list(mail_session.scalars(select(OutboxEmail)))
    assert {(e.status, e.attempts, e.next_attempt_at) for e in emails} == {("pending", 1, T0 + timedelta(minutes=1))}
    assert all("cannot reach the mail server" in e.last_error for e in emails)
    assert notifications.deliver_outbox(mail_session, T0 + timedelta(seconds=30), mail_settings) == (0, 0), "not before backoff"
    assert notifications.deliver_outbox(mail_session, T0 + timedelta(minutes=1), mail_settings) == (0, 2)
    mail_session.expire_all()
    assert {e.next_attempt_at for e in mail_session.scalars(select(OutboxEmail))} == {T0 + timedelta(minutes=3)}

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        assert notifications.deliver_outbox(mail_session, T0 + timedelta(minutes=3), mail_settings) == (2, 0)
    finally:
        controller.stop()
    assert len(inbox.messages) == 2


def test_after_the_last_attempt_an_email_is_marked_failed(mail_session, mailed, mail_settings):
    wf_engine, users = mailed
    start_approval(mail_session, wf_engine, users, mail=mail_settings)
    now = T0
    for _ in range(notifications.MAX_ATTEMPTS):
        notifications.deliver_outbox(mail_session, now, mail_settings)
        now += timedelta(hours=7)
    mail_session.expire_all()
    assert {(e.status, e.attempts) for e in mail_session.scalars(select(OutboxEmail))} == \
        {("failed", notifications.MAX_ATTEMPTS)}


# ------------------------------------------------------------------------------------- preferences and digest
def test_each_person_chooses_each_notification_a_daily_digest_or_none(mail_session, mailed, mail_settings,
                                                                      smtp_port):
    from app.notifications import preferences
    wf_engine, users = mailed
    preferences.save(mail_session, users["ann"], email="digest", muted_kinds=[], digest_hour=7, now=T0)
    with pytest.raises(BadRequest, match="digest_hour"):
        preferences.save(mail_session, users["staff"], email="each", muted_kinds=[], digest_hour=25, now=T0)
    with pytest.raises(BadRequest, match="unknown kinds gossip"):
        preferences.save(mail_session, users["staff"], email="each", muted_kinds=["gossip"], digest_hour=7, now=T0)
    started = start_approval(mail_session, wf_engine, users, now=T0 + timedelta(hours=1), mail=mail_settings)
    assert {e.to_address for e in mail_session.scalars(select(OutboxEmail))} == {"staff@example.test"}, \
        "ann waits for her digest"
    assert ("ann", "task") in {(u, k) for u, k in _who(mail_session, users)}, "in the app she sees it at once"

    preferences.save(mail_session, users["staff"], email="each", muted_kinds=["task"], digest_hour=7, now=T0)
    start_approval(mail_session, wf_engine, users, now=T0 + timedelta(hours=2), mail=mail_settings)
    assert mail_session.scalar(select(func.count()).select_from(OutboxEmail)) == 1, "staff muted new tasks"

    day = T0.replace(hour=7, minute=0, second=0, microsecond=0) + timedelta(days=1)
    assert preferences.send_digests(mail_session, day - timedelta(minutes=1), mail_settings) == 0, "not yet"
    assert preferences.send_digests(mail_session, day + timedelta(minutes=1), mail_settings) == 1
    assert preferences.send_digests(mail_session, day + timedelta(minutes=2), mail_settings) == 0, "once a day"
    digest = mail_session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == "ann@example.test")).one()
    assert digest.subject == "[collabflow] Your daily digest: 2 notifications"
    task_id = mail_session.scalar(select(HumanTask.id).where(HumanTask.instance_id == started.instance_id))
    assert "New tasks (2)" in digest.body and f"http://127.0.0.1:5000/tasks/{task_id}" in digest.body
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        assert notifications.deliver_outbox(mail_session, day + timedelta(minutes=3), mail_settings) == (2, 0)
    finally:
        controller.stop()
    assert "ann@example.test" in {m.rcpt_tos[0] for m in inbox.messages}
    assert preferences.send_digests(mail_session, day + timedelta(days=1, minutes=1), mail_settings) == 0, \
        "nothing new: no empty digest"


def _who(session, users):
    names = {u.id: name for name, u in users.items()}
    session.expire_all()
    return [(names[u], k) for u, k in session.execute(select(Notification.user_id, Notification.kind))]


def test_a_suspended_instance_gets_no_reminders_until_it_is_resumed(session, wf_engine, users, version):
    from app.processes import operations
    started = start_approval(session, wf_engine, users)
    operations.suspend(session, users["admin"], started.instance_id, reason="Data fix under way", now=T0)
    lead = timedelta(hours=24)
    assert next_reminder_at(session, lead) is None, "the scheduler does not wake for it"
    assert send_deadline_reminders(session, T0 + timedelta(days=3), lead) == 0
    operations.resume(session, wf_engine, users["admin"], started.instance_id, now=T0 + timedelta(days=3))
    assert send_deadline_reminders(session, T0 + timedelta(days=3, minutes=1), lead) == 1
    kinds = [kind for _user, kind, _title in notified(session, instance_id=started.instance_id)]
    assert "overdue" in kinds, "reminded once resumed, of where it stands now"
