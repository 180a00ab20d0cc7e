"""The edge: every error becomes JSON `{code, status, message, errors}` under /api, an error page elsewhere."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from workflows import WorkflowError

from .errors import AppError, describe


def init_app(app: Flask):
    def wants_json() -> bool:
        return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"

    @app.errorhandler(AppError)
    @app.errorhandler(WorkflowError)
    def handle_domain_error(exc):
        status, body = describe(exc)
        if wants_json():
            return jsonify(body), status
        return render_template("error.html", error=body), status

    @app.errorhandler(HTTPException)
    def handle_http_error(exc: HTTPException):
        body = {"code": exc.name.lower().replace(" ", "_"), "status": exc.code, "message": exc.description,
                "errors": {}}
        if wants_json():
            return jsonify(body), exc.code
        return render_template("error.html", error=body), exc.code
