"""The webhooks API and pages (administrators): refusals name the field and change nothing; the secret is shown
once and rotates; pause, resume, deliveries log, send again, delete; every action an audit event; the API is in the
OpenAPI document."""

from __future__ import annotations

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.webhooks.models import WebhookSubscription
from tests.support.api import ERROR_KEYS, count
from tests.support.tasks import VALID_POLICY


def test_bad_input_names_the_field_and_changes_nothing(api, session, signed_in):
    admin = api("admin")
    for body, field, words in (
            ({"url": "ftp://files.example.com/in", "events": ["task.completed"]}, "url", "http:// or https://"),
            ({"url": "https://", "events": ["task.completed"]}, "url", "names no host"),
            ({"url": "https://user:pw@hooks.example.com", "events": ["task.completed"]}, "url", "password"),
            ({"url": "https://hooks.example.com/x", "events": []}, "events", None),
            ({"url": "https://hooks.example.com/x", "events": ["task.deleted"]}, "events", None)):
        refused = admin.post("admin/webhooks", body)
        assert refused.status_code in (400, 422) and set(refused.get_json()) == ERROR_KEYS, body
        assert field in refused.get_json()["errors"], refused.get_json()
        if words:
            assert words in str(refused.get_json()["errors"][field])
    page = signed_in("admin").post("/admin/webhooks", {"url": "mailto:x@example.com", "events": ["task.created"]},
                                   page="/admin/webhooks")
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and 'id="webhook-url-error"' in html and "mailto:x@example.com" in html
    assert 'value="task.created" checked' in html, "what was ticked is kept"
    assert count(session, WebhookSubscription) == 0
    assert api("ser").get("admin/webhooks").status_code == 403
    assert signed_in("staff").get("/admin/webhooks").status_code == 403
    session.commit()


def test_an_administrator_manages_a_webhook_through_the_api(api, session, lifecycle, receiver, deliver):
    admin = api("admin")
    assert {e["type"] for e in admin.get("admin/webhooks/events").get_json()} >= {"task.completed", "gate.decided"}
    made = admin.post("admin/webhooks", {"url": receiver.url, "events": ["task.created", "task.completed"]})
    hook, secret = made.get_json()["webhook"], made.get_json()["secret"]
    assert secret not in str(admin.get("admin/webhooks").get_json())
    rotated = admin.post(f"admin/webhooks/{hook['id']}/secret").get_json()["secret"]
    assert rotated != secret and rotated.startswith("whsec_")
    assert admin.post(f"admin/webhooks/{hook['id']}/pause").get_json()["active"] is False
    assert admin.post(f"admin/webhooks/{hook['id']}/resume").get_json()["active"] is True

    staff = api("staff")
    rel = staff.post("relationships", {"title": "ACME", "partner": "ACME Ltd"}).get_json()
    staff.post(f"tasks/{rel['tasks'][0]['id']}/complete", {"data": VALID_POLICY})
    from app.db import utcnow
    deliver(utcnow())
    log = admin.get(f"admin/webhooks/{hook['id']}/deliveries").get_json()
    assert log["total"] == 3 and {d["status"] for d in log["items"]} == {"delivered"}
    newest = log["items"][0]
    assert newest["attempts"] == 1 and newest["last_status_code"] == 200 and newest["body"]["type"] == "task.created"
    assert admin.post(f"admin/webhooks/deliveries/{newest['id']}/resend").get_json()["status"] == "pending"
    again = admin.post(f"admin/webhooks/deliveries/{newest['id']}/resend")
    assert again.status_code == 400 and "pending" in again.get_json()["message"]
    deliver(utcnow())
    assert len(receiver.received) == 4 and receiver.received[-1].json["id"] == newest["event_id"], "sent again"
    assert admin.get(f"admin/webhooks/{hook['id']}").get_json()["delivered"] == 3

    assert admin.delete(f"admin/webhooks/{hook['id']}").status_code == 204
    assert admin.get(f"admin/webhooks/{hook['id']}").status_code == 404
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("webhook.%"))
                              .order_by(AuditEvent.id)).all()
    assert actions == ["webhook.subscribed", "webhook.secret_rotated", "webhook.paused", "webhook.resumed",
                       "webhook.resent", "webhook.deleted"]
    assert secret not in str(session.scalars(select(AuditEvent.payload)).all()), "the audit trail holds no secret"
    session.commit()


def test_the_api_document_lists_the_webhook_endpoints(api):
    paths = [p for p in api("admin").get("openapi.json").get_json()["paths"] if "/admin/webhooks" in p]
    assert any(p.endswith("/admin/webhooks") for p in paths)
    assert any(p.endswith("/resend") for p in paths) and any(p.endswith("/deliveries") for p in paths)
