"""The shapes of the webhooks API: subscriptions (the secret only when made or rotated) and their deliveries."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..api.common import In, PageArgs, page_of
from .events import EVENTS
from .services import DESCRIPTION_MAX, URL_MAX


class WebhookIn(In):
    url = fields.String(required=True, validate=validate.Length(min=1, max=URL_MAX),
                        metadata={"description": "http:// or https:// address that receives the events"})
    events = fields.List(fields.String(validate=validate.OneOf(list(EVENTS))), required=True,
                         validate=validate.Length(min=1, max=len(EVENTS)))
    description = fields.String(load_default="", validate=validate.Length(max=DESCRIPTION_MAX))


class WebhookOut(Schema):
    id = fields.Integer()
    url = fields.String()
    description = fields.String()
    events = fields.List(fields.String())
    active = fields.Boolean(metadata={"description": "false while paused: no new deliveries, pending ones wait"})
    created_at = fields.DateTime()
    secret_rotated_at = fields.DateTime(allow_none=True)
    pending = fields.Integer()
    delivered = fields.Integer()
    failed = fields.Integer()


class WebhookSecretOut(Schema):
    webhook = fields.Nested(WebhookOut)
    secret = fields.String(metadata={"description": "signs every delivery (HMAC-SHA256); shown this once"})


class EventTypeOut(Schema):
    type = fields.String()
    description = fields.String()


class DeliveryOut(Schema):
    id = fields.Integer()
    delivery_id = fields.String(metadata={"description": "the X-Collabflow-Delivery header"})
    event_id = fields.String()
    event_type = fields.String()
    status = fields.String(metadata={"description": "pending | delivered | failed"})
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True, metadata={"description": "while pending"})
    last_attempt_at = fields.DateTime(allow_none=True)
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)
    body = fields.Raw(metadata={"description": "the JSON sent"})


DeliveryPage = page_of(DeliveryOut)


class DeliveryArgs(PageArgs):
    pass
