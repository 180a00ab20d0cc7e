"""A measure's status is derived from its actual against its target (higher or lower is better, an at-risk band in
percent of the target), the one rule the review script and the relationship page's chart both use."""

from __future__ import annotations

import pytest

from workflows.measures import measure_status, measure_trend, status_trend


@pytest.mark.parametrize(("actual", "target", "direction", "amber", "status"), [
    (95, 95, "higher_is_better", 10, "on_track"), (99, 95, "higher_is_better", 10, "on_track"),
    (86, 95, "higher_is_better", 10, "at_risk"), (85, 95, "higher_is_better", 10, "off_track"),
    (4, 4, "lower_is_better", 10, "on_track"), (4.4, 4, "lower_is_better", 10, "at_risk"),
    (4.5, 4, "lower_is_better", 10, "off_track"), (90, 95, "higher_is_better", 0, "off_track"),
    (None, 95, "higher_is_better", 10, None), (90, None, "higher_is_better", 10, None),
    (True, 1, "higher_is_better", 10, None)])
def test_status_from_the_actual_against_the_target(actual, target, direction, amber, status):
    assert measure_status(actual, target, direction, amber) == status


def test_trends_from_the_last_value_or_status():
    assert measure_trend(90, None) == "first_measurement"
    assert (measure_trend(90, 80), measure_trend(80, 90), measure_trend(80, 80)) == ("improving", "worsening",
                                                                                     "stable")
    assert measure_trend(4.3, 4, "lower_is_better") == "worsening"
    assert (status_trend("on_track", None), status_trend("on_track", "at_risk"),
            status_trend("off_track", "on_track"), status_trend("at_risk", "at_risk")) == (
        "first_measurement", "improving", "worsening", "stable")
