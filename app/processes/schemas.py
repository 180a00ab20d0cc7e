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

BPMN_NAME = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,200}\.(?:bpmn|dmn)$",
                            error="a diagram is named like `stage1_awareness.bpmn`, a decision table like "
                                  "`partner_selection.dmn`")


FORM_NAME = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,200}\.json$",
                            error="a form is named like `s1_scope.schema.json`")
SCENARIO_NAME = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.scenario\.json$",
                                error="a scenario's file name ends in .scenario.json")


LANE_ROLES = {"description": "lanes the diagrams name, mapped to roles: {lane name: role} or {lane name: "
                             "{\"role\": role, \"partner_side\": true|false}}, on top of the latest version's "
                             "mapping (a new version keeps it)"}


def _lane_roles():
    return fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=255)), values=fields.Raw(),
                       load_default=None, allow_none=True, validate=validate.Length(max=200), metadata=LANE_ROLES)


class BundleIn(In):
    files = fields.Dict(keys=fields.String(validate=BPMN_NAME), values=_text(), required=True,
                        metadata={"description": "BPMN diagrams and DMN decision tables: {file name: XML text}"})
    forms = fields.Dict(keys=fields.String(validate=FORM_NAME), values=_text(), load_default=dict,
                        metadata={"description": "forms: {file name: JSON Schema or UI schema text}"})
    lane_roles = _lane_roles()
    scenarios = fields.Dict(keys=fields.String(validate=SCENARIO_NAME), values=_text(), load_default=None,
                            metadata={"description": "scenarios that must pass: {file name: JSON text}; left out, the "
                                                     "latest version's scenarios run and are kept"})

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
    lane_roles = _lane_roles()


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
    scenarios = fields.List(fields.String())


class ValidateOut(Schema):
    valid = fields.Boolean()
    problems = fields.List(fields.Nested(ProblemOut), metadata={"description": "errors block a deploy; warnings not"})
    process_ids = fields.List(fields.String())


class DeployOut(Schema):
    version = fields.Nested(VersionOut)
    created = fields.Boolean(metadata={"description": "false when the same content was the latest version"})
    warnings = fields.List(fields.Nested(ProblemOut))


class AttributeChangeOut(Schema):
    attribute = fields.String(metadata={"description": "the setting in plain words: name, form, timer (after), "
                                                       "condition to <element>, script, due period, lane, …"})
    old = fields.String(allow_none=True)
    new = fields.String(allow_none=True)
    lines = fields.List(fields.String(), metadata={"description": "for scripts and long text: a line diff "
                                                                  "(`- ` removed, `+ ` added, `  ` unchanged)"})


class ChangeOut(Schema):
    process_id = fields.String()
    element_id = fields.String()
    name = fields.String(allow_none=True)
    kind = fields.String()
    attributes = fields.List(fields.String())
    details = fields.List(fields.Nested(AttributeChangeOut), metadata={"description": "changed elements: each "
                                                                                      "setting, old → new"})


class FormFieldOut(Schema):
    title = fields.String()
    type = fields.String()
    required = fields.String(metadata={"description": "required | optional"})
    choices = fields.String()


class FieldChangeOut(Schema):
    field = fields.String(metadata={"description": "the field's path (`risks[].owner`: a column of rows)"})
    how = fields.String(metadata={"description": "added | removed | changed"})
    old = fields.Nested(FormFieldOut)
    new = fields.Nested(FormFieldOut)
    aspects = fields.List(fields.String(), metadata={"description": "what differs: title, type, required, choices"})


class FormChangeOut(Schema):
    name = fields.String()
    how = fields.String(metadata={"description": "added | removed | changed"})
    title = fields.List(fields.String(allow_none=True), metadata={"description": "[old, new] when it changed"})
    fields_ = fields.List(fields.Nested(FieldChangeOut), data_key="fields")
    other = fields.Boolean(metadata={"description": "it changed beyond its fields' title, type, required, choices"})


class DiffOut(Schema):
    added_processes = fields.List(fields.String())
    removed_processes = fields.List(fields.String())
    added = fields.List(fields.Nested(ChangeOut))
    removed = fields.List(fields.Nested(ChangeOut))
    changed = fields.List(fields.Nested(ChangeOut))
    forms = fields.List(fields.Nested(FormChangeOut))


class ReadyTaskOut(Schema):
    task = fields.String()
    in_new_version = fields.String(metadata={"description": "what the new version has for it, in words"})


class DryRunOut(Schema):
    instance_id = fields.Integer()
    title = fields.String(allow_none=True)
    process_id = fields.String()
    from_version_id = fields.Integer()
    stage = fields.String(allow_none=True, metadata={"description": "the current stage, e.g. `5 · Working together`"})
    ready = fields.List(fields.String(), metadata={"description": "its ready tasks, by name"})
    at = fields.List(fields.Nested(ReadyTaskOut))
    ahead = fields.List(fields.String(), metadata={"description": "the new tasks it will reach, in words"})
    can_migrate = fields.Boolean()
    reasons = fields.List(fields.String())


class RollBackIn(In):
    message = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                            metadata={"description": "why: goes into the version history and the audit trail"})


class RollBackImpactOut(Schema):
    version_id = fields.Integer()
    latest_id = fields.Integer(allow_none=True)
    can_follow = fields.List(fields.Nested(DryRunOut))
    cannot_follow = fields.List(fields.Nested(DryRunOut))


class MigrationMoveOut(Schema):
    id = fields.Integer()
    instance_id = fields.Integer()
    title = fields.String(allow_none=True)
    from_version_id = fields.Integer()
    to_version_id = fields.Integer()
    moved_at = fields.DateTime()
    undone_at = fields.DateTime(allow_none=True)
    can_undo = fields.Boolean()
    undo_blocked = fields.String(allow_none=True, metadata={"description": "why it can no longer be undone"})




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


class MessageIn(In):
    data = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=200)), load_default=dict,
                       metadata={"description": "the message's content: the data each started instance begins with"})


class MessageStartedOut(Schema):
    message = fields.String()
    started = fields.List(fields.Nested(ProcessStartedOut), metadata={
        "description": "one instance per process of the deployed version whose start event catches the message"})


class ScheduledStartOut(Schema):
    process_id = fields.String()
    name = fields.String()
    timer = fields.String(metadata={"description": "the start event's timer as the diagram writes it"})
    next_at = fields.DateTime(allow_none=True, metadata={"description": "when it next starts; null: no more"})
    started = fields.Integer(metadata={"description": "instances started on this timer so far"})
    last_started_at = fields.DateTime(allow_none=True)
    last_instance_id = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True, metadata={"description": "why the last start failed, if it did"})


class ProcessFoundOut(Schema):
    process_id = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    executable = fields.Boolean()
    line = fields.Integer(allow_none=True)


class LaneOut(Schema):
    lane = fields.String()
    role = fields.String(allow_none=True, metadata={"description": "the role working it; null: map it first"})
    partner_side = fields.Boolean(metadata={"description": "worked by the partner organisation's people"})


class InspectOut(Schema):
    filename = fields.String()
    well_formed = fields.Boolean(metadata={"description": "the file is XML this server reads"})
    runnable = fields.Boolean(metadata={"description": "no error: the file could be deployed and run here"})
    processes = fields.List(fields.Nested(ProcessFoundOut), metadata={"description": "every process in the file"})
    problems = fields.List(fields.Nested(ProblemOut),
                           metadata={"description": "what stops it running here (errors) or may surprise (warnings)"})
    lanes = fields.List(fields.Nested(LaneOut), metadata={"description": "every lane of the file and who would work it"})


# ------------------------------------------------------------------------------------------------ operations
REASON = validate.Length(min=1, max=2000)


class ReasonIn(In):
    reason = fields.String(required=True, validate=REASON, metadata={"description": "why: kept in the audit trail"})


class OptionalReasonIn(In):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class RetryIn(In):
    to_version_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=2**31 - 1),
                                   metadata={"description": "move it to this (fixed) version first"})


class OutcomeOut(Schema):
    instance_id = fields.Integer()
    went_on = fields.Boolean(metadata={"description": "it moved on (its due timers fired, its steps ran)"})
    error = fields.String(allow_none=True, metadata={"description": "why it did not: the step that failed"})
    next_due_at = fields.DateTime(allow_none=True, metadata={"description": "nothing was due: its next timer"})


class FailureOut(Schema):
    task = fields.String(allow_none=True)
    element_id = fields.String(allow_none=True)
    line = fields.Integer(allow_none=True)
    message = fields.String()
    at = fields.DateTime(allow_none=True)
    newer_version_id = fields.Integer(allow_none=True, metadata={"description": "a later version it could move to"})


class SuspensionOut(Schema):
    at = fields.DateTime()
    by = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class InstanceStateOut(Schema):
    id = fields.Integer()
    title = fields.String(allow_none=True)
    process_id = fields.String()
    version_id = fields.Integer()
    status = fields.String(metadata={"description": "running | completed | cancelled"})
    failure = fields.Nested(FailureOut, allow_none=True, metadata={"description": "set while it has failed"})
    suspended = fields.Nested(SuspensionOut, allow_none=True, metadata={"description": "set while suspended"})


class WaitingTaskOut(Schema):
    id = fields.Integer(metadata={"description": "the task's id (as in /tasks)"})
    name = fields.String()
    lane = fields.String(allow_none=True)


class DoneElementOut(Schema):
    bpmn_id = fields.String(metadata={"description": "give it as `to_element` to move a token back to it"})
    name = fields.String()
    process_id = fields.String()
    kind = fields.String(metadata={"description": "task | script | subprocess (a call activity: a stage)"})


class InstanceDetailOut(InstanceStateOut):
    waiting_tasks = fields.List(fields.Nested(WaitingTaskOut), metadata={"description": "whose token may move"})
    done_elements = fields.List(fields.Nested(DoneElementOut),
                                metadata={"description": "activities done before: where a token may move back to"})


class OperationsOut(Schema):
    failed = fields.List(fields.Nested(InstanceStateOut))
    stuck = fields.List(fields.Nested(InstanceStateOut))
    suspended = fields.List(fields.Nested(InstanceStateOut))


class MoveIn(In):
    task_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1),
                             metadata={"description": "the waiting task whose token moves (a task id, as in /tasks)"})
    to_element = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=255),
                               metadata={"description": "the element id of an activity done before to move the "
                                                        "token back to; null: past the task (skip it)"})


class ProposeMoveIn(MoveIn):
    reason = fields.String(required=True, validate=REASON)


class ApproveMoveIn(In):
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class PreviewTaskOut(Schema):
    name = fields.String()
    bpmn_id = fields.String()
    lane = fields.String(allow_none=True)


class PreviewTimerOut(Schema):
    name = fields.String()
    due_at = fields.String()


class PreviewOut(Schema):
    how = fields.String(metadata={"description": "reopen | skip"})
    from_name = fields.String()
    to_name = fields.String(allow_none=True)
    withdrawn = fields.List(fields.String(), metadata={"description": "waiting tasks the move would withdraw"})
    completed = fields.List(fields.String(), metadata={"description": "waiting tasks it would complete (skip)"})
    ready = fields.List(fields.Nested(PreviewTaskOut), metadata={"description": "tasks that would become ready"})
    timers = fields.List(fields.Nested(PreviewTimerOut), metadata={"description": "timers then waiting"})
    status = fields.String(metadata={"description": "the instance's status after the move"})


class MoveOut(Schema):
    id = fields.Integer()
    instance_id = fields.Integer()
    from_name = fields.String()
    to_element = fields.String(allow_none=True)
    to_name = fields.String(allow_none=True)
    reason = fields.String()
    status = fields.String(metadata={"description": "pending | applied | rejected | outdated"})
    preview = fields.Nested(PreviewOut, metadata={"description": "the dry run it was proposed on"})
    proposed_by = fields.String()
    proposed_at = fields.DateTime()
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decision_note = fields.String(allow_none=True)


class MovesArgs(In):
    status = fields.String(load_default="pending",
                           validate=validate.OneOf(["pending", "applied", "rejected", "outdated", "all"]))
    instance_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))


class ScenarioStepOut(Schema):
    number = fields.Integer(metadata={"description": "0: the start; the last: the final expectations"})
    action = fields.String()
    passed = fields.Boolean(allow_none=True, metadata={"description": "null: not run, an earlier step failed"})
    message = fields.String(allow_none=True)
    element_id = fields.String(allow_none=True, metadata={"description": "where it failed"})


class ScenarioResultOut(Schema):
    file = fields.String()
    name = fields.String()
    passed = fields.Boolean()
    seconds = fields.Float()
    failure = fields.String(allow_none=True)
    steps = fields.List(fields.Nested(ScenarioStepOut))
    effects = fields.List(fields.Dict(), metadata={"description": "what the application would have done beside "
                                                                  "the engine (linked processes started, signals)"})


class ScenariosOut(Schema):
    version_id = fields.Integer()
    passed = fields.Boolean()
    results = fields.List(fields.Nested(ScenarioResultOut))


class ScenarioRunIn(In):
    name = fields.String(load_default=None, validate=SCENARIO_NAME,
                         metadata={"description": "run only this scenario of the version"})
