"""The shapes of the registers API: what it accepts and what it answers (marshmallow; the OpenAPI document is made
from them)."""

from __future__ import annotations

from marshmallow import Schema, fields

from ..api.common import ID, In, PageArgs, page_of


class RegisterEntryOut(Schema):
    id = fields.Integer()
    register = fields.String()
    data = fields.Dict(metadata={"description": "the entry's fields, as the register's columns say"})
    joint = fields.Boolean(metadata={"description": "shared with the partner organisation"})
    version = fields.Integer()
    source = fields.String(metadata={"description": "'form', or the lifecycle task it came from"})
    updated_at = fields.DateTime()
    updated_by = fields.String(allow_none=True)
    removed = fields.Boolean()
    flags = fields.List(fields.String(), metadata={"description": "e.g. 'review overdue', 'overdue'"})


RegisterEntryPage = page_of(RegisterEntryOut)


class RegisterChangeOut(Schema):
    version = fields.Integer()
    change = fields.String()
    data = fields.Dict()
    joint = fields.Boolean()
    source = fields.String()
    at = fields.DateTime()
    by = fields.String(allow_none=True)


class RegisterEntryDetailOut(RegisterEntryOut):
    history = fields.List(fields.Nested(RegisterChangeOut))


class RegisterListArgs(PageArgs):
    removed = fields.Boolean(load_default=False)


class RegisterEntryIn(In):
    data = fields.Dict(required=True, metadata={"description": "the entry's fields (see the register's schema)"})
    joint = fields.Boolean(load_default=False)


class RegisterEntryChangeIn(In):
    data = fields.Dict(required=True)
    joint = fields.Boolean(load_default=None, allow_none=True)
    version = fields.Integer(required=True, validate=ID,
                             metadata={"description": "the version you changed; a newer one is a 409"})


class RegisterRemoveArgs(In):
    version = fields.Integer(required=True, validate=ID)


class StepOut(Schema):
    at = fields.DateTime(allow_none=True)
    what = fields.String()
    by = fields.String(allow_none=True)


class IssueLogOut(Schema):
    id = fields.Integer()
    title = fields.String()
    raised_at = fields.DateTime()
    raised_by = fields.String(allow_none=True)
    status = fields.String()
    level = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    steps = fields.List(fields.Nested(StepOut))


class RegisterOut(Schema):
    name = fields.String()
    title = fields.String()
    description = fields.String()
    key = fields.String()
    editable = fields.Boolean()
    schema = fields.Dict()


