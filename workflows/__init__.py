"""collabflow's engine layer: SpiffWorkflow behind a small, web- and database-free surface.

App code imports from here only, never from SpiffWorkflow itself.
"""

from .connectors import CONNECTORS, Connector, ConnectorRefused
from .decisions import Decision, is_decision_file
from .decisions import declared as declared_decisions
from .element_changes import AttributeChange
from .engine import Result, WorkflowEngine, default_helpers
from .errors import (
    Conflict,
    EventNotExpected,
    InstanceNotFound,
    InvalidData,
    MigrationRefused,
    MoveRefused,
    Problem,
    ScriptFailed,
    SpecNotFound,
    StateTooNew,
    TaskNotFound,
    TaskNotReady,
    ValidationFailed,
    WorkflowError,
)
from .periods import add_period, next_after, parse_period
from .script_check import MAX_SCRIPT_CHARS, ScriptProblem, check_script
from .specs import CompiledVersion, content_hash, read_directory, validate
from .store import InMemoryStore, InstanceRecord, InstanceStore, StoredVersion
from .user_tasks import Event, ServiceCall, TimerDue, UserTask
from .versions import ElementChange, MigrationPreview, MigrationVerdict, OpenElement, VersionDiff

__all__ = [
    "CONNECTORS", "CompiledVersion", "Connector", "ConnectorRefused", "ServiceCall", "Conflict", "Decision", "AttributeChange", "ElementChange", "MigrationPreview", "OpenElement", "Event", "MigrationRefused", "MigrationVerdict", "MoveRefused", "VersionDiff", "EventNotExpected", "InMemoryStore", "InstanceNotFound",
    "InstanceRecord", "InstanceStore", "InvalidData", "Problem", "Result", "ScriptFailed", "SpecNotFound",
    "StateTooNew", "StoredVersion", "TaskNotFound", "TaskNotReady", "TimerDue", "UserTask", "ValidationFailed",
    "WorkflowEngine", "WorkflowError", "MAX_SCRIPT_CHARS", "ScriptProblem", "add_period", "check_script", "content_hash", "declared_decisions", "default_helpers", "is_decision_file", "next_after",
    "parse_period", "read_directory", "validate",
]
