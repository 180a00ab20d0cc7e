"""API tokens: create (from a signed-in session; the secret is shown once), list, revoke."""

from __future__ import annotations

from flask import g

from ..api.common import blueprint, now, session, user
from ..errors import Forbidden
from . import services as token_services
from .schemas import NewTokenOut, TokenIn, TokenOut

bp = blueprint("api_tokens", "Personal API tokens (bearer credentials)")


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
