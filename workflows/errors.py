"""Domain errors of the engine layer: raised low, turned into HTTP answers once, at the app's edge."""

from __future__ import annotations

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
        line = f", line {location.line}" if location.line else ""
        super().__init__(f"{message} (in '{where}'{line})", **location.__dict__)
