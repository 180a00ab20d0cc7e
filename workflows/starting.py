"""How a process says it may be started: read from its start event, so a process owner declares it in the diagram.

A none start event with the extension property `start_roles` (comma-separated roles) is started by a person with
one of those roles; `start_form` names the JSON Schema form they fill in to start it, and `start_title` the field
of that form that names the instance. A timer or message start event says the process starts on a timer or on a
message instead. A process declaring none of this is started only by the product itself (the lifecycle, by
starting a relationship) or by another process.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from . import periods, timers
from .specs import embedded_ids

PERSON, TIMER, MESSAGE = "person", "timer", "message"


@dataclass(frozen=True)
class StartDeclaration:
    process_id: str
    name: str  # the process's name as the diagram gives it
    how: str  # person | timer | message
    roles: tuple[str, ...] = ()
    form: str | None = None  # the start form's file name (e.g. `nonconformity_raise.schema.json`)
    ui_form: str | None = None
    title_field: str | None = None
    documentation: str | None = None
    timer: str | None = None  # a timer start's ISO value as written (P7D, R/P1M, R6/2027-01-04T09:00:00Z/P1W, a date)
    timer_kind: str | None = None  # timeDuration | timeCycle | timeDate
    message: str | None = None  # a message start's message name


@dataclass(frozen=True)
class StartSchedule:
    """When a timer start next starts an instance, and how it goes on: `period` None starts once; `remaining`
    None repeats for ever."""

    next_at: datetime
    period: str | None
    remaining: int | None
    anchor: datetime | None = None  # occurrences are anchor + k x period: the calendar a cycle keeps


_CYCLE = re.compile(r"^R(?P<times>\d*)/(?:(?P<first>[^/P][^/]*)/)?(?P<period>P[^/]+)$")


def schedule(declared: StartDeclaration, after: datetime) -> StartSchedule | None:
    """The first start of a timer-started process deployed at `after`, calendar-true (R/P1M starts on the same
    day of every month): a date starts once then (None when it has passed), a duration once that long after,
    a cycle R[n]/[first/]period at `first` (or one period after) and every period from there, n times."""
    text = (declared.timer or "").strip()
    if declared.how != TIMER or not text:
        return None
    if declared.timer_kind == "timeDate":
        at = periods.parse_instant(text)
        return StartSchedule(at, None, 1, at) if at > after else None
    if declared.timer_kind == "timeDuration":
        return StartSchedule(periods.add_period(after, text), None, 1, after)
    match = _CYCLE.match(text)
    if match is None:
        return None
    times = int(match["times"]) if match["times"] else None
    if times == 0:
        return None
    period = match["period"]
    anchor = periods.parse_instant(match["first"]) if match["first"] else after
    first = anchor if anchor > after else periods.next_after(anchor, period, after)
    return StartSchedule(first, period, times, anchor)


def following(current: StartSchedule, now: datetime) -> StartSchedule | None:
    """The schedule after a start made at `current.next_at`: None when it was the last; missed occurrences
    (the server was down) start once, not in a burst, and the calendar stays on its anchor."""
    remaining = None if current.remaining is None else current.remaining - 1
    if current.period is None or remaining == 0:
        return None
    anchor = current.anchor or current.next_at
    return StartSchedule(periods.next_after(anchor, current.period, max(now, current.next_at)), current.period,
                         remaining, anchor)


def declarations(specs: Mapping[str, object]) -> list[StartDeclaration]:
    """Every process of a version that declares how it starts, by process id."""
    found = []
    embedded = embedded_ids(specs)
    for process_id, spec in sorted(specs.items()):
        if process_id in embedded:  # an embedded or event sub-process is part of its process, never started alone
            continue
        declared = _declaration(process_id, spec)
        if declared is not None:
            found.append(declared)
    return found


def _declaration(process_id: str, spec) -> StartDeclaration | None:
    start = next((ts for ts in spec.task_specs.values() if type(ts).__name__ == "StartEvent"), None)
    if start is None:
        return None
    name = getattr(spec, "description", None) or process_id
    definition = getattr(start, "event_definition", None)
    kind = type(definition).__name__
    timer_kind = timers.kind_of(definition)
    if timer_kind is not None:
        return StartDeclaration(process_id, name, TIMER, timer=timers.literal_of(definition), timer_kind=timer_kind,
                                documentation=getattr(spec, "documentation", None))
    if "Message" in kind:
        return StartDeclaration(process_id, name, MESSAGE, message=getattr(definition, "name", None),
                                documentation=getattr(spec, "documentation", None))
    properties = (getattr(start, "extensions", None) or {}).get("properties") or {}
    roles = tuple(r.strip() for r in (properties.get("start_roles") or "").split(",") if r.strip())
    if not roles:
        return None
    form = (properties.get("start_form") or "").strip() or None
    ui_form = form.replace(".schema.json", ".uischema.json") if form and form.endswith(".schema.json") else None
    return StartDeclaration(process_id, name, PERSON, roles, form, ui_form,
                            (properties.get("start_title") or "").strip() or None,
                            getattr(spec, "documentation", None))
