"""Downloading evidence: always as an attachment, never rendered by the browser as part of this site."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from ..auth.models import User
from ..auth.permissions import Permission, may
from ..auth.session import me
from ..db import utcnow
from ..errors import BadRequest, Forbidden
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


@bp.get("/evidence/<id:evidence_id>/versions")
def versions(evidence_id: int):
    """Document control: every version of a document with checksum, uploader and date; upload a new one."""
    return _versions(evidence_id)


@bp.post("/evidence/<id:evidence_id>/versions")
def upload_version(evidence_id: int):
    file = request.files.get("file")
    if file is None or not file.filename:
        return _versions(evidence_id, error="Choose the file of the new version.", status_code=400)
    try:
        current = services.supersede(db_session(), me(), evidence_id, services.Upload(file.filename, file.stream),
                                     max_bytes=current_app.config["UPLOAD_MAX_BYTES"], now=utcnow())
    except (BadRequest, Forbidden) as exc:
        db_session().rollback()
        return _versions(evidence_id, error=exc.message, status_code=exc.status)
    flash(f"Version {current.version} of {current.filename} uploaded; version {current.version - 1} is kept.",
          "success")
    return redirect(url_for("evidence.versions", evidence_id=current.id))


def _versions(evidence_id: int, *, error: str | None = None, status_code: int = 200):
    session = db_session()
    found = services.versions(session, me(), evidence_id)
    people = {u.id: u.display_name for u in session.scalars(
        select(User).where(User.id.in_({f.uploaded_by_id for f in found if f.uploaded_by_id})))}
    return render_template("evidence/versions.html", files=found, people=people, error=error,
                           may_upload=may(me(), Permission.UPLOAD_EVIDENCE), accept=services.ACCEPT), status_code
