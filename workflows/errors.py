"""Domain errors of the engine layer: raised low, turned into HTTP answers once, at the app's edge."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class WorkflowError(Exception):
    """Base of every error the engine layer raises on purpose."""

    code = "workflow_error"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


@dataclass(frozen=True)
class Problem:
    """One located finding of a validation: which file, which element, which line, what is wrong."""

    message: str
    file: str | None = None
    element_id: str | None = None
    element_name: str | None = None
    line: int | None = None
    severity: str = "error"  # "error" blocks a deploy; "warning" is shown but does not

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p)
        element = f" [{self.element_id}{' ' + repr(self.element_name) if self.element_name else ''}]" if self.element_id else ""
        return f"{where or '<input>'}{element}: {self.severity}: {self.message}"

    def as_dict(self) -> dict:
        return {
            "message": self.message, "file": self.file, "element_id": self.element_id,
            "element_name": self.element_name, "line": self.line, "severity": self.severity,
        }


class ValidationFailed(WorkflowError):
    """A set of diagrams and forms was refused; `problems` says where and why."""

    code = "validation_failed"

    def __init__(self, problems: list[Problem]):
        self.problems = [p for p in problems]
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(f"{len(errors)} error(s) in the diagrams and forms: " + "; ".join(map(str, errors[:5])))


class SpecNotFound(WorkflowError):
    code = "spec_not_found"


class InstanceNotFound(WorkflowError):
    code = "instance_not_found"


class TaskNotFound(WorkflowError):
    code = "task_not_found"


class TaskNotReady(WorkflowError):
    """The task exists but cannot be completed now (already done, cancelled or not reached)."""

    code = "task_not_ready"


class Conflict(WorkflowError):
    """Somebody else changed the instance since it was read; nothing was written."""

    code = "conflict"


class EventNotExpected(WorkflowError):
    """A signal or message was sent to an instance that is not waiting for it."""

    code = "event_not_expected"


class InvalidData(WorkflowError):
    """Task data that cannot be stored (not JSON-like, reserved names)."""

    code = "invalid_data"


class MigrationRefused(WorkflowError):
    """The instance cannot move to the other version; `details['reasons']` names each open element in the way."""

    code = "migration_refused"


class MoveRefused(WorkflowError):
    """A repair by hand (skip a script, move a token) that the engine cannot do here; the message says why."""

    code = "move_refused"


class StateTooNew(WorkflowError):
    """Stored state was written by a newer collabflow than this one."""

    code = "state_too_new"


@dataclass
class ScriptLocation:
    task_id: str | None = None
    bpmn_id: str | None = None
    task_name: str | None = None
    process_id: str | None = None
    line: int | None = None
    source_line: str | None = None
    notes: list[str] = field(default_factory=list)


class ScriptFailed(WorkflowError):
    """A script, condition or timer expression in a diagram failed or was stopped by the sandbox.

    Nothing of the failed step is saved: the instance stays as it was before the action.
    """

    code = "script_failed"

    def __init__(self, message: str, location: ScriptLocation):
        self.location = location
        where = location.task_name or location.bpmn_id or "?"
        # counted like validation counts: line 1 is the script text's first line (errors: specs.script_error)
        line = f", line {location.line} of the script" if location.line else ""
        super().__init__(f"{message} (in '{where}'{line})", **location.__dict__)


# -------------------------------------------------------------------- SpiffWorkflow's parser, in our words
def element_kind(tag: str | None) -> str:
    """'bpmn:userTask' / '{ns}userTask' -> 'user task'; '' -> 'element'."""
    local = re.split(r"[}:]", tag or "")[-1]
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", local).lower() or "element"


_PARSER_WORDS: list[tuple[re.Pattern, str]] = [(re.compile(pattern, re.DOTALL | re.IGNORECASE), words) for pattern, words in [
    (r"^Non-default exclusive outgoing sequence flow without condition",
     "this sequence flow leaves an exclusive gateway without a condition and is not its default flow: give it a "
     "condition or make it the gateway's default"),
    (r"^Multiple outgoing flows are not supported for tasks of type",
     "this {kind} has several outgoing sequence flows; here an activity has exactly one: put an exclusive or "
     "parallel gateway after it to split the flow"),
    (r"^Exactly one start event is required in a SubWorkflow Task; found (?P<n>\d+)",
     "this sub-process has {n} start events and needs exactly one: add a start event inside it (a collapsed "
     "sub-process from another tool often has none), or make it a call activity"),
    (r"^A SubWorkflow Must contain an End event", "this sub-process has no end event: add one inside it"),
    (r"^Data Store with name (?P<name>.+?) has no implementation",
     "the data store '{name}' cannot be used here (process data lives in task data): remove the data store and "
     "its associations"),
    (r"^Cannot resolve data(?P<way>Input|Output)Association",
     "this {kind} has a data {way_lower} association to a data object or data store that is not in its process: "
     "remove the association or add the data object to the process"),
    (r"^Time Specification Error\.\s*Unknown Time Specification",
     "the timer has no time: give it a duration (timeDuration, e.g. P7D), a date (timeDate) or a cycle "
     "(timeCycle, e.g. R6/P1D)"),
    (r"^Time Specification Error", "the timer's time cannot be read: give it a timeDuration, timeDate or timeCycle"),
    (r"^A Service Task must have an operator",
     "this service task names no connector: choose the connector it runs, one of the product's connectors"),
    (r"^A multiinstance task must specify a cardinality or a loop input data reference",
     "this multi-instance {kind} says neither how many instances (loopCardinality) nor over which collection "
     "(loopDataInputRef): add one, or remove the multi-instance marker"),
    (r"^There is no support implemented for this task type", "a {kind} is not supported by this engine"),
    (r"^No start event found", "the process has no start event: add one"),
    (r"^When looking for a task spec, we found two items",
     "a sequence flow of this {kind} points to an element that does not exist in the process: fix or remove it"),
    (r"^Duplicate process ID: (?P<name>.+)", "the process id '{name}' is used twice: give each process its own id"),
    (r"^Invalid Script Task\.\s*No Script Provided", "the script task has no script: write one or make it a task"),
    (r'^No "calledElement" attribute for Call Activity',
     "the call activity does not say which process it calls: choose the process it calls"),
    (r"^Conditional event definition with missing condition", "the conditional event has no condition"),
    (r"^Could not find messageRef from message event definition: (?P<name>.+)",
     "the message event refers to the message '{name}', which is not defined in the file"),
    (r"^(?P<what>Message|Signal|Error|Escalation|Correlation|Data Store) (?:identifier|name) is missing",
     "a {what_lower} in the file has no id or name"),
    (r"^Sequential ordering for ad hoc subprocesses not supported",
     "ad hoc sub-processes with sequential ordering are not supported"),
    (r"^Ad hoc subprocesses may not contain start or end events",
     "an ad hoc sub-process may not contain start or end events"),
    (r"^Process (?P<name>.+?) is not executable", "the process '{name}' is not marked executable"),
    (r"^[A-Za-z_][\w.]*(?:Error|Exception)\(", "the engine cannot read this {kind}: it is modelled in a way this "
     "engine does not support"),
]]

_ADDRESS = re.compile(r"<[^<>]*? at 0x[0-9a-fA-F]+>|\bat 0x[0-9a-fA-F]+")
_PYTHON_ERROR = re.compile(r"\b(?:Type|Value|Key|Attribute|Index|Name|NotImplemented|Runtime|Assertion)Error\b:?\s*")
_TRACEBACK = re.compile(r"Traceback \(most recent call last\).*", re.DOTALL)


def parser_message(message: str, tag: str | None = None) -> str:
    """SpiffWorkflow's parser message for an element of `tag`, in our words: what is wrong and the fix.

    Known messages are reworded; anything else is cleaned of Python's own text (object addresses, exception
    class names, tracebacks, raw XML) so the upload page and the API never show the library's internals.
    """
    text = " ".join((message or "").split())
    for pattern, words in _PARSER_WORDS:
        match = pattern.search(text)
        if match:
            found = {k: " ".join(v.split()) for k, v in match.groupdict().items() if v}
            found.update({f"{k}_lower": v.lower() for k, v in list(found.items())})
            return words.format(kind=element_kind(tag), **found)
    return clean(text)


def clean(text: str) -> str:
    """Drop what only a programmer could read: tracebacks, object addresses, Python exception names, `<tags`."""
    text = _TRACEBACK.sub("", text)
    text = _ADDRESS.sub("", text)
    text = _PYTHON_ERROR.sub("", text)
    text = text.replace("<", "").replace(">", "")
    # SpiffWorkflow's empty notes leave dots apart ("Unknown Time Specification. . "): fold those, but never
    # dots together ("[1..5]", "...")
    return re.sub(r"\s+", " ", re.sub(r"\s*\.(?:\s+\.)+", ".", text)).strip().rstrip(". ") or "the element cannot be read"
