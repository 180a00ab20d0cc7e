"""Spreadsheet pages: a register's template and export, the upload, the preview of every row, the confirm."""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for

from workflows import Conflict

from ..access import services as access
from ..auth.session import me
from ..db import utcnow
from ..errors import BadRequest
from ..extensions import db_session
from ..registers.kinds import KNOWLEDGE
from . import services as spreadsheets
from .sheets import columns

bp = Blueprint("spreadsheets", __name__)
BASE = "/relationships/<id:relationship_id>/registers/<name>"


def _file(download: spreadsheets.Download) -> Response:
    return Response(download.content, content_type=download.mimetype, headers={
        "Content-Disposition": f'attachment; filename="{download.filename}"', "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff"})


@bp.get(BASE + "/template.xlsx")
def template(relationship_id: int, name: str):
    return _file(spreadsheets.template(db_session(), me(), relationship_id, name))


@bp.get(BASE + "/export.xlsx")
def export(relationship_id: int, name: str):
    return _file(spreadsheets.export(db_session(), me(), relationship_id, name, now=utcnow()))


@bp.get(BASE + "/import")
def start(relationship_id: int, name: str, *, message=None, status_code=200):
    """The upload form, with the template and the register's export to start from."""
    register = spreadsheets.importable(name)
    session = db_session()
    relationship = access.relationship_or_404(session, relationship_id, me())
    return render_template("spreadsheets/import.html", relationship=relationship, register=register,
                           columns=columns(register), message=message,
                           max_kb=current_app.config["SPREADSHEET_MAX_BYTES"] // 1024,
                           may_import=not (me().is_partner and register is KNOWLEDGE)), status_code


@bp.post(BASE + "/import")
def preview(relationship_id: int, name: str):
    """Every row of the uploaded file with what importing it would do and its problems; nothing is written."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return start(relationship_id, name, message="Choose the .xlsx file to import.", status_code=400)
    content = upload.stream.read(current_app.config["SPREADSHEET_MAX_BYTES"] + 1)
    return _preview(relationship_id, name, content, upload.filename)


def _preview(relationship_id, name, content, filename, *, message=None, status_code=200):
    session = db_session()
    try:
        found = spreadsheets.preview(session, me(), relationship_id, name, content, filename, now=utcnow(),
                                     max_bytes=current_app.config["SPREADSHEET_MAX_BYTES"])
    except BadRequest as exc:
        session.rollback()
        return start(relationship_id, name, message=exc.message, status_code=400)
    relationship = access.relationship_or_404(session, relationship_id, me())
    return render_template("spreadsheets/preview.html", relationship=relationship, preview=found,
                           register=found.register, message=message,
                           carried=base64.b64encode(content).decode() if not found.problems else "",
                           status_code=status_code), 400 if found.problems and status_code == 200 else status_code


@bp.post(BASE + "/import/confirm")
def confirm(relationship_id: int, name: str):
    """Write the previewed rows in one transaction; back to the preview when anything differs from it."""
    try:
        content = base64.b64decode(request.form.get("content", ""), validate=True)
    except (binascii.Error, ValueError):
        content = b""
    filename, digest = request.form.get("filename", "")[:200], request.form.get("digest", "")
    if not content:
        return start(relationship_id, name, message="The preview lost its file; upload it again.", status_code=400)
    session = db_session()
    try:
        found = spreadsheets.confirm(session, me(), relationship_id, name, content, filename, digest, now=utcnow(),
                                     max_bytes=current_app.config["SPREADSHEET_MAX_BYTES"])
    except BadRequest as exc:
        session.rollback()
        return _preview(relationship_id, name, content, filename, message=exc.message, status_code=400)
    except Conflict as exc:
        session.rollback()
        return _preview(relationship_id, name, content, filename, message=str(exc), status_code=409)
    counts = found.counts
    flash(f"Imported {found.filename} into the {found.register.title.lower()}: {counts['create']} added, "
          f"{counts['update']} changed, {counts['unchanged']} unchanged.", "success")
    return redirect(url_for("registers.register", relationship_id=relationship_id, name=found.register.name))
