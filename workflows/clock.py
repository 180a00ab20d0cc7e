"""The engine's clock: real UTC time, or the time an operation was given (scheduler jobs, tests).

SpiffWorkflow reads `datetime.now(timezone.utc)` inside its timer module and offers no way to inject
a clock, so this module replaces that module's `datetime` name with a subclass whose `now()` reads a
context variable. Every engine operation runs inside `running_at(now)`; outside one, time is real.
"""

from __future__ import annotations

import contextlib
import contextvars
from datetime import UTC, datetime

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _spiff_timer

_frozen: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("collabflow_now", default=None)


def now() -> datetime:
    """The current time for the engine: the operation's `now` if one is set, else the wall clock (UTC)."""
    value = _frozen.get()
    return value if value is not None else datetime.now(UTC)


@contextlib.contextmanager
def running_at(when: datetime | None):
    """Run the enclosed engine work as if it were `when` (timezone-aware; None = the real clock)."""
    if when is not None and when.tzinfo is None:
        raise ValueError("the engine clock needs a timezone-aware datetime")
    token = _frozen.set(when)
    try:
        yield
    finally:
        _frozen.reset(token)


class _EngineDatetime(datetime):
    """What SpiffWorkflow's timer module sees as `datetime`: identical except that now() is ours."""

    @classmethod
    def now(cls, tz=None):
        current = now()
        return current.astimezone(tz) if tz is not None else current.astimezone().replace(tzinfo=None)


_spiff_timer.datetime = _EngineDatetime
