"""The interactive API page: Swagger UI from app/static/vendor/swagger-ui (no CDN), on the signed-in session."""

from __future__ import annotations

from flask import Blueprint, url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import escape

bp = Blueprint("api_docs_page", __name__, static_folder="static", static_url_path="/api/v1/docs/static")

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>collabflow API v1</title>
  <meta name="csrf-token" content="{csrf}">
  <link rel="stylesheet" href="{css}">
</head>
<body data-spec-url="{spec}">
  <div id="swagger-ui"></div>
  <script src="{bundle}"></script>
  <script src="{init}"></script>
</body>
</html>
"""


@bp.get("/api/v1/docs", endpoint="page")
def page():
    """Signed-in people only (the pages' sign-in rule applies); the document itself is /api/v1/openapi.json."""
    html = PAGE.format(
        csrf=escape(generate_csrf()), spec=escape(url_for("api-docs.openapi_json")),
        css=escape(url_for("static", filename="vendor/swagger-ui/swagger-ui.css")),
        bundle=escape(url_for("static", filename="vendor/swagger-ui/swagger-ui-bundle.js")),
        init=escape(url_for("api_docs_page.static", filename="api-docs.js")))
    return html, 200, {"Content-Type": "text/html; charset=utf-8"}
