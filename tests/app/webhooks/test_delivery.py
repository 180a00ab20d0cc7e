"""Signed webhooks end to end: a real receiver on 127.0.0.1 gets a signed delivery for a task completed through the
API and checks the signature with its secret; a receiver that is down (port closed, or answering 503) gets the
delivery once after it comes back (the scheduler's clock moved past the backoff, nothing slept); one subscription's
deliveries go out in order; after the last attempt a delivery is failed, and "send again" delivers it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import utcnow
from app.webhooks.delivery import DELIVERY_HEADER, EVENT_HEADER, MAX_ATTEMPTS, SIGNATURE_HEADER, backoff
from app.webhooks.models import WebhookDelivery
from app.webhooks.services import send_again
from tests.support.api import start_relationship
from tests.support.tasks import VALID_POLICY
from tests.support.webhooks import Receiver, free_port, verify_signature


def log_of(session, subscription_id) -> list[WebhookDelivery]:
    session.expire_all()
    return list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
                                .order_by(WebhookDelivery.id)))


def complete_policy(api, title="ACME") -> dict:
    """Start a relationship and complete its first task through the API -> the task's JSON."""
    staff = api("staff")
    task = start_relationship(staff, title)["tasks"][0]
    done = staff.post(f"tasks/{task['id']}/complete", {"data": VALID_POLICY})
    assert done.status_code == 200, done.get_json()
    return task


def test_a_receiver_gets_a_signed_delivery_for_a_completed_task(api, session, lifecycle, receiver, deliver):
    made = api("admin").post("admin/webhooks", {"url": receiver.url, "events": ["task.completed"],
                                                "description": "our ERP"})
    assert made.status_code == 201, made.get_json()
    secret, hook = made.get_json()["secret"], made.get_json()["webhook"]
    assert secret.startswith("whsec_") and "secret" not in api("admin").get(f"admin/webhooks/{hook['id']}").get_json()

    task = complete_policy(api)
    (pending,) = log_of(session, hook["id"])
    assert pending.status == "pending", "written with the completion, sent by the scheduler"
    assert receiver.received == []

    deliver(utcnow())
    (got,) = receiver.received
    assert got.headers[EVENT_HEADER] == "task.completed"
    assert verify_signature(secret, got.headers[SIGNATURE_HEADER], got.body), "the documented check passes"
    assert not verify_signature("whsec_someone-else", got.headers[SIGNATURE_HEADER], got.body)
    assert not verify_signature(secret, got.headers[SIGNATURE_HEADER], got.body + b" "), "the body is signed"
    body = got.json
    assert set(body) == {"id", "type", "occurred_at", "data"} and body["type"] == "task.completed"
    assert body["data"]["task"]["id"] == task["id"] and body["data"]["task"]["name"] == "Write the policy"
    assert body["data"]["relationship"]["title"] == "ACME" and body["data"]["actor"] == "staff"
    assert VALID_POLICY["policy_text"] not in got.body.decode(), "ids and names only: never what was submitted"

    (sent,) = log_of(session, hook["id"])
    assert (sent.status, sent.attempts, sent.last_status_code, sent.last_error) == ("delivered", 1, 200, None)
    assert got.headers[DELIVERY_HEADER] == sent.uuid and body["id"] == sent.event_id
    deliver(utcnow() + timedelta(hours=1))
    assert len(receiver.received) == 1, "delivered once"
    session.commit()


def test_a_receiver_down_at_first_gets_the_delivery_once_after_it_comes_back(api, session, lifecycle, subscribe,
                                                                             deliver):
    down = Receiver(port=free_port())  # nothing listens there yet
    hook = subscribe(down.url, ["task.completed"]).subscription.id
    complete_policy(api)
    t0 = utcnow()
    deliver(t0)
    (tried,) = log_of(session, hook)
    assert (tried.status, tried.attempts, tried.last_status_code) == ("pending", 1, None)
    assert "ConnectionError" in tried.last_error and tried.next_attempt_at == t0 + backoff(1)

    down.start()
    try:
        deliver(t0 + timedelta(seconds=30))
        assert down.received == [], "not before its backoff"
        deliver(t0 + backoff(1) + timedelta(seconds=1))
        assert len(down.delivered) == 1
        deliver(t0 + timedelta(hours=2))
        assert len(down.received) == 1, "exactly once"
    finally:
        down.stop()
    (sent,) = log_of(session, hook)
    assert (sent.status, sent.attempts, sent.last_error) == ("delivered", 2, None)
    session.commit()


def test_a_503_is_retried_with_the_same_body_and_delivery_id(api, session, lifecycle, subscribe, receiver, deliver):
    receiver.answers = [503]
    hook = subscribe(receiver.url, ["task.completed"])
    complete_policy(api)
    t0 = utcnow()
    deliver(t0)
    (tried,) = log_of(session, hook.subscription.id)
    assert (tried.status, tried.last_status_code) == ("pending", 503) and tried.last_error.startswith("HTTP 503")
    deliver(t0 + backoff(1) + timedelta(seconds=1))
    first, second = receiver.received
    assert (first.answered, second.answered) == (503, 200)
    assert first.body == second.body and first.headers[DELIVERY_HEADER] == second.headers[DELIVERY_HEADER]
    assert verify_signature(hook.secret, second.headers[SIGNATURE_HEADER], second.body)
    session.commit()


def test_one_subscriptions_deliveries_go_out_in_order(api, session, lifecycle, subscribe, deliver):
    down = Receiver(port=free_port(), answers=[])
    hook = subscribe(down.url, ["task.completed", "gate.decided", "task.created"]).subscription.id
    complete_policy(api)  # the policy completed; the SER's gate created
    gate = api("ser").get("tasks").get_json()["items"][0]
    decided = api("ser").post(f"tasks/{gate['id']}/complete", {"data": {"decision": "approve"}})
    assert decided.status_code == 200, decided.get_json()
    t0 = utcnow()
    deliver(t0)
    log = log_of(session, hook)
    assert [d.attempts for d in log] == [1] + [0] * (len(log) - 1), "the later ones wait behind the first"
    down.start()
    try:
        deliver(t0 + backoff(1) + timedelta(seconds=1))
    finally:
        down.stop()
    types = [r.json["type"] for r in down.delivered]
    assert types == [d.event_type for d in log], "in the order they happened"
    assert types[:2] == ["task.created", "task.completed"] and "gate.decided" in types
    gate_decided = next(r.json for r in down.delivered if r.json["type"] == "gate.decided")
    assert gate_decided["data"]["decision"] == "approve" and gate_decided["data"]["task"]["name"].startswith("SER")
    session.commit()


def test_after_the_last_attempt_it_is_failed_and_send_again_delivers_it(api, session, users, lifecycle, subscribe,
                                                                         receiver, deliver):
    receiver.answers = [500] * MAX_ATTEMPTS
    hook = subscribe(receiver.url, ["task.completed"]).subscription.id
    complete_policy(api)
    now = utcnow()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        deliver(now)
        now += backoff(attempt) + timedelta(seconds=1)
    (failed,) = log_of(session, hook)
    assert (failed.status, failed.attempts, failed.last_status_code) == ("failed", MAX_ATTEMPTS, 500)
    deliver(now + timedelta(days=1))
    assert len(receiver.received) == MAX_ATTEMPTS, "a failed delivery is not tried again by itself"

    send_again(session, users["admin"], failed.id, now=now)
    deliver(now)
    assert len(receiver.delivered) == 1
    (sent,) = log_of(session, hook)
    assert sent.status == "delivered" and sent.attempts == 1
    assert session.scalar(select(AuditEvent.payload).where(AuditEvent.action == "webhook.resent"))["was"] == "failed"
    session.commit()


def test_a_paused_webhook_gets_nothing_new_and_a_deleted_one_nothing_at_all(api, session, users, lifecycle,
                                                                             subscribe, receiver, deliver):
    from app.webhooks.services import delete_subscription, set_active
    hook = subscribe(receiver.url, ["task.completed"]).subscription.id
    set_active(session, users["admin"], hook, False, now=utcnow())
    complete_policy(api, "Paused")
    assert log_of(session, hook) == []
    set_active(session, users["admin"], hook, True, now=utcnow())
    complete_policy(api, "Resumed")
    delete_subscription(session, users["admin"], hook, now=utcnow())
    deliver(utcnow())
    assert receiver.received == []
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("webhook.%"))
                              .order_by(AuditEvent.id)).all()
    assert actions == ["webhook.subscribed", "webhook.paused", "webhook.resumed", "webhook.deleted"]
    session.commit()


def test_the_documented_check_refuses_a_replayed_delivery():
    import time

    from app.webhooks.delivery import signature_header
    body = b'{"id":"e1","type":"task.completed"}'
    fresh = signature_header("whsec_x", int(time.time()), body)
    stale = signature_header("whsec_x", int(time.time()) - 301, body)
    assert verify_signature("whsec_x", fresh, body)
    assert not verify_signature("whsec_x", stale, body), "older than five minutes: a replay"
    assert not verify_signature("whsec_x", "t=abc,v1=00", body) and not verify_signature("whsec_x", "", body)
