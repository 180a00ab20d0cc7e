"""The shapes of the spreadsheet API: the upload, the preview of every row and the confirm (marshmallow; the OpenAPI
document is made from them)."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from ..api.common import In


class SpreadsheetFileIn(In):
    file = Upload(required=True, metadata={"description": "the filled .xlsx file (the register's template or export)"})


class ImportConfirmArgs(In):
    digest = fields.String(required=True, validate=validate.Length(equal=64),
                           metadata={"description": "the preview's `digest`: the import is refused (409) when the "
                                                    "register or the file changed since that preview"})


class ImportProblemOut(Schema):
    row = fields.Integer(metadata={"description": "the row in the sheet (row 1 holds the column titles)"})
    column = fields.String(allow_none=True, metadata={"description": "the column's title, or null for the row"})
    message = fields.String()


class ImportRowOut(Schema):
    row = fields.Integer()
    action = fields.String(metadata={"description": "create | update | unchanged | invalid"})
    name = fields.String(metadata={"description": "what names the entry"})
    entry_id = fields.Integer(allow_none=True)
    changed = fields.List(fields.String(), metadata={"description": "the titles of the columns that change"})
    problems = fields.List(fields.Nested(ImportProblemOut))


class ImportCountsOut(Schema):
    rows = fields.Integer()
    create = fields.Integer()
    update = fields.Integer()
    unchanged = fields.Integer()
    invalid = fields.Integer()


class ImportPreviewOut(Schema):
    register = fields.String()
    filename = fields.String()
    sha256 = fields.String()
    digest = fields.String(metadata={"description": "send it with the same file to confirm"})
    counts = fields.Nested(ImportCountsOut)
    problems = fields.List(fields.Nested(ImportProblemOut), metadata={"description": "every problem; none to confirm"})
    rows = fields.List(fields.Nested(ImportRowOut))
