"""Webhooks for integrators: subscribe a URL to events, rotate its secret, pause, resume, delete, read the
deliveries and send one again (administrators only; every action audited)."""

from __future__ import annotations

import json

from marshmallow import RAISE

from ..api.common import blueprint, now, session, user
from . import services as webhooks
from .events import EVENTS
from .schemas import (
    DeliveryArgs,
    DeliveryOut,
    DeliveryPage,
    EventTypeOut,
    WebhookIn,
    WebhookOut,
    WebhookSecretOut,
)

bp = blueprint("api_webhooks", "Webhooks: signed deliveries of events to other systems")


def _webhook(row: webhooks.SubscriptionRow) -> dict:
    s = row.subscription
    return {"id": s.id, "url": s.url, "description": s.description, "events": list(s.events or []),
            "active": s.active, "created_at": s.created_at, "secret_rotated_at": s.secret_rotated_at,
            "pending": row.pending, "delivered": row.delivered, "failed": row.failed}


def _one(subscription_id: int) -> dict:
    webhooks.subscription(session(), user(), subscription_id)
    return next(_webhook(r) for r in webhooks.subscriptions(session(), user())
                if r.subscription.id == subscription_id)


def _delivery(d) -> dict:
    return {"id": d.id, "delivery_id": d.uuid, "event_id": d.event_id, "event_type": d.event_type,
            "status": d.status, "attempts": d.attempts,
            "next_attempt_at": d.next_attempt_at if d.status == "pending" else None,
            "last_attempt_at": d.last_attempt_at, "last_status_code": d.last_status_code, "last_error": d.last_error,
            "created_at": d.created_at, "delivered_at": d.delivered_at, "body": json.loads(d.body)}


@bp.get("/admin/webhooks")
@bp.response(200, WebhookOut(many=True))
def index():
    """Every webhook, newest first, with its deliveries counted by status (never its secret)."""
    return [_webhook(r) for r in webhooks.subscriptions(session(), user())]


@bp.get("/admin/webhooks/events")
@bp.response(200, EventTypeOut(many=True))
def event_types():
    """The events a webhook may subscribe to."""
    webhooks.subscriptions(session(), user())  # administrators only, like the rest
    return [{"type": k, "description": v} for k, v in EVENTS.items()]


@bp.post("/admin/webhooks")
@bp.arguments(WebhookIn)
@bp.response(201, WebhookSecretOut)
def create(args):
    """Subscribe a URL to events. The answer holds the signing secret, shown this once."""
    made = webhooks.create_subscription(session(), user(), now=now(), **args)
    return {"webhook": _one(made.subscription.id), "secret": made.secret}


@bp.get("/admin/webhooks/<id:webhook_id>")
@bp.response(200, WebhookOut)
def show(webhook_id):
    return _one(webhook_id)


@bp.delete("/admin/webhooks/<id:webhook_id>")
@bp.response(204)
def delete(webhook_id):
    """Delete the webhook and its deliveries."""
    webhooks.delete_subscription(session(), user(), webhook_id, now=now())
    return ""


@bp.post("/admin/webhooks/<id:webhook_id>/pause")
@bp.response(200, WebhookOut)
def pause(webhook_id):
    """No new deliveries; pending ones wait until it is resumed."""
    webhooks.set_active(session(), user(), webhook_id, False, now=now())
    return _one(webhook_id)


@bp.post("/admin/webhooks/<id:webhook_id>/resume")
@bp.response(200, WebhookOut)
def resume(webhook_id):
    webhooks.set_active(session(), user(), webhook_id, True, now=now())
    return _one(webhook_id)


@bp.post("/admin/webhooks/<id:webhook_id>/secret")
@bp.response(200, WebhookSecretOut)
def rotate_secret(webhook_id):
    """A new signing secret, shown this once; the old one stops signing at once."""
    made = webhooks.rotate_secret(session(), user(), webhook_id, now=now())
    return {"webhook": _one(webhook_id), "secret": made.secret}


@bp.get("/admin/webhooks/<id:webhook_id>/deliveries")
@bp.arguments(DeliveryArgs, location="query", unknown=RAISE)
@bp.response(200, DeliveryPage)
def deliveries(args, webhook_id):
    """The webhook's deliveries, newest first: status, attempts, the last HTTP status or error."""
    _row, at, items = webhooks.deliveries(session(), user(), webhook_id, page=args["page"], per_page=args["per_page"])
    return at.as_dict([_delivery(d) for d in items])


@bp.post("/admin/webhooks/deliveries/<id:delivery_id>/resend")
@bp.response(200, DeliveryOut)
def resend(delivery_id):
    """Send a delivered or failed delivery again (same ids, signed afresh) at the scheduler's next pass."""
    return _delivery(webhooks.send_again(session(), user(), delivery_id, now=now()))
