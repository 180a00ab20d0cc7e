"""Sending webhook deliveries: the signature, the scheduler's delivery pass, backoff and giving up.

A delivery is an HTTP POST of the stored JSON body with
`X-Collabflow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the secret>`,
`X-Collabflow-Delivery: <delivery uuid>` and `X-Collabflow-Event: <event type>`. A 2xx answer delivers it; anything
else (another status, a refused connection, a timeout) is an attempt that failed: it is tried again after a backoff
(1, 2, 4 ... minutes) until MAX_ATTEMPTS, then it is failed. Deliveries of one subscription go out in order: a
delivery waiting for its retry holds back the later ones of the same subscription.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..db import utcnow
from .models import WebhookDelivery, WebhookSubscription

log = logging.getLogger(__name__)

SIGNATURE_HEADER, DELIVERY_HEADER, EVENT_HEADER = "X-Collabflow-Signature", "X-Collabflow-Delivery", \
    "X-Collabflow-Event"
TOLERANCE = timedelta(minutes=5)  # what a receiver should accept between the signature's time and its clock
MAX_ATTEMPTS = 8
TIMEOUT = (3.05, 5.0)  # connect, read (seconds)
USER_AGENT = "collabflow-webhooks/1"


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4 ... minutes, at most six hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=6))


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `<timestamp>.<body>` keyed with the subscription's secret."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status_code: int | None
    error: str | None


def post(url: str, body: bytes, headers: dict) -> Outcome:
    """POST with a short timeout, following no redirect (a 3xx is an answer, not a success)."""
    try:
        response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    except requests.RequestException as exc:
        return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:1000])
    if 200 <= response.status_code < 300:
        return Outcome(True, response.status_code, None)
    return Outcome(False, response.status_code, f"HTTP {response.status_code}: {response.text[:300]}".strip())


def deliver_due(session: Session, now: datetime, *, send: Callable[[str, bytes, dict], Outcome] = post,
                clock: Callable[[], datetime] = utcnow, limit: int = 100) -> tuple[int, int]:
    """Send what is due at `now`, oldest first in each subscription. Returns (delivered, attempts that failed).

    `now` decides what is due; the signature carries `clock()` at the moment of sending, so a long pass never
    signs with a stale time. PostgreSQL: each subscription is claimed (`FOR NO KEY UPDATE SKIP LOCKED`: new
    deliveries may still be written for it meanwhile) while its deliveries go out, so several schedulers never send
    one delivery twice or out of order. SQLite: one scheduler per database (two could both send a delivery: the
    delivery id header lets a receiver ignore the second).
    """
    due = list(session.scalars(
        select(WebhookDelivery.subscription_id).join(WebhookSubscription)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
               WebhookSubscription.active.is_(True))
        .group_by(WebhookDelivery.subscription_id).order_by(func.min(WebhookDelivery.id)).limit(limit)))
    session.commit()  # end the read before the writes
    delivered = failed = 0
    for subscription_id in due:
        done, failures = _deliver_subscription(session, subscription_id, now, send, clock, limit)
        delivered, failed = delivered + done, failed + failures
    return delivered, failed


_HEAD = (select(WebhookDelivery.id, WebhookDelivery.uuid, WebhookDelivery.event_type, WebhookDelivery.body,
                WebhookDelivery.attempts, WebhookDelivery.next_attempt_at, WebhookSubscription.url,
                WebhookSubscription.secret, WebhookSubscription.active)
         .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id))


def _deliver_subscription(session, subscription_id, now, send, clock, limit) -> tuple[int, int]:
    postgresql = session.get_bind().dialect.name == "postgresql"
    delivered = 0
    for _ in range(limit):
        if postgresql and session.scalar(select(WebhookSubscription.id).where(
                WebhookSubscription.id == subscription_id).with_for_update(skip_locked=True, key_share=True)) is None:
            session.commit()
            break
        head = session.execute(_HEAD.where(WebhookDelivery.subscription_id == subscription_id,
                                           WebhookDelivery.status == "pending")
                               .order_by(WebhookDelivery.id).limit(1)).first()
        if head is None or not head.active or head.next_attempt_at > now:
            session.commit()  # the oldest waits for its retry: the later ones wait behind it
            break
        if not postgresql:
            session.commit()  # SQLite: hold no read snapshot over the request
        body = head.body.encode()
        sent_at = clock()
        outcome = send(head.url, body, {
            "Content-Type": "application/json", "User-Agent": USER_AGENT, EVENT_HEADER: head.event_type,
            DELIVERY_HEADER: head.uuid, SIGNATURE_HEADER: signature_header(head.secret, int(sent_at.timestamp()), body)})
        attempts = head.attempts + 1
        values = dict(attempts=attempts, last_attempt_at=sent_at, last_status_code=outcome.status_code,
                      last_error=outcome.error)
        if outcome.delivered:
            values.update(status="delivered", delivered_at=sent_at)
        elif attempts >= MAX_ATTEMPTS:
            values.update(status="failed")
        else:
            values.update(next_attempt_at=now + backoff(attempts))
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id == head.id,
                                                      WebhookDelivery.attempts == head.attempts).values(**values))
        session.commit()
        if not outcome.delivered:
            log.info("webhook delivery %s to %s failed (attempt %s): %s", head.uuid, head.url, attempts, outcome.error)
            return delivered, 1
        delivered += 1
    return delivered, 0


def next_attempt_at(session: Session) -> datetime | None:
    """When the scheduler should next wake for a delivery (None: nothing is pending): the earliest time the oldest
    pending delivery of an active subscription is due (a later one waits behind it, whatever its own time)."""
    heads = select(func.min(WebhookDelivery.id)).where(WebhookDelivery.status == "pending") \
        .group_by(WebhookDelivery.subscription_id)
    return session.scalar(select(func.min(WebhookDelivery.next_attempt_at)).join(WebhookSubscription).where(
        WebhookDelivery.id.in_(heads), WebhookSubscription.active.is_(True)))
