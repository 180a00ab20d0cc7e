from datetime import UTC, datetime

import pytest

from workflows.periods import add_period, next_after, parse_period


def test_months_are_calendar_months():
    assert add_period("2026-01-31T09:00:00Z", "P1M") == datetime(2026, 2, 28, 9, tzinfo=UTC)
    assert add_period("2026-02-01T00:00:00Z", "P3M", times=4) == datetime(2027, 2, 1, tzinfo=UTC)
    assert add_period("2028-02-29T00:00:00Z", "P1Y") == datetime(2029, 2, 28, tzinfo=UTC)


def test_quarters_from_an_anchor_never_drift():
    anchor = "2026-01-31T09:00:00Z"
    dues = [add_period(anchor, "P3M", times=k) for k in range(1, 9)]
    assert [d.day for d in dues] == [30, 31, 31, 31, 30, 31, 31, 31]  # clamped only where the month is short


def test_next_after_catches_up_once_without_bursts():
    assert next_after("2026-02-01T00:00:00Z", "P3M", "2027-02-10T00:00:00Z") == datetime(2027, 5, 1, tzinfo=UTC)
    assert next_after("2026-02-01T00:00:00Z", "P3M", "2026-01-01T00:00:00Z") == datetime(2026, 5, 1, tzinfo=UTC)
    assert next_after("2026-02-01T00:00:00Z", "P3M", "2026-05-01T00:00:00Z") == datetime(2026, 8, 1, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["", "P", "3M", "PT", "P1.5M", "P-1D", None])
def test_bad_periods_say_what_was_expected(bad):
    with pytest.raises(ValueError, match="ISO 8601 period|empty"):
        parse_period(bad)
