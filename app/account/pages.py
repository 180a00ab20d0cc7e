"""The account page (`/account`): who you are, change your password, your API tokens (a new secret is shown once)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from ..auth import services as auth
from ..auth import user_sessions
from ..auth.pages import SESSION_KEY, session_limits
from ..auth.session import me
from ..db import utcnow
from ..errors import BadRequest
from ..extensions import db_session
from ..tokens import services as tokens

bp = Blueprint("account", __name__)


def _page(*, new_token=None, password_errors=None, token_errors=None, token_values=None, status=200):
    now = utcnow()
    sessions = user_sessions.live_of(db_session(), me(), now=now, limits=session_limits())
    this = user_sessions.digest(session.get(SESSION_KEY) or "")
    response = render_template("account/index.html", tokens=tokens.tokens_of(db_session(), me()), now=now,
                               sessions=sessions, this_session=this,
                               new_token=new_token, password_errors=password_errors or {},
                               token_errors=token_errors or {}, token_values=token_values or {},
                               max_days=tokens.MAX_DAYS, password_min=auth.PASSWORD_MIN, section="account")
    return response, status, {"Cache-Control": "no-store"}


@bp.get("/account")
def index():
    return _page()


@bp.post("/account/password")
def change_password():
    form = request.form
    try:
        auth.change_password(db_session(), me(), form.get("current_password", ""), form.get("new_password", ""),
                             form.get("confirm_password", ""), now=utcnow())
    except BadRequest as exc:
        return _page(password_errors=exc.errors, status=400)
    flash("Your password is changed. Sign in again with it: every session signed in with the old one has ended.",
          "success")
    return redirect(url_for("auth.sign_in"))


@bp.post("/account/sessions/<id:session_id>/end")
def end_session(session_id: int):
    if user_sessions.end_one(db_session(), me(), session_id, now=utcnow()):
        flash("That session has ended: whoever used it must sign in again.", "success")
    return redirect(url_for("account.index"))


@bp.post("/account/tokens")
def create_token():
    name, days = request.form.get("name", ""), request.form.get("days", "90")
    try:
        made = tokens.create_token(db_session(), me(), name=name, days=int(days) if days.isdigit() else 0,
                                   now=utcnow())
    except BadRequest as exc:
        errors = {"days" if k == "expires_in_days" else k: v for k, v in exc.errors.items()} or {"name": exc.message}
        return _page(token_errors=errors, token_values={"name": name, "days": days}, status=400)
    return _page(new_token=made)  # the secret is shown on this page once, never again


@bp.post("/account/tokens/<id:token_id>/revoke")
def revoke_token(token_id: int):
    row = tokens.revoke_token(db_session(), me(), token_id, now=utcnow())
    flash(f"Token {row.name!r} revoked: it no longer opens the API.", "success")
    return redirect(url_for("account.index"))
