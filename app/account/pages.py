"""The account page (`/account`): who you are, change your password, two-step sign-in (a second factor: set it up,
renew its recovery codes, turn it off), where you are signed in, your API tokens (a new secret is shown once), your
calendar feeds (a new address is shown once)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from ..auth import second_factor, user_sessions
from ..auth import services as auth
from ..auth.pages import SESSION_KEY, session_limits
from ..auth.session import me
from ..calendar import pages as calendar_pages
from ..calendar import services as calendar_feeds
from ..db import utcnow
from ..errors import BadRequest
from ..extensions import db_session
from ..notifications import preferences
from ..tokens import services as tokens

bp = Blueprint("account", __name__)


def _page(*, new_token=None, password_errors=None, token_errors=None, token_values=None, totp_errors=None,
          recovery_codes=None, status=200, notification_errors=None, new_feed=None):
    now, db = utcnow(), db_session()
    sessions = user_sessions.live_of(db, me(), now=now, limits=session_limits())
    this = user_sessions.digest(session.get(SESSION_KEY) or "")
    response = render_template("account/index.html", tokens=tokens.tokens_of(db, me()), now=now,
                               sessions=sessions, this_session=this,
                               new_token=new_token, password_errors=password_errors or {},
                               token_errors=token_errors or {}, token_values=token_values or {},
                               totp=second_factor.state(db, me()), totp_required=second_factor.required_for(db, me()),
                               totp_errors=totp_errors or {}, recovery_codes=recovery_codes,
                               recovery_total=second_factor.RECOVERY_CODES,
                               max_days=tokens.MAX_DAYS, password_min=auth.PASSWORD_MIN, section="account",
                               preferences=preferences.of(db, me()), kind_labels=preferences.KIND_LABELS,
                               notification_errors=notification_errors or {},
                               **_calendar(db, new_feed))
    return response, status, {"Cache-Control": "no-store"}


def _calendar(db, made) -> dict:
    """The calendar feed section: the person's own feed, their relationships' feeds, a new address once."""
    feeds = calendar_feeds.feeds_of(db, me())
    url = calendar_pages.feed_url(made.secret) if made is not None else None
    return {"own_feed": next((feed for feed, title in feeds if title is None), None),
            "relationship_feeds": [(feed, title) for feed, title in feeds if title is not None],
            "new_feed_url": url, "new_feed_webcal": calendar_pages.webcal_url(url) if url else None}


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


@bp.post("/account/second-factor")
def totp_start():
    """A new secret for the authenticator app, shown as a QR code and as text until a code confirms it."""
    try:
        second_factor.start(db_session(), me(), now=utcnow())
    except BadRequest:
        pass  # on already: the page says so
    return redirect(url_for("account.index", _anchor="second-factor"))


@bp.post("/account/second-factor/confirm")
def totp_confirm():
    try:
        codes = second_factor.confirm(db_session(), me(), request.form.get("code", "")[:64], now=utcnow())
    except BadRequest as exc:
        return _page(totp_errors={"confirm_code": exc.errors.get("code", exc.message)}, status=400)
    return _page(recovery_codes=codes)  # shown on this page once, never again


@bp.post("/account/second-factor/cancel")
def totp_cancel():
    second_factor.cancel(db_session(), me(), now=utcnow())
    return redirect(url_for("account.index", _anchor="second-factor"))


@bp.post("/account/second-factor/off")
def totp_disable():
    try:
        second_factor.disable(db_session(), me(), request.form.get("code", "")[:64], now=utcnow())
    except BadRequest as exc:
        return _page(totp_errors=exc.errors or {"off_code": exc.message}, status=400)
    flash("Two-step sign-in is off: your password alone signs you in.", "success")
    return redirect(url_for("account.index"))


@bp.post("/account/second-factor/recovery-codes")
def totp_renew():
    try:
        codes = second_factor.renew_recovery_codes(db_session(), me(), request.form.get("code", "")[:64],
                                                   now=utcnow())
    except BadRequest as exc:
        return _page(totp_errors=exc.errors or {"renew_code": exc.message}, status=400)
    return _page(recovery_codes=codes)


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


@bp.post("/account/calendar-feed")
def create_calendar_feed():
    made = calendar_feeds.create_feed(db_session(), me(), now=utcnow())
    return _page(new_feed=made)  # the address is shown on this page once, never again


@bp.post("/account/calendar-feeds/<id:feed_id>/revoke")
def revoke_calendar_feed(feed_id: int):
    calendar_feeds.revoke_feed(db_session(), me(), feed_id, now=utcnow())
    flash("Calendar feed revoked: its address no longer opens anything.", "success")
    return redirect(url_for("account.index") + "#calendar-feeds")


@bp.post("/account/notifications")
def save_notification_preferences():
    form = request.form
    hour = form.get("digest_hour", "")
    try:
        preferences.save(db_session(), me(), email=form.get("email", ""), muted_kinds=form.getlist("muted"),
                         digest_hour=int(hour) if hour.isdigit() else -1, now=utcnow())
    except BadRequest as exc:
        db_session().rollback()
        return _page(notification_errors=exc.errors, status=400)
    flash("Your notification preferences are saved.", "success")
    return redirect(url_for("account.index") + "#notifications")
