"""The shapes of the calendar feeds API: what it accepts and what it answers (marshmallow; the OpenAPI document is
made from them)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..api.common import In


class FeedIn(In):
    relationship = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=2**31 - 1),
                                  metadata={"description": "a relationship's feed; leave out for your own feed"})


class FeedOut(Schema):
    id = fields.Integer()
    relationship_id = fields.Integer(allow_none=True, metadata={"description": "null: your own feed"})
    relationship = fields.String(allow_none=True, metadata={"description": "the relationship's title"})
    prefix = fields.String(metadata={"description": "the secret's first characters, to recognise it"})
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True, metadata={"description": "when a calendar app last fetched it"})


class NewFeedOut(FeedOut):
    url = fields.String(metadata={"description": "the feed's address (text/calendar): shown this once, never again"})
    webcal_url = fields.String(metadata={"description": "the same address as a webcal: link"})
