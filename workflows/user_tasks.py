"""What the application sees of engine tasks: plain dataclasses, never SpiffWorkflow objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .errors import ScriptFailed, ScriptLocation


@dataclass(frozen=True)
class UserTask:
    """A human task that is ready to be worked on."""

    id: str  # the engine's task UUID, stable for the life of the task
    bpmn_id: str
    name: str
    lane: str | None
    process_id: str  # the (called) process that holds the task
    form: str | None  # formJsonSchemaFilename
    ui_form: str | None  # formUiSchemaFilename
    instructions: str | None
    documentation: str | None
    properties: dict = field(default_factory=dict)
    subprocess_id: str | None = None  # the call activity's task id (groups a stage's tasks)
    loop_index: int | None = None  # the item number inside a multi-instance task
    data: dict | None = None  # only filled when one task is asked for
    due_at: datetime | None = None  # the deadline: `dueIn` property, else an interrupting timer on it

    @property
    def requirements(self) -> list[str]:
        raw = self.properties.get("requirements", "")
        return [part.strip() for part in raw.split(",") if part.strip()]


@dataclass(frozen=True)
class TimerDue:
    """A timer event that is waiting: when it falls due, and which task catches it."""

    task_id: str
    bpmn_id: str
    name: str | None
    due_at: datetime
    kind: str  # duration | date | cycle


@dataclass(frozen=True)
class Event:
    """Something the engine did, for the audit trail."""

    action: str  # e.g. instance.started, task.completed, timer.fired, signal.received
    payload: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceCall:
    """What a service task asked of a connector (`workflows.connectors`), with its parameters evaluated and checked:
    the app performs it in the transaction of the action that ran the task (`Result.service_calls`)."""

    connector: str
    params: dict
    task_id: str
    bpmn_id: str
    task_name: str | None
    process_id: str

    def failed(self, message: str) -> ScriptFailed:
        """The error to raise when the call cannot be performed: located at its service task, like a failed
        script, so the action is refused (nothing is saved) and the process owner sees where."""
        return ScriptFailed(f"the connector {self.connector!r} failed: {message}", ScriptLocation(
            task_id=self.task_id, bpmn_id=self.bpmn_id, task_name=self.task_name, process_id=self.process_id))


@dataclass
class Effect:
    """Work a script or service task asked for beyond its instance, done after the save: by the engine, or, for a
    connector the app performs (`call`), by the app."""

    kind: str  # start_process | cancel_linked | signal_parent | connector
    process_id: str | None = None
    name: str | None = None
    data: dict = field(default_factory=dict)
    call: ServiceCall | None = None
