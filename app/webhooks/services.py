"""Webhooks administered, and written: subscribe a URL to events (its secret shown once), rotate the secret, pause,
resume, delete, read the deliveries and send one again; and `on_recorded`, which turns the audit events of a
transaction into deliveries in that same transaction (the outbox `app.webhooks.delivery` sends from). Every
administrator action is an audit event; a refusal names the field and changes nothing."""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from ..audit.services import record
from ..auth.models import User
from ..auth.permissions import Permission, require
from ..db import unit_of_work, utcnow
from ..errors import BadRequest, NotFound
from ..pagination import Window, window
from .events import EVENTS, derive, interesting
from .models import WebhookDelivery, WebhookSubscription

SECRET_PREFIX = "whsec_"
URL_MAX = 2000
DESCRIPTION_MAX = 200
MAX_SUBSCRIPTIONS = 50
_REFUSED = "only administrators manage webhooks"


@dataclass(frozen=True)
class NewSecret:
    subscription: WebhookSubscription
    secret: str  # shown once, here


@dataclass
class SubscriptionRow:
    subscription: WebhookSubscription
    pending: int
    delivered: int
    failed: int
    last_attempt_at: datetime | None


# ------------------------------------------------------------------------------------------- the outbox
def on_recorded(session: Session, *, rows: list[dict]) -> None:
    """`app.audit.services.recorded`'s receiver: a delivery for every active subscription to each webhook event the
    rows amount to, written in the caller's transaction (commits or rolls back with the events)."""
    if not interesting(rows):
        return
    subscribed = session.execute(select(WebhookSubscription.id, WebhookSubscription.events)
                                 .where(WebhookSubscription.active.is_(True))).all()
    if not subscribed:
        return
    wanted = {event for _id, events in subscribed for event in events or []}
    occurred = [o for o in derive(session, rows) if o.type in wanted] if wanted else []
    values = []
    now = utcnow()
    for event in occurred:
        event_id = str(uuid.uuid4())
        body = json.dumps({"id": event_id, "type": event.type, "occurred_at": event.occurred_at.isoformat(),
                           "data": event.data}, separators=(",", ":"), ensure_ascii=False)
        values += [dict(uuid=str(uuid.uuid4()), subscription_id=subscription_id, event_id=event_id,
                        event_type=event.type, body=body, status="pending", attempts=0,
                        next_attempt_at=event.occurred_at, created_at=now)
                   for subscription_id, events in subscribed if event.type in (events or [])]
    if values:
        session.connection().execute(insert(WebhookDelivery), values)


# ------------------------------------------------------------------------------------------- subscriptions
def subscriptions(session: Session, actor: User) -> list[SubscriptionRow]:
    """Every subscription, newest first, with its deliveries counted by status."""
    require(actor, Permission.ADMINISTER_WEBHOOKS, _REFUSED)
    counts: dict[int, dict[str, int]] = {}
    last: dict[int, datetime | None] = {}
    for subscription_id, status, count, latest in session.execute(
            select(WebhookDelivery.subscription_id, WebhookDelivery.status, func.count(),
                   func.max(WebhookDelivery.last_attempt_at))
            .group_by(WebhookDelivery.subscription_id, WebhookDelivery.status)):
        counts.setdefault(subscription_id, {})[status] = count
        if latest is not None and (last.get(subscription_id) is None or latest > last[subscription_id]):
            last[subscription_id] = latest
    rows = session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id.desc()))
    return [SubscriptionRow(s, counts.get(s.id, {}).get("pending", 0), counts.get(s.id, {}).get("delivered", 0),
                            counts.get(s.id, {}).get("failed", 0), last.get(s.id)) for s in rows]


def subscription(session: Session, actor: User, subscription_id: int) -> WebhookSubscription:
    """Raises Forbidden, NotFound."""
    require(actor, Permission.ADMINISTER_WEBHOOKS, _REFUSED)
    found = session.get(WebhookSubscription, subscription_id)
    if found is None:
        raise NotFound(f"webhook {subscription_id} does not exist")
    return found


def url_problem(url: str) -> str | None:
    """Why `url` cannot receive webhooks (None: it can): http(s), a host, no credentials, no spaces."""
    example = "e.g. https://hooks.example.com/collabflow"
    if not url:
        return f"Give the address that receives the events, {example}."
    if len(url) > URL_MAX:
        return f"The address is longer than {URL_MAX} characters."
    if any(c.isspace() for c in url):
        return "The address contains a space or a line break."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        return f"This is not a web address, {example}."
    if parts.scheme not in ("http", "https"):
        return f"The address must start with http:// or https:// ({parts.scheme or 'no scheme'} given), {example}."
    if not parts.hostname:
        return f"The address names no host, {example}."
    if parts.username is not None or parts.password is not None:
        return "Leave the user name and password out of the address: receivers check the signature instead."
    return None


def _checked(url: str, events, description: str) -> tuple[str, list[str], str]:
    url, description = (url or "").strip(), (description or "").strip()
    chosen = [e for e in EVENTS if e in set(events or [])]
    errors = {}
    problem = url_problem(url)
    if problem:
        errors["url"] = problem
    unknown = sorted(set(events or []) - set(EVENTS))
    if unknown:
        errors["events"] = f"No such event: {', '.join(unknown)}. The events are {', '.join(EVENTS)}."
    elif not chosen:
        errors["events"] = "Tick at least one event."
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = f"Keep the description to {DESCRIPTION_MAX} characters."
    if errors:
        raise BadRequest("the webhook was not saved", errors)
    return url, chosen, description


def _secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def create_subscription(session: Session, actor: User, *, url: str, events, description: str = "",
                        now: datetime) -> NewSecret:
    """Subscribe `url` to `events`; the secret that signs its deliveries is returned once. Raises Forbidden,
    BadRequest (naming the field)."""
    require(actor, Permission.ADMINISTER_WEBHOOKS, _REFUSED)
    url, events, description = _checked(url, events, description)
    if session.scalar(select(func.count()).select_from(WebhookSubscription)) >= MAX_SUBSCRIPTIONS:
        raise BadRequest(f"there are {MAX_SUBSCRIPTIONS} webhooks already; delete one first")
    secret = _secret()
    with unit_of_work(session):
        row = WebhookSubscription(url=url, description=description, events=events, secret=secret, active=True,
                                  created_at=now, created_by_id=getattr(actor, "id", None))
        session.add(row)
        session.flush()
        record(session, "webhook.subscribed", actor=actor, at=now,
               payload={"webhook_id": row.id, "url": url, "events": events, "description": description})
    return NewSecret(row, secret)


def rotate_secret(session: Session, actor: User, subscription_id: int, *, now: datetime) -> NewSecret:
    """A new secret signs every delivery from now on (retries too); the old one stops at once."""
    row = subscription(session, actor, subscription_id)
    secret = _secret()
    with unit_of_work(session):
        row.secret, row.secret_rotated_at = secret, now
        record(session, "webhook.secret_rotated", actor=actor, at=now, payload={"webhook_id": row.id, "url": row.url})
    return NewSecret(row, secret)


def set_active(session: Session, actor: User, subscription_id: int, active: bool, *,
               now: datetime) -> WebhookSubscription:
    """Pause (no new deliveries; pending ones wait) or resume (pending ones go out, in order)."""
    row = subscription(session, actor, subscription_id)
    with unit_of_work(session):
        if row.active != active:
            row.active = active
            record(session, "webhook.resumed" if active else "webhook.paused", actor=actor, at=now,
                   payload={"webhook_id": row.id, "url": row.url})
    return row


def delete_subscription(session: Session, actor: User, subscription_id: int, *, now: datetime) -> None:
    """Delete the subscription with its deliveries (their log goes too; the audit trail keeps the deletion)."""
    row = subscription(session, actor, subscription_id)
    with unit_of_work(session):
        gone = {"webhook_id": row.id, "url": row.url, "events": list(row.events or [])}
        session.execute(delete(WebhookDelivery).where(WebhookDelivery.subscription_id == row.id))
        session.delete(row)
        record(session, "webhook.deleted", actor=actor, at=now, payload=gone)


# ------------------------------------------------------------------------------------------- deliveries
def deliveries(session: Session, actor: User, subscription_id: int, *, page: int = 1,
               per_page: int = 50) -> tuple[WebhookSubscription, Window, list[WebhookDelivery]]:
    """One page of a subscription's deliveries, newest first."""
    row = subscription(session, actor, subscription_id)
    total = session.scalar(select(func.count()).select_from(WebhookDelivery)
                           .where(WebhookDelivery.subscription_id == row.id))
    at = window(total, page, per_page)
    items = list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.subscription_id == row.id)
                                 .order_by(WebhookDelivery.id.desc()).offset(at.offset).limit(per_page)))
    return row, at, items


def send_again(session: Session, actor: User, delivery_id: int, *, now: datetime) -> WebhookDelivery:
    """Queue a delivered or failed delivery again (same event and delivery id, signed afresh): it goes out at the
    scheduler's next pass, with a fresh set of attempts. Raises NotFound, BadRequest (it is still pending)."""
    require(actor, Permission.ADMINISTER_WEBHOOKS, _REFUSED)
    row = session.get(WebhookDelivery, delivery_id)
    if row is None:
        raise NotFound(f"delivery {delivery_id} does not exist")
    if row.status == "pending":
        raise BadRequest("this delivery is still pending: the scheduler sends it, and retries it, by itself",
                         {"status": "pending"})
    with unit_of_work(session):
        was = row.status
        row.status, row.attempts, row.next_attempt_at = "pending", 0, now
        record(session, "webhook.resent", actor=actor, at=now, payload={
            "webhook_id": row.subscription_id, "delivery_id": row.id, "delivery": row.uuid,
            "event_type": row.event_type, "was": was})
    return row
