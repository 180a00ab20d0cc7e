from datetime import UTC, datetime

import pytest

from workflows.periods import add_period, describe_period, next_after, parse_period, scale_period


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


@pytest.mark.parametrize(("period", "words"), [("P1M", "1 month"), ("P1Y6M", "1 year 6 months"), ("P14D", "14 days"),
                                               ("PT2H", "2 hours"), ("R/P7D", "R/P7D"), (None, "None")])
def test_periods_in_words_for_people(period, words):
    assert describe_period(period) == words


@pytest.mark.parametrize("period, percent, scaled", [
    ("P10D", 50, "P5D"), ("P5D", 50, "P2DT12H"), ("P15D", 20, "P3D"), ("P5D", 150, "P7DT12H"),
    ("P2W", 50, "P7D"), ("PT4H", 25, "PT1H"), ("P3D", 33, "PT23H45M36S"),
    ("P6M", 50, "P3M"), ("P1Y", 25, "P3M"), ("P2Y", 75, "P1Y6M"),   # whole months stay calendar months
    ("P1M", 50, "P15D"), ("P1M10D", 20, "P8D"),                       # a part of a month counts 30 days
    ("P1M", 12.5, "P3DT18H"), ("PT1S", 10, "PT1S"),                   # never an empty period
])
def test_scale_period(period, percent, scaled):
    assert scale_period(period, percent) == scaled
    assert parse_period(scaled)


def test_scale_period_by_100_gives_the_period_back_as_written():
    assert scale_period("P1M", 100) == "P1M" and scale_period("P1DT24H", 100) == "P1DT24H"


@pytest.mark.parametrize("percent", [0, -50, True, "50", None, float("nan"), float("inf")])
def test_scale_period_refuses_what_is_not_a_percentage_above_0(percent):
    with pytest.raises(ValueError, match="percentage above 0"):
        scale_period("P10D", percent)


def test_scale_period_refuses_what_is_not_a_period():
    with pytest.raises(ValueError, match="not an ISO 8601 period: 'ten days'"):
        scale_period("ten days", 50)
