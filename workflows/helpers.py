"""The one list of functions a diagram's scripts, conditions and timer expressions may call.

The safe builtins (scripting.CONDITION_FUNCTION_NAMES) and the helpers below: the engine runs with them,
and validation, deploy and inspect check expressions against the same names (FUNCTION_NAMES), so a
condition using `add_period` gets the same answer everywhere. An engine given extra helpers checks with
its own, larger list (WorkflowEngine.function_names).
"""

from __future__ import annotations

from collections.abc import Callable

from . import clock, periods, settings
from .effects import json_data, record_effect
from .measures import measure_status, measure_trend, status_trend
from .scripting import CONDITION_FUNCTION_NAMES
from .user_tasks import Effect


def default_helpers() -> dict[str, Callable]:
    """The names a diagram's scripts and expressions may call, beyond the safe builtins."""

    def start_process(process_id: str, data: dict | None = None):
        json_data(data or {})
        record_effect(Effect("start_process", process_id=process_id, data=dict(data or {})))

    def cancel_linked(process_id: str | None = None):
        record_effect(Effect("cancel_linked", process_id=process_id))

    def signal_parent(name: str, payload: dict | None = None):
        json_data(payload or {})
        record_effect(Effect("signal_parent", name=name, data=dict(payload or {})))

    return {
        "now": lambda: periods.iso(clock.now()),
        "add_period": lambda start, period, times=1: periods.iso(periods.add_period(start, period, times)),
        "next_after": lambda anchor, period, after=None: periods.iso(
            periods.next_after(anchor, period, after or clock.now())),
        "scale_period": lambda period, percent: periods.scale_period(period, percent),
        "start_process": start_process,
        "cancel_linked": cancel_linked,
        "signal_parent": signal_parent,
        "measure_status": measure_status,
        "measure_trend": measure_trend,
        "status_trend": status_trend,
        "setting": settings.setting,
        "settings": settings.settings,
    }


HELPER_NAMES = frozenset(default_helpers())
FUNCTION_NAMES = CONDITION_FUNCTION_NAMES | HELPER_NAMES
