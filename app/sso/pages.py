"""Single sign-on pages: send the browser to the provider, take it back, and, on every request of a session that
began there, end the session once the provider no longer knows the person."""

from __future__ import annotations

import time
from datetime import timedelta

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, url_for
from flask import session as cookie
from flask_login import current_user, login_user, logout_user

from ..api.auth import is_api_request
from ..api.common import error_body
from ..auth import user_sessions
from ..auth.pages import SESSION_KEY, safe_next
from ..auth.session import SignedIn, me
from ..db import utcnow
from ..extensions import db_session, services
from . import services as sso
from .provider import Authorization, ProviderError

bp = Blueprint("sso", __name__)
PENDING_KEY = "sso_pending"  # the signed cookie's {state, nonce, verifier, next, until} while at the provider
PENDING_FOR = timedelta(minutes=10)


def init_app(app: Flask) -> None:
    """Bind the pages and the check of every request (after the sign-in and API hooks have found the user)."""
    app.register_blueprint(bp)
    app.before_request(_still_known_to_provider)


def _configured():
    found = services()
    if found.sso is None:
        abort(404)
    return found.sso, found.oidc


def _callback_url() -> str:
    return url_for("sso.callback", _external=True)


@bp.get("/sign-in/sso", endpoint="start")
def start():
    """Off to the provider's sign-in page, remembering (signed, in the cookie) what must come back."""
    settings, provider = _configured()
    try:
        sent = provider.authorization(_callback_url())
    except ProviderError as exc:
        sso.refused(db_session(), reason=exc.reason, now=utcnow())
        return _refused_page(settings, exc.message, 503)
    cookie[PENDING_KEY] = {"state": sent.state, "nonce": sent.nonce, "verifier": sent.code_verifier,
                           "next": safe_next(request.args.get("next")),
                           "until": int((utcnow() + PENDING_FOR).timestamp())}
    return redirect(sent.url)


@bp.get("/sign-in/sso/callback", endpoint="callback")
def callback():
    """Back from the provider: check everything, then sign the person in with a new server-side session."""
    settings, provider = _configured()
    pending, now = cookie.pop(PENDING_KEY, None), utcnow()
    session = db_session()
    if not isinstance(pending, dict) or not isinstance(pending.get("until"), int) or now.timestamp() >= pending["until"]:
        sso.refused(session, reason="no sign-in pending in this browser", now=now)
        return _refused_page(settings, "This sign-in was not started here, or took too long. Start again.", 400)
    sent = Authorization("", pending.get("state", ""), pending.get("nonce", ""), pending.get("verifier", ""))
    answer = {k: request.args.get(k, "")[:2000] for k in ("code", "state", "error", "error_description")}
    try:
        signed = provider.finish(sent, _callback_url(), answer, now=time.time())
        claims = {**provider.userinfo(signed.access_token, str(signed.claims["sub"])), **signed.claims}
        user = sso.sign_in(session, settings, claims, now=now)
    except ProviderError as exc:
        sso.refused(session, reason=exc.reason, now=now)
        return _refused_page(settings, exc.message, 401)
    except sso.SsoRefused as exc:
        sso.refused(session, reason=exc.errors.get("reason", "refused"), now=now, payload=exc.errors)
        return _refused_page(settings, exc.message, 403)
    user_sessions.end(session, cookie.get(SESSION_KEY), now=now, reason="replaced")  # signed in again
    session.commit()
    cookie.clear()  # nothing of the cookie from before signing in carries over: a new session, a new secret
    secret = sso.begin(session, user, issuer=claims["iss"], access_token=signed.access_token,
                       refresh_token=signed.refresh_token, now=now, user_agent=request.user_agent.string,
                       ip=request.remote_addr)
    login_user(SignedIn(user))
    cookie[SESSION_KEY] = secret
    return redirect(safe_next(pending.get("next")))


def _refused_page(settings, message: str, status: int):
    return render_template("sso/refused.html", message=message, sso=settings), status


def _still_known_to_provider():
    """A session that began at the provider lives only while the provider still knows its person: asked at
    every request (or once every COLLABFLOW_OIDC_CHECK_SECONDS). API bearer tokens are not asked (a token was
    made by a signed-in person; deactivating them in collabflow, or revoking it, stops it)."""
    found = services()
    if found.sso is None or request.endpoint in ("static", "main.health") or g.get("api_token") is not None:
        return None
    if not current_user.is_authenticated:
        return None
    if sso.check(db_session(), found.sso, found.oidc, me(), cookie.get(SESSION_KEY), now=utcnow()):
        return None
    logout_user()
    cookie.pop(SESSION_KEY, None)
    message = (f"{found.sso.provider_name} no longer signs you in, so your collabflow session has ended. "
               "Sign in again, or ask an administrator.")
    if is_api_request():
        return error_body("signed_out", 401, message)
    flash(message, "error")
    return redirect(url_for("auth.sign_in"))
