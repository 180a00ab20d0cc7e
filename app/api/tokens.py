"""API tokens: create (from a signed-in session; the secret is shown once), list, revoke."""

from __future__ import annotations

from flask import g
from marshmallow import Schema, fields, validate

from ..errors import Forbidden
from . import services as token_services
from .common import In, blueprint, now, session, user

bp = blueprint("api_tokens", "Personal API tokens (bearer credentials)")


class TokenIn(In):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    expires_in_days = fields.Integer(load_default=90, validate=validate.Range(min=1, max=token_services.MAX_DAYS))


class TokenOut(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String(metadata={"description": "the secret's first characters, to recognise it"})
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    active = fields.Boolean()


class NewTokenOut(TokenOut):
    token = fields.String(metadata={"description": "the secret: shown this once, never again"})


def _out(row, secret=None) -> dict:
    moment = now()
    out = {c: getattr(row, c) for c in ("id", "name", "prefix", "created_at", "expires_at", "last_used_at",
                                          "revoked_at")}
    out["active"] = row.revoked_at is None and row.expires_at > moment
    if secret is not None:
        out["token"] = secret
    return out


@bp.post("/tokens")
@bp.arguments(TokenIn)
@bp.response(201, NewTokenOut)
def create(args):
    """Create a token (only from a signed-in session, so a token cannot mint longer-lived ones)."""
    if g.get("api_token") is not None:
        raise Forbidden("tokens are created from a signed-in session, not with another token")
    made = token_services.create_token(session(), user(), name=args["name"], days=args["expires_in_days"],
                                       now=now())
    return _out(made.row, made.secret)


@bp.get("/tokens")
@bp.response(200, TokenOut(many=True))
def index():
    """Your tokens (never their secrets)."""
    return [_out(row) for row in token_services.tokens_of(session(), user())]


@bp.delete("/tokens/<id:token_id>")
@bp.response(204)
def revoke(token_id):
    """Revoke one of your tokens: it stops working at once."""
    token_services.revoke_token(session(), user(), token_id, now=now())
    return ""
