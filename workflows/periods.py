"""Calendar-true ISO 8601 periods: a quarter is three calendar months, not 89 days.

SpiffWorkflow converts months to a fixed number of seconds once, so its cycle timers drift from
calendar dates (engine notes, section 2). Reviews therefore use timeDate timers whose due time is
computed here, from an anchor, so that catching up never bursts and never drifts.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta

_PERIOD = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)

MAX_STEPS = 100_000


def parse_period(period: str) -> tuple[int, timedelta]:
    """('P1Y2M3DT4H') -> (14 months, timedelta(days=3, hours=4)). Raises ValueError naming the input."""
    match = _PERIOD.match(period.strip()) if isinstance(period, str) else None
    if not match:
        raise ValueError(f"not an ISO 8601 period: {period!r} (expected e.g. 'P3M', 'P10D', 'PT2H')")
    parts = {k: int(v) if v else 0 for k, v in match.groupdict().items()}
    months = parts["years"] * 12 + parts["months"]
    rest = timedelta(weeks=parts["weeks"], days=parts["days"], hours=parts["hours"],
                     minutes=parts["minutes"], seconds=parts["seconds"])
    if months == 0 and rest == timedelta(0):
        raise ValueError(f"the period {period!r} is empty")
    return months, rest


def parse_instant(value: str | datetime) -> datetime:
    """An ISO 8601 date-time (naive values are read as UTC, never as server-local time)."""
    if isinstance(value, datetime):
        moment = value if type(value) is datetime else datetime.fromisoformat(value.isoformat())
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"not an ISO 8601 date-time: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def add_months(moment: datetime, months: int) -> datetime:
    """Add calendar months, clamping the day (31 Jan + 1 month = 28/29 Feb)."""
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def add_period(start: str | datetime, period: str, times: int = 1) -> datetime:
    """`start` + `times` x `period`, months on the calendar; computed from the start, so no drift."""
    months, rest = parse_period(period)
    moment = parse_instant(start)
    return add_months(moment, months * times) + rest * times


def next_after(anchor: str | datetime, period: str, after: str | datetime) -> datetime:
    """The first anchor + k x period (k >= 1) strictly later than `after`: catch-up fires once, then resumes on the calendar."""
    base, limit = parse_instant(anchor), parse_instant(after)
    months, rest = parse_period(period)
    # jump close first (cheap), then step; steps are bounded so a tiny period cannot hang the caller
    approx_step = timedelta(days=30.4 * months) + rest
    k = max(1, int((limit - base) / approx_step) - 1) if limit > base else 1
    for _ in range(MAX_STEPS):
        candidate = add_months(base, months * k) + rest * k
        if candidate > limit:
            if k > 1:
                previous = add_months(base, months * (k - 1)) + rest * (k - 1)
                if previous > limit:
                    k -= 1
                    continue
            return candidate
        k += 1
    raise ValueError(f"period {period!r} is too small to reach {after!r} from {anchor!r}")


def iso(moment: datetime) -> str:
    """The ISO string the engine stores: UTC with an explicit offset."""
    return moment.astimezone(UTC).isoformat()
