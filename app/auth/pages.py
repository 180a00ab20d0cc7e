"""Sign-in and sign-out pages; every other page (but the health check) sends strangers here."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, request, url_for
from flask import session as cookie
from flask_login import current_user, login_user, logout_user

from ..api.auth import is_api_request
from ..api.common import error_body
from ..auth import second_factor, user_sessions
from ..auth.models import User
from ..auth.session import SignedIn, login_manager, me
from ..auth.signin import SignInRefused, sign_in, sign_in_with_code, sign_out
from ..db import utcnow
from ..extensions import db_session, services
from ..sso import services as sso

bp = Blueprint("auth", __name__)
# calendar.feed: a calendar app fetches it with the secret in its URL, never with a browser session
PUBLIC_ENDPOINTS = {"auth.sign_in", "auth.sign_in_code", "auth.login", "main.health", "static", "admin.welcome",
                    "calendar.feed", "sso.start", "sso.callback"}
# what a browser session may open while the policy requires a second factor its user has not set up
ENROLMENT_ENDPOINTS = {"account.index", "account.totp_start", "account.totp_confirm", "account.totp_cancel",
                       "auth.sign_out"}
PENDING_KEY = "second_factor"  # the signed cookie's half-signed-in state: {"user": id, "until": epoch, "next": path}
PENDING_FOR = timedelta(minutes=5)


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
    if request.url_rule is None or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
    return _require_second_factor()


def _require_second_factor():
    """A browser session whose user the policy requires to have a second factor, and who has none yet, opens only
    the enrolment on the account page (and signing out). API bearer tokens are not held back: a token was made
    by a signed-in person, and revoking it is how it stops (app/tokens)."""
    if request.endpoint in ENROLMENT_ENDPOINTS or g.get("api_token") is not None:
        return None
    if not second_factor.must_enrol(db_session(), me()):
        return None
    if sso.began_at_provider(db_session(), cookie.get(SESSION_KEY)):
        return None  # signed in at the single sign-on provider, which asks for its own second factor
    message = "Your role requires two-step sign-in: set it up on your account page (/account) to go on."
    if is_api_request():
        return error_body("second_factor_required", 403, message)
    return redirect(url_for("account.index", _anchor="second-factor"))


def safe_next(target: str | None) -> str:
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
            return redirect(safe_next(request.args.get("next")))
        return render_template("auth/sign_in.html", username="", error=None, sso=services().sso)
    username = request.form.get("username", "")[:80]
    session, now = db_session(), utcnow()
    settings = services().sso
    try:
        result = sign_in(session, username, request.form.get("password", ""), now=now,
                         own_passwords_off=settings.provider_name if settings and settings.passwords_off_for_own
                         else None)
    except SignInRefused as exc:
        return render_template("auth/sign_in.html", username=username, error=exc.message, sso=settings), 401
    user_sessions.end(session, cookie.get(SESSION_KEY), now=now, reason="replaced")  # signed in again
    session.commit()
    cookie.clear()  # nothing of the cookie from before signing in carries over: a new session, a new secret
    target = safe_next(request.args.get("next"))
    if result.code_due:  # no session yet: only the user's id, for a few minutes, until the code is right
        cookie[PENDING_KEY] = {"user": result.user.id, "until": int((now + PENDING_FOR).timestamp()),
                               "next": target}
        return redirect(url_for("auth.sign_in_code"))
    _begin_session(result.user, now)
    return redirect(target)


@bp.route("/sign-in/code", methods=["GET", "POST"], endpoint="sign_in_code")
def sign_in_code_page():
    """The second step of signing in for a user with a second factor: their password was right a moment ago."""
    now = utcnow()
    pending = _pending(now)
    if pending is None:
        cookie.pop(PENDING_KEY, None)
        flash("Sign in with your username and password (the code is asked for within five minutes of them).",
              "info")
        return redirect(url_for("auth.sign_in"))
    if request.method == "GET":
        return render_template("auth/sign_in_code.html", error=None)
    try:
        user = sign_in_with_code(db_session(), pending["user"], request.form.get("code", "")[:64], now=now)
    except SignInRefused as exc:
        return render_template("auth/sign_in_code.html", error=exc.message), 401
    cookie.pop(PENDING_KEY, None)
    _begin_session(user, now)
    return redirect(safe_next(pending.get("next")))


def _pending(now) -> dict | None:
    """The half-signed-in state the signed cookie holds, while it is fresh."""
    pending = cookie.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    user_id, until = pending.get("user"), pending.get("until")
    if not isinstance(user_id, int) or not isinstance(until, int) or now.timestamp() >= until:
        return None
    return pending


def _begin_session(user: User, now) -> None:
    secret = user_sessions.begin(db_session(), user, now=now, user_agent=request.user_agent.string,
                                 ip=request.remote_addr)
    login_user(SignedIn(user))
    cookie[SESSION_KEY] = secret


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
