"""What a timer's text means: an ISO 8601 literal as modelling tools write it, or an expression.

SpiffWorkflow evaluates every timer's text as a Python expression, so `<bpmn:timeDuration>P7D</...>` (how
bpmn.io/Camunda Modeler, Signavio and Open-BPMN write it) would fail when the timer is reached. Here a bare
ISO 8601 value is that value: a duration (`P7D`, `PT2H`) in timeDuration, a repeating interval (`R6/P1D`,
`R/PT30M`, `R3/2026-03-01T09:00:00Z/P1D`) in timeCycle, a date-time (`2026-03-01T09:00:00Z`) in timeDate,
with or without surrounding white space. Quoted literals (`"P7D"`), data names (`l1_limit`) and calls
(`add_period(...)`) stay expressions.

A bare value runs, but is reported as a warning with how it is read and the fix (quote it, or name a data
field): `P7D` typed where a data field's name was meant would otherwise run silently as seven days.

Text that looks like an ISO value but is not a valid one of its kind (`P3X`, `p7d`, `R6/P1X`, `2026-13-01`)
is ambiguous - a mistyped literal or a data field named like one - and is refused at validation with the fix
(`classify` gives the reason); it never reaches an instance. The engine (scripting.SandboxScriptEngine) and
validation (specs) read timers through this module only, so they always agree.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)

# text a person means as an ISO value, whatever else it could parse as: P or PT alone or before a digit,
# R[n]/, a date
_LOOKS_ISO = re.compile(r"^(?:PT?$|PT?\d|R\d*/|\d{4}-|\d{8}T)", re.IGNORECASE)
_NUMBER = r"\d+(?:[.,]\d+)?"
_DURATION = re.compile(
    rf"^P(?!$)(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
    rf"(?:T(?=\d)(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?$")
_CYCLE = re.compile(r"^R\d*/[^/]+(?:/[^/]+)?$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")

KINDS = {DurationTimerEventDefinition: "timeDuration", CycleTimerEventDefinition: "timeCycle",
         TimeDateEventDefinition: "timeDate"}
_EXAMPLES = {"timeDuration": "an ISO 8601 duration such as P7D or PT2H",
             "timeCycle": "an ISO 8601 repeating interval such as R6/P1D or R/PT30M",
             "timeDate": "an ISO 8601 date-time such as 2026-03-01T09:00:00Z"}


@dataclass(frozen=True)
class TimerText:
    """How a timer's text reads. Exactly one of `literal` / `expression` / `refusal` is set.

    literal: the ISO value itself (the engine uses it as is); expression: evaluate it with the task data;
    refusal: why it can neither run nor be guessed, with the fix. `warning`: runs, but probably not as meant.
    """

    kind: str
    literal: str | None = None
    expression: str | None = None
    refusal: str | None = None
    warning: str | None = None


def kind_of(event_definition) -> str | None:
    """'timeDuration' | 'timeCycle' | 'timeDate' for a SpiffWorkflow timer definition, else None."""
    for cls, kind in KINDS.items():
        if isinstance(event_definition, cls):
            return kind
    return None


def classify(kind: str, text: str | None) -> TimerText:
    """Read a timer's text (as written in the diagram) for a timer of `kind`."""
    stripped = (text or "").strip()
    if not stripped:
        return TimerText(kind, refusal=f"the timer has no value: write {_EXAMPLES[kind]}")
    if _LOOKS_ISO.match(stripped):
        return _literal(kind, stripped, quoted=False)
    try:
        quoted = ast.literal_eval(stripped)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return TimerText(kind, expression=stripped)
    if isinstance(quoted, str):
        return _literal(kind, quoted.strip(), quoted=True)
    return TimerText(kind, refusal=f"{stripped} is not a timer value: write {_EXAMPLES[kind]}")


def expression_refusal(kind: str, text: str, reason: str) -> str:
    """Why a timer's text that is no ISO value cannot run as an expression either (`reason`), with the fix."""
    return (f"{text.strip()!r} is neither an ISO 8601 value nor an expression that can run ({reason}): write "
            f"{_EXAMPLES[kind]} in quotes, or the name of a data field that holds one")


def literal_of(event_definition) -> str | None:
    """The ISO value a timer names literally (quoted or bare), or None when its text is an expression/refused."""
    kind = kind_of(event_definition)
    return classify(kind, event_definition.expression).literal if kind else None


def check_value(kind: str, value) -> str | None:
    """Why a value an expression produced cannot drive a timer of `kind`, or None."""
    if not isinstance(value, str):
        return f"the timer value must be text ({_EXAMPLES[kind]}), not {type(value).__name__}"
    return _literal(kind, value.strip(), quoted=True).refusal


def _literal(kind: str, value: str, quoted: bool) -> TimerText:
    problem = _invalid(kind, value)
    if problem is None:
        warnings = []
        if not quoted:
            warnings.append(f"is written without quotes: it runs as the {_in_words(kind, value)}; write \"{value}\" "
                            "to say so, or the name of a data field")
        if kind == "timeDate" and not _OFFSET.search(value):
            warnings.append(f"the date-time {value} has no time zone, so it is read in the server's time zone: "
                            f"add Z (UTC) or an offset, e.g. {value if 'T' in value else value + 'T00:00:00'}Z")
        return TimerText(kind, literal=value, warning="; ".join(warnings) or None)
    fix = f"write {_EXAMPLES[kind]}"
    if not quoted:
        fix += " (in quotes); a data field may not be named like an ISO value, so rename it if one was meant"
    capitals = value.upper()
    if capitals != value and _invalid(kind, capitals) is None:
        fix = f"write the ISO 8601 letters in capitals: {capitals} (in quotes: \"{capitals}\")"
    return TimerText(kind, refusal=f"{value} is not valid ISO 8601 for {kind} ({problem}): {fix}")


_UNITS = {"Y": "year", "W": "week", "D": "day", "H": "hour", "S": "second"}
_PART = re.compile(r"(\d+(?:[.,]\d+)?)([YMWDHS])")


def _in_words(kind: str, value: str) -> str:
    """'the period P7D (7 days)', 'the repeating interval R/P1M (every 1 month, without end)', 'the date-time ...'."""
    if kind == "timeDate":
        return f"date-time {value}"
    if kind == "timeDuration":
        return f"period {value} ({_duration_words(value)})"
    repeat, *parts = value.split("/")
    times = f"{repeat[1:]} times" if repeat[1:] else "without end"
    period = next((p for p in parts if _duration_ok(p)), "")
    start = next((f", from {p}" for p in parts if not _duration_ok(p)), "")
    return f"repeating interval {value} (every {_duration_words(period)}{start}, {times})"


def _duration_words(value: str) -> str:
    date, _, time = value[1:].partition("T")
    words = []
    for part, units in ((date, {**_UNITS, "M": "month"}), (time, {**_UNITS, "M": "minute"})):
        for amount, unit in _PART.findall(part):
            words.append(f"{amount} {units[unit]}{'' if amount == '1' else 's'}")
    return ", ".join(words) or value


def _invalid(kind: str, value: str) -> str | None:
    """Why `value` is not a valid ISO literal for `kind` (checked as SpiffWorkflow will read it), or None."""
    if kind == "timeDuration":
        return None if _duration_ok(value) else "not a duration"
    if kind == "timeDate":
        return None if _date_ok(value) else "not a date-time"
    if not _CYCLE.match(value):
        return "not a repeating interval R[n]/..."
    parts = value.split("/")[1:]
    if not all(_duration_ok(p) or _date_ok(p) for p in parts) or sum(_duration_ok(p) for p in parts) != 1:
        return "a repeating interval needs one duration and at most one date-time"
    try:
        TimerEventDefinition.parse_iso_recurring_interval(value)
    except Exception:  # SpiffWorkflow raises bare Exception for a bad interval
        return "not a repeating interval SpiffWorkflow can read"
    return None


def _duration_ok(value: str) -> bool:
    if not _DURATION.match(value):
        return False
    try:
        TimerEventDefinition.parse_iso_duration(value)
    except Exception:  # SpiffWorkflow raises bare Exception('Invalid duration')
        return False
    return True


def _date_ok(value: str) -> bool:
    if not _DATE_TIME.match(value):
        return False
    try:
        return isinstance(TimerEventDefinition.parse_time_or_duration(value), datetime)
    except (ValueError, TypeError, AttributeError):
        return False
