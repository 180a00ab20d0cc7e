"""Downloading evidence: always as an attachment, never rendered by the browser as part of this site."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, send_file

from ..auth.session import me
from ..db import utcnow
from ..extensions import db_session
from . import services

bp = Blueprint("evidence", __name__)


@bp.get("/evidence/<id:evidence_id>")
def download(evidence_id: int):
    evidence, content = services.download(db_session(), me(), evidence_id, now=utcnow())
    response = send_file(BytesIO(content), mimetype=evidence.content_type, as_attachment=True,
                         download_name=evidence.filename, max_age=0, etag=evidence.sha256)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
