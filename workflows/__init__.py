"""collabflow's engine layer: SpiffWorkflow behind a small, web- and database-free surface.

App code imports from here only, never from SpiffWorkflow itself.
"""

from .engine import Result, WorkflowEngine, default_helpers
from .errors import (
    Conflict,
    EventNotExpected,
    InstanceNotFound,
    InvalidData,
    MigrationRefused,
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
from .specs import CompiledVersion, content_hash, read_directory, validate
from .store import InMemoryStore, InstanceRecord, InstanceStore, StoredVersion
from .user_tasks import Event, TimerDue, UserTask
from .versions import ElementChange, MigrationVerdict, VersionDiff

__all__ = [
    "CompiledVersion", "Conflict", "ElementChange", "Event", "MigrationRefused", "MigrationVerdict", "VersionDiff", "EventNotExpected", "InMemoryStore", "InstanceNotFound",
    "InstanceRecord", "InstanceStore", "InvalidData", "Problem", "Result", "ScriptFailed", "SpecNotFound",
    "StateTooNew", "StoredVersion", "TaskNotFound", "TaskNotReady", "TimerDue", "UserTask", "ValidationFailed",
    "WorkflowEngine", "WorkflowError", "add_period", "content_hash", "default_helpers", "next_after",
    "parse_period", "read_directory", "validate",
]
