"""Who calls the API: a bearer token (`Authorization: Bearer cf_...`, exempt from CSRF) or the browser's
signed-in session (unsafe methods must then carry the `X-CSRFToken` header). Anything else is a 401.

Runs before every other request hook (before the pages' sign-in redirect), for /api/ paths only.
"""

from __future__ import annotations

import json

from flask import current_app, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from ..auth.session import SignedIn
from ..db import utcnow
from ..extensions import db_session
from ..tokens.services import Unauthorized, authenticate
from .common import error_body

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
MAX_JSON_DEPTH = 32
DOCS_PAGE = "api_docs_page.page"


def is_api_request() -> bool:
    return request.path.startswith("/api/") and request.endpoint not in (DOCS_PAGE, "api_docs_page.static")


def authenticate_request():
    if not is_api_request():
        return None
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return _unauthorized("use `Authorization: Bearer <token>`")
        try:
            user, token = authenticate(db_session(), secret.strip(), now=utcnow())
        except Unauthorized as exc:
            return _unauthorized(exc.message)
        g._login_user = SignedIn(user)  # Flask-Login's per-request user: current_user / me() see it
        g.api_token = token
    elif current_user.is_authenticated:
        g.api_token = None
        if request.method not in SAFE_METHODS:
            try:
                current_app.extensions["csrf"].protect()
            except CSRFError as exc:
                return error_body("csrf", 400, "a signed-in session must send its CSRF token in the X-CSRFToken "
                                  "header for this method", {"X-CSRFToken": exc.description})
    else:
        return _unauthorized("sign in, or send an API token: `Authorization: Bearer <token>`")
    return _check_body()


def _unauthorized(message: str):
    response, status = error_body("unauthorized", 401, message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="collabflow"'
    return response, status


def _check_body():
    """Bodies are JSON of bounded size and depth (a file upload: multipart); anything else is refused before a
    view runs."""
    if request.method in SAFE_METHODS or request.method == "DELETE" or request.url_rule is None:
        return None  # a URL that names nothing is a 404 (or 405), whatever its body
    big = request.endpoint in BIG_BODY_ENDPOINTS
    limit = current_app.config["MAX_CONTENT_LENGTH"] if big else current_app.config["API_MAX_JSON_BYTES"]
    too_big = error_body("request_entity_too_large", 413, f"the request body is over {limit:,} bytes")
    if request.content_length is not None and request.content_length > limit:
        return too_big
    if request.endpoint in MULTIPART_ENDPOINTS:
        if request.mimetype != "multipart/form-data":
            return error_body("unsupported_media_type", 415, "send the file as multipart/form-data")
        return None
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        return too_big
    if not raw.strip():
        return None
    if not request.is_json:
        return error_body("unsupported_media_type", 415, "send the body as application/json")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return error_body("bad_request", 400, "the request body is not valid JSON", {"json": str(exc)[:200]})
    if _too_deep(value):
        return error_body("bad_request", 400, f"the request body nests deeper than {MAX_JSON_DEPTH} levels")
    return None


def _too_deep(value) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


MULTIPART_ENDPOINTS = {"api_tasks.attach", "api_spreadsheets.preview", "api_spreadsheets.confirm"}
BIG_BODY_ENDPOINTS = {"api_processes.validate_bundle", "api_processes.deploy", *MULTIPART_ENDPOINTS}
