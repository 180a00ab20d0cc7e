"""Sign-in and sign-out pages; every other page (but the health check) sends strangers here."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask import session as cookie
from flask_login import current_user, login_user, logout_user

from ..auth import user_sessions
from ..auth.session import SignedIn, login_manager, me
from ..auth.signin import SignInRefused, sign_in, sign_out
from ..db import utcnow
from ..extensions import db_session

bp = Blueprint("auth", __name__)
PUBLIC_ENDPOINTS = {"auth.sign_in", "auth.login", "main.health", "static", "admin.welcome"}


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    app.register_blueprint(bp)
    app.before_request(_require_sign_in)

    @app.context_processor
    def _me():
        return {"me": current_user.user if current_user.is_authenticated else None}


SESSION_KEY = "sid"  # the cookie's key holding the server-side session's secret (app/auth/user_sessions.py)


@login_manager.user_loader
def _load(user_id: str):
    """Signed in only while the server-side session the cookie names is live, and is this user's: a copy of the
    cookie stops working when the session ends (sign-out, timeouts, password change, deactivation)."""
    secret = cookie.get(SESSION_KEY)
    if not isinstance(secret, str) or not user_id.isdigit():
        return None
    user = user_sessions.current(db_session(), secret, now=utcnow(), limits=session_limits())
    return SignedIn(user) if user is not None and user.id == int(user_id) else None


def session_limits() -> user_sessions.Limits:
    config = current_app.config
    return user_sessions.Limits(idle=timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
                                longest=timedelta(hours=config["SESSION_MAX_HOURS"]))


def _require_sign_in():
    if request.url_rule is None or request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))


def _safe_next(target: str | None) -> str:
    """Only a path on this site: `next` must never send a user elsewhere after signing in."""
    if not target:
        return url_for("inbox.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("inbox.index")
    return target


@bp.route("/sign-in", methods=["GET", "POST"], endpoint="sign_in")
def sign_in_page():
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("auth/sign_in.html", username="", error=None)
    username = request.form.get("username", "")[:80]
    try:
        user = sign_in(db_session(), username, request.form.get("password", ""), now=utcnow())
    except SignInRefused as exc:
        return render_template("auth/sign_in.html", username=username, error=exc.message), 401
    session, now = db_session(), utcnow()
    user_sessions.end(session, cookie.get(SESSION_KEY), now=now, reason="replaced")  # signed in again
    session.commit()
    cookie.clear()  # nothing of the cookie from before signing in carries over: a new session, a new secret
    secret = user_sessions.begin(session, user, now=now, user_agent=request.user_agent.string,
                                 ip=request.remote_addr)
    login_user(SignedIn(user))
    cookie[SESSION_KEY] = secret
    return redirect(_safe_next(request.args.get("next")))


@bp.get("/login", endpoint="login")
def login_alias():
    """The address people (and other tools) guess: sent on to the sign-in page, `next` kept as it came."""
    target = request.args.get("next")
    return redirect(url_for("auth.sign_in", next=target) if target else url_for("auth.sign_in"), 302)


@bp.post("/sign-out", endpoint="sign_out")
def sign_out_page():
    sign_out(db_session(), me(), now=utcnow(), secret=cookie.get(SESSION_KEY))
    logout_user()
    cookie.pop(SESSION_KEY, None)
    flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in"))
