"""Where a performance measure stands against its target, derived, never typed (R.PM, S5.16): the one rule the
review's script (as a helper) and the relationship page's chart both use.

A measure is on track when its actual meets the target (at or above it, or at or below it when lower is better), at
risk when it misses by at most `amber_percent` of the target, off track beyond that.
"""

from __future__ import annotations

HIGHER, LOWER = "higher_is_better", "lower_is_better"
ON_TRACK, AT_RISK, OFF_TRACK = "on_track", "at_risk", "off_track"


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def measure_status(actual, target, direction: str = HIGHER, amber_percent=10) -> str | None:
    """on_track | at_risk | off_track for a numeric actual against a numeric target; None when either is missing."""
    actual, target, amber = _number(actual), _number(target), _number(amber_percent)
    if actual is None or target is None:
        return None
    shortfall = (target - actual) if direction != LOWER else (actual - target)
    if shortfall <= 0:
        return ON_TRACK
    band = abs(target) * (amber if amber is not None and amber >= 0 else 10.0) / 100
    return AT_RISK if shortfall <= band + 1e-9 * max(1.0, abs(target)) else OFF_TRACK  # 4.4 - 4 is 0.40000000000000036


def measure_trend(actual, previous, direction: str = HIGHER) -> str:
    """improving | stable | worsening against the previous measurement, or first_measurement."""
    actual, previous = _number(actual), _number(previous)
    if previous is None:
        return "first_measurement"
    if actual is None or actual == previous:
        return "stable"
    better = actual > previous if direction != LOWER else actual < previous
    return "improving" if better else "worsening"


_RANK = {OFF_TRACK: 0, AT_RISK: 1, ON_TRACK: 2}


def status_trend(status, previous_status) -> str:
    """The trend of a measure that is not a number, from its assessed status against the previous one."""
    if previous_status not in _RANK:
        return "first_measurement"
    if status not in _RANK or _RANK[status] == _RANK[previous_status]:
        return "stable"
    return "improving" if _RANK[status] > _RANK[previous_status] else "worsening"
