"""Registers as spreadsheets: the template, the export, the preview of an import and its confirm."""

from __future__ import annotations

from flask import Response, current_app
from marshmallow import RAISE

from ..api.common import blueprint, now, session, user
from ..registers.kinds import REGISTERS
from . import services as spreadsheets
from .schemas import ImportConfirmArgs, ImportPreviewOut, SpreadsheetFileIn

bp = blueprint("api_spreadsheets", "Registers as spreadsheets: template, export, previewed import")
NAMES = [n for n, r in REGISTERS.items() if r.editable]
BASE = "/relationships/<id:relationship_id>/registers/<any(" + ",".join(f'"{n}"' for n in NAMES) + "):name>"


def _file(download: spreadsheets.Download) -> Response:
    return Response(download.content, content_type=download.mimetype, headers={
        "Content-Disposition": f'attachment; filename="{download.filename}"', "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff"})


def _preview(found: spreadsheets.Preview) -> dict:
    return dict(register=found.register.name, filename=found.filename, sha256=found.sha256, digest=found.digest,
                counts=found.counts, problems=[vars(p) for p in found.problems],
                rows=[dict(row=r.row, action=r.action, name=r.name, entry_id=r.entry_id, changed=r.changed,
                           problems=[vars(p) for p in r.problems]) for r in found.rows])


@bp.get(BASE + "/template.xlsx")
@bp.response(200, content_type=spreadsheets.MIMETYPE, description="the register's empty sheet (attachment)")
def template(relationship_id: int, name: str):
    """The register's template: its columns, drop-down lists for choice columns, and notes."""
    return _file(spreadsheets.template(session(), user(), relationship_id, name))


@bp.get(BASE + "/export.xlsx")
@bp.response(200, content_type=spreadsheets.MIMETYPE, description="the register's entries (attachment)")
def export(relationship_id: int, name: str):
    """The entries you may see, in the template's columns: importing the file unchanged changes nothing."""
    return _file(spreadsheets.export(session(), user(), relationship_id, name, now=now()))


@bp.post(BASE + "/import/preview")
@bp.arguments(SpreadsheetFileIn, location="files")
@bp.response(200, ImportPreviewOut)
def preview(files, relationship_id: int, name: str):
    """What importing the file (multipart/form-data, field `file`) would do, row by row, with every problem (row,
    column, why); writes nothing. 400 for a file that cannot be taken at all (not .xlsx, too big, wrong sheet,
    missing or unknown column); 403 where you may not change the register."""
    upload = files["file"]
    limit = current_app.config["SPREADSHEET_MAX_BYTES"]
    return _preview(spreadsheets.preview(session(), user(), relationship_id, name, upload.stream.read(limit + 1),
                                         upload.filename or "", now=now(), max_bytes=limit))


@bp.post(BASE + "/import")
@bp.arguments(ImportConfirmArgs, location="query", unknown=RAISE)
@bp.arguments(SpreadsheetFileIn, location="files")
@bp.response(200, ImportPreviewOut)
def confirm(args, files, relationship_id: int, name: str):
    """Import the file previewed (the same file again, with the preview's `digest`): every row added or changed in
    one transaction, one audit event. 400 (with `errors.rows`) when a row has a problem, 409 when the register or
    the file changed since the preview; nothing is written then."""
    upload = files["file"]
    limit = current_app.config["SPREADSHEET_MAX_BYTES"]
    return _preview(spreadsheets.confirm(session(), user(), relationship_id, name, upload.stream.read(limit + 1),
                                         upload.filename or "", args["digest"], now=now(), max_bytes=limit))
