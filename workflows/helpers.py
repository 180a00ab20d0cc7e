"""The one list of functions a diagram's scripts, conditions and timer expressions may call.

The safe builtins (scripting.CONDITION_FUNCTION_NAMES) and the helpers below: the engine runs with them,
and validation, deploy and inspect check expressions against the same names (FUNCTION_NAMES), so a
condition using `add_period` gets the same answer everywhere. An engine given extra helpers checks with
its own, larger list (WorkflowEngine.function_names).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable

from . import clock, periods
from .errors import InvalidData, WorkflowError
from .scripting import CONDITION_FUNCTION_NAMES
from .user_tasks import Effect

effects_var: contextvars.ContextVar[list[Effect] | None] = contextvars.ContextVar("engine_effects", default=None)


def _record_effect(effect: Effect):
    effects = effects_var.get()
    if effects is None:
        raise WorkflowError("linked-instance helpers can only be used while an instance runs")
    effects.append(effect)


def json_data(value, path="data"):
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


def default_helpers() -> dict[str, Callable]:
    """The names a diagram's scripts and expressions may call, beyond the safe builtins."""

    def start_process(process_id: str, data: dict | None = None):
        json_data(data or {})
        _record_effect(Effect("start_process", process_id=process_id, data=dict(data or {})))

    def cancel_linked(process_id: str | None = None):
        _record_effect(Effect("cancel_linked", process_id=process_id))

    def signal_parent(name: str, payload: dict | None = None):
        json_data(payload or {})
        _record_effect(Effect("signal_parent", name=name, data=dict(payload or {})))

    return {
        "now": lambda: periods.iso(clock.now()),
        "add_period": lambda start, period, times=1: periods.iso(periods.add_period(start, period, times)),
        "next_after": lambda anchor, period, after=None: periods.iso(
            periods.next_after(anchor, period, after or clock.now())),
        "start_process": start_process,
        "cancel_linked": cancel_linked,
        "signal_parent": signal_parent,
    }


HELPER_NAMES = frozenset(default_helpers())
FUNCTION_NAMES = CONDITION_FUNCTION_NAMES | HELPER_NAMES
