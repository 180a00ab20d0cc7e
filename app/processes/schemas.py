"""The shapes of the processes API: what it accepts and what it answers (marshmallow; the OpenAPI document is made
from them)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..api.common import TEXT_MAX, In
from ..inbox.schemas import TaskOut

MAX_FILES = 200
FILE_MAX_CHARS = 5 * 1024 * 1024


def _text():
    return fields.String(validate=validate.Length(max=FILE_MAX_CHARS))

BPMN_NAME = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,200}\.bpmn$",
                            error="a diagram is named like `stage1_awareness.bpmn`")


FORM_NAME = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,200}\.json$",
                            error="a form is named like `s1_scope.schema.json`")


class BundleIn(In):
    files = fields.Dict(keys=fields.String(validate=BPMN_NAME), values=_text(), required=True,
                        metadata={"description": "BPMN diagrams: {file name: XML text}"})
    forms = fields.Dict(keys=fields.String(validate=FORM_NAME), values=_text(), load_default=dict,
                        metadata={"description": "forms: {file name: JSON Schema or UI schema text}"})

    @validates_schema
    def _bounded(self, data, **_kwargs):
        if not data.get("files"):
            raise ValidationError("give at least one diagram", "files")
        if len(data["files"]) + len(data.get("forms", {})) > MAX_FILES:
            raise ValidationError(f"at most {MAX_FILES} files", "files")


class DeployIn(BundleIn):
    message = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=TEXT_MAX))


UPLOAD_NAME = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,200}\.(?:bpmn|xml)$",
                              error="a diagram file is named like `order.bpmn` or `order.xml`")


class InspectIn(In):
    filename = fields.String(required=True, validate=UPLOAD_NAME,
                             metadata={"description": "the file's name as the modelling tool saved it"})
    content = fields.String(required=True, validate=validate.Length(min=1, max=FILE_MAX_CHARS),
                            metadata={"description": "the BPMN XML text"})


class DiffArgs(In):
    from_ = fields.Integer(required=True, data_key="from", validate=validate.Range(min=1, max=2**31 - 1))
    to = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))


class DryRunArgs(In):
    to = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))


class ProblemOut(Schema):
    message = fields.String()
    file = fields.String(allow_none=True)
    element_id = fields.String(allow_none=True)
    element_name = fields.String(allow_none=True)
    line = fields.Integer(allow_none=True)
    severity = fields.String()


class VersionOut(Schema):
    id = fields.Integer()
    content_hash = fields.String()
    author = fields.String(allow_none=True)
    message = fields.String(allow_none=True)
    created_at = fields.DateTime()
    process_ids = fields.List(fields.String())
    files = fields.List(fields.String())
    forms = fields.List(fields.String())


class ValidateOut(Schema):
    valid = fields.Boolean()
    problems = fields.List(fields.Nested(ProblemOut), metadata={"description": "errors block a deploy; warnings not"})
    process_ids = fields.List(fields.String())


class DeployOut(Schema):
    version = fields.Nested(VersionOut)
    created = fields.Boolean(metadata={"description": "false when the same content was the latest version"})
    warnings = fields.List(fields.Nested(ProblemOut))


class ChangeOut(Schema):
    process_id = fields.String()
    element_id = fields.String()
    name = fields.String(allow_none=True)
    kind = fields.String()
    attributes = fields.List(fields.String())


class DiffOut(Schema):
    added_processes = fields.List(fields.String())
    removed_processes = fields.List(fields.String())
    added = fields.List(fields.Nested(ChangeOut))
    removed = fields.List(fields.Nested(ChangeOut))
    changed = fields.List(fields.Nested(ChangeOut))


class DryRunOut(Schema):
    instance_id = fields.Integer()
    title = fields.String(allow_none=True)
    process_id = fields.String()
    from_version_id = fields.Integer()
    can_migrate = fields.Boolean()
    reasons = fields.List(fields.String())




class StartableOut(Schema):
    process_id = fields.String()
    name = fields.String()
    roles = fields.List(fields.String(), metadata={"description": "who may start it (any one of these roles)"})
    form = fields.String(allow_none=True, metadata={"description": "the start form's file name"})
    schema = fields.Dict(allow_none=True, metadata={"description": "the start form's JSON Schema"})
    ui_schema = fields.Dict(allow_none=True, metadata={"description": "the start form's UI schema"})
    documentation = fields.String(allow_none=True)


class ProcessStartIn(In):
    data = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=200)), load_default=dict,
                       metadata={"description": "the start form's fields, as its JSON Schema declares them"})


class ProcessStartedOut(Schema):
    instance_id = fields.Integer()
    process_id = fields.String()
    title = fields.String()
    status = fields.String(metadata={"description": "the instance's status after starting"})
    next_tasks = fields.List(fields.Nested(TaskOut), metadata={"description": "the instance's open tasks now"})
    next_for_you = fields.Integer(allow_none=True, metadata={"description": "the next task you may complete"})


class ProcessFoundOut(Schema):
    process_id = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    executable = fields.Boolean()
    line = fields.Integer(allow_none=True)


class InspectOut(Schema):
    filename = fields.String()
    well_formed = fields.Boolean(metadata={"description": "the file is XML this server reads"})
    runnable = fields.Boolean(metadata={"description": "no error: the file could be deployed and run here"})
    processes = fields.List(fields.Nested(ProcessFoundOut), metadata={"description": "every process in the file"})
    problems = fields.List(fields.Nested(ProblemOut),
                           metadata={"description": "what stops it running here (errors) or may surprise (warnings)"})
