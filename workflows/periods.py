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


def describe_period(period: str) -> str:
    """'P1Y6M' -> '1 year 6 months', 'P14D' -> '14 days', for people; what is not a period comes back as given."""
    match = _PERIOD.match(period.strip()) if isinstance(period, str) else None
    if not match:
        return str(period)
    words = [f"{int(v)} {unit}{'s' if int(v) != 1 else ''}" for unit, v in
             zip(("year", "month", "week", "day", "hour", "minute", "second"), match.groups(), strict=True) if v]
    return " ".join(words) or str(period)


def scale_period(period: str, percent: int | float) -> str:
    """`percent` % of an ISO 8601 period, as a period: ('P10D', 50) -> 'P5D', ('P5D', 50) -> 'P2DT12H'.

    100 % gives the period back as written. Months stay calendar months where the percentage leaves whole
    ones ('P6M', 50) -> 'P3M'; a part of a month left over is counted at 30 days ('P1M', 50) -> 'P15D', the only
    place a month is not the calendar's. Days, hours, minutes and seconds are scaled exactly (to the second, at
    least one second). Raises ValueError naming the input when the period is not one or the percentage not above 0.
    """
    months, rest = parse_period(period)
    if isinstance(percent, bool) or not isinstance(percent, int | float) or not percent > 0 or percent == float("inf"):
        raise ValueError(f"a period can only be scaled by a percentage above 0, not {percent!r}")
    if percent == 100:
        return period.strip()
    whole_months, left = divmod(months * percent, 100)
    seconds = int((rest.total_seconds() * percent) // 100 + left * 30 * 86400 / 100)
    if whole_months == 0 and seconds == 0:
        seconds = 1
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    years, whole_months = divmod(int(whole_months), 12)
    date = "".join(f"{v}{unit}" for v, unit in ((years, "Y"), (whole_months, "M"), (days, "D")) if v)
    time = "".join(f"{v}{unit}" for v, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if v)
    return f"P{date}" + (f"T{time}" if time else "")


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
