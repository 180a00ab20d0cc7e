"""Work a running diagram asks for beyond its own instance (start a process, signal the parent, call a connector):
recorded while the engine steps, done after the save (the engine's `_run_effects`, or the app for a connector)."""

from __future__ import annotations

import contextvars

from .errors import InvalidData, WorkflowError
from .user_tasks import Effect

effects_var: contextvars.ContextVar[list[Effect] | None] = contextvars.ContextVar("engine_effects", default=None)


def record_effect(effect: Effect) -> None:
    """Note `effect` for the operation running now. Raises WorkflowError outside an engine operation."""
    effects = effects_var.get()
    if effects is None:
        raise WorkflowError("linked-instance helpers can only be used while an instance runs")
    effects.append(effect)


def json_data(value, path="data"):
    """Raise InvalidData naming the path of the first value that cannot be stored as JSON."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidData(f"{path}: keys must be strings, got {key!r}", field=path)
            json_data(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            json_data(item, f"{path}[{index}]")
    elif not isinstance(value, str | int | float | bool | type(None)):
        raise InvalidData(f"{path}: a {type(value).__name__} cannot be stored", field=path)
