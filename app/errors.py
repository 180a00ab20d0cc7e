"""Application errors, and the one table that says which HTTP status each domain error means.

Services raise domain words (Forbidden, NotFound, workflows.Conflict, ...); error_handlers.py turns
them into responses at the edge.
"""

from __future__ import annotations

from workflows import (
    Conflict,
    EventNotExpected,
    InstanceNotFound,
    InvalidData,
    MoveRefused,
    ScriptFailed,
    SpecNotFound,
    TaskNotFound,
    TaskNotReady,
    ValidationFailed,
    WorkflowError,
)


class AppError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, errors: dict | list | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFound(AppError):
    code, status = "not_found", 404


class Forbidden(AppError):
    """The user may not do this. Raised by services, so every entry point obeys the same rule."""

    code, status = "forbidden", 403


class BadRequest(AppError):
    code, status = "bad_request", 400


class Suspended(AppError):
    """The instance is suspended by an administrator: nothing moves it on until it is resumed."""

    code, status = "instance_suspended", 409


class Unavailable(AppError):
    """Something this machine lacks (a system library), not something the user did wrong."""

    code, status = "unavailable", 503


STATUS_FOR = {
    ValidationFailed: 422, InvalidData: 422, ScriptFailed: 422, Conflict: 409, TaskNotReady: 409,
    EventNotExpected: 409, MoveRefused: 409, TaskNotFound: 404, InstanceNotFound: 404, SpecNotFound: 404,
}


def describe(exc: Exception) -> tuple[int, dict]:
    """(status, {code, status, message, errors}) for any error a service raises."""
    if isinstance(exc, AppError):
        return exc.status, {"code": exc.code, "status": exc.status, "message": exc.message, "errors": exc.errors}
    if isinstance(exc, WorkflowError):
        status = next((s for cls, s in STATUS_FOR.items() if isinstance(exc, cls)), 400)
        errors = [p.as_dict() for p in exc.problems] if isinstance(exc, ValidationFailed) else exc.details
        return status, {"code": exc.code, "status": status, "message": exc.message, "errors": errors}
    raise TypeError(exc)
