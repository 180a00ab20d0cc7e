"""REST API v1 under /api/v1: the shared plumbing. Each domain keeps its own resources in `<domain>/api.py` with
its marshmallow schemas beside them in `<domain>/schemas.py`; `create_app` hands their blueprints to `init_app`.

Every response under /api/ is JSON; every error has the one shape `{code, status, message, errors}`.
The OpenAPI 3 document is at /api/v1/openapi.json and an interactive page (Swagger UI, served from
app/static/vendor/swagger-ui, nothing from a CDN) at /api/v1/docs.
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Blueprint


def init_app(app: Flask, blueprints: list[Blueprint]) -> None:
    """Bind the API and the domains' blueprints. Call after the pages' sign-in hook is installed and before the
    pages' blueprints."""
    from flask_smorest import Api

    from . import docs
    from .auth import authenticate_request
    from .common import Error

    class CollabflowApi(Api):
        ERROR_SCHEMA = Error

        def _register_error_handlers(self):
            """flask-smorest would answer every HTTP error of the whole app in JSON; the pages keep their own
            error pages, and the API's blueprints carry their handlers (app.api.common.blueprint)."""

    app.config.setdefault("API_TITLE", "collabflow")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_MAX_JSON_BYTES", 1024 * 1024)
    api = CollabflowApi(app, spec_kwargs={
        "info": {"description": "BS 11000 / ISO 44001 relationships as executable BPMN. Authenticate with "
                               "`Authorization: Bearer <token>` (POST /api/v1/tokens from a signed-in session), "
                               "or a signed-in browser session sending `X-CSRFToken` on unsafe methods."},
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
    })
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.components.security_scheme("sessionCookie", {"type": "apiKey", "in": "cookie", "name": "session"})
    api.register_converter(app.url_map.converters["id"],
                           lambda _converter: {"type": "integer", "minimum": 1, "maximum": 2**31 - 1})
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
        app.extensions["csrf"].exempt(blueprint)  # API: tokens need none; sessions are checked in auth.py
    app.register_blueprint(docs.bp)
    app.before_request_funcs.setdefault(None, []).insert(0, authenticate_request)
