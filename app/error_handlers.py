"""The edge: every error becomes JSON `{code, status, message, errors}` under /api, an error page elsewhere.

The error page must never fail itself: a 500 rolls the request's session back and is drawn from a template that
reads nothing but the error (no signed-in user, no counts from the database); any other error page that fails to
render falls back to that one, and if even that fails, to a fixed piece of HTML.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, jsonify, render_template, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

from workflows import WorkflowError

from .errors import AppError, describe

log = logging.getLogger(__name__)

LAST_RESORT = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{status} · collabflow"
               "</title></head><body><h1>{message}</h1><p><a href=\"/\">Back to the start page</a></p></body></html>")


def init_app(app: Flask):
    def wants_json() -> bool:
        return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"

    @app.errorhandler(AppError)
    @app.errorhandler(WorkflowError)
    def handle_domain_error(exc):
        status, body = describe(exc)
        if wants_json():
            return jsonify(body), status
        return error_page(body, status)

    @app.errorhandler(InternalServerError)
    def handle_server_error(exc: InternalServerError):
        original = getattr(exc, "original_exception", None)
        if original is not None:
            log.error("request failed: %s %s", request.method, request.path, exc_info=original)
        _roll_back()
        body = {"code": "internal_server_error", "status": 500, "errors": {},
                "message": "The server failed to handle this request; nothing was changed. Try again later."}
        if wants_json():
            return jsonify(body), 500
        return plain_page(body, 500)

    @app.errorhandler(HTTPException)
    def handle_http_error(exc: HTTPException):
        body = {"code": exc.name.lower().replace(" ", "_"), "status": exc.code, "message": exc.description,
                "errors": {}}
        if wants_json():
            return jsonify(body), exc.code
        return error_page(body, exc.code)


def error_page(body: dict, status: int):
    """The error page with the site's header; if drawing it fails (a broken database session), the plain one."""
    try:
        return render_template("error.html", error=body), status
    except Exception:
        log.exception("the error page failed to render; answering with the plain one")
        _roll_back()
        return plain_page(body, status)


def plain_page(body: dict, status: int):
    """The error alone: no context processors (they read the signed-in user and counts from the database)."""
    headers = {"Content-Type": "text/html; charset=utf-8"}
    try:
        return current_app.jinja_env.get_template("error_plain.html").render(error=body), status, headers
    except Exception:
        log.exception("the plain error page failed to render")
        return LAST_RESORT.format(status=int(status), message=escape(str(body.get("message", "Error")))), \
            status, headers


def _roll_back() -> None:
    session = g.get("db_session")
    if session is None:
        return
    try:
        session.rollback()
    except Exception:  # a connection that cannot even roll back is dropped with its session
        log.exception("rollback failed")
        g.pop("db_session", None)
        try:
            session.close()
        except Exception:
            log.exception("closing the session failed")
