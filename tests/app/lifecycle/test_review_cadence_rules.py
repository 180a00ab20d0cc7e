"""A relationship's recurring reviews run on the intervals the review cadence rules (bpmn/review_cadence.dmn) give
its priority (recorded with the business case, stage 2), through the real services: a strategic relationship is
reviewed more often than a standard one, intervals given at start still win, and a process owner's new version of
the table changes the intervals of the relationships on it only."""

from __future__ import annotations

import pytest

from app.processes.services import deploy_version
from tests.support.bundles import ROOT
from tests.support.decisions import REVIEW_CADENCE, with_cells
from tests.support.driver import START, until_ready
from workflows import read_directory

STANDARD = {"R.S5": "P6M", "R.S7": "P3M", "R.EX": "P12M", "R.RK": "P3M", "R.PM": "P3M"}  # the catalogue's
STRATEGIC = {"R.S5": "P3M", "R.S7": "P1M", "R.EX": "P6M", "R.RK": "P1M", "R.PM": "P1M"}
UNRULED = {"R.VL": "P3M", "R.GV": "P3M", "R.CH": "P6M"}  # the lifecycle's cadences the table leaves alone


def reviews_of(rel, priority) -> list[tuple[str, str, str]]:
    """Drive the relationship through stage 5 with the priority recorded in stage 2 -> its scheduled reviews."""
    rel.drive({"s2_business_case": {"relationship_priority": priority}}, until=until_ready("s6_value_definition"))
    return [(d["review_id"], d["interval"], d["due_at"]) for d in rel.linked_data("periodic_review")]


@pytest.mark.slow
def test_a_strategic_relationship_is_reviewed_more_often_than_a_standard_one(start):
    standard, strategic = start(), start()
    assert reviews_of(standard, "standard") == [
        ("R.S5", "P6M", "2025-07-06T09:00:00+00:00"), ("R.RK", "P3M", "2025-04-06T09:00:00+00:00"),
        ("R.PM", "P3M", "2025-04-06T09:00:00+00:00")]
    assert reviews_of(strategic, "strategic") == [
        ("R.S5", "P3M", "2025-04-06T09:00:00+00:00"), ("R.RK", "P1M", "2025-02-06T09:00:00+00:00"),
        ("R.PM", "P1M", "2025-02-06T09:00:00+00:00")]
    assert standard.latest_data()["review_intervals"] == {**STANDARD, **UNRULED}
    data = strategic.latest_data()
    assert data["review_intervals"] == {**STRATEGIC, **UNRULED}, "stage 7's reviews (R.S7, R.EX) will run on the table's too"
    assert data["review_cadence"] == {k.removeprefix("R."): v for k, v in STRATEGIC.items()}


@pytest.mark.slow
def test_intervals_given_at_start_win_over_the_table(start):
    rel = start(data={**START, "review_intervals": {"R.RK": "P2W"}})
    assert reviews_of(rel, "strategic") == [
        ("R.S5", "P3M", "2025-04-06T09:00:00+00:00"), ("R.RK", "P2W", "2025-01-20T09:00:00+00:00"),
        ("R.PM", "P1M", "2025-02-06T09:00:00+00:00")]
    assert rel.latest_data()["review_intervals"] == {**STRATEGIC, **UNRULED, "R.RK": "P2W"}


@pytest.mark.slow
def test_an_edited_table_changes_the_intervals_of_relationships_on_its_version_only(
        start, session, services, users, lifecycle_version):
    before = start()
    files, forms = read_directory(ROOT / "bpmn", ROOT / "forms")
    # a standard relationship's performance is measured every two months; an empty cell keeps the catalogue's R.S5
    edited = with_cells(REVIEW_CADENCE.read_bytes(), {"rule_standard_PM": '"P2M"', "rule_standard_S5": ""})
    version, warnings, created = deploy_version(session, services.workflows, {**files, "review_cadence.dmn": edited},
                                                forms, user=users["owner"], message="measure standard ones bimonthly")
    assert created and warnings == [] and version.id != lifecycle_version.id
    after = start()
    assert (before.instance().version_id, after.instance().version_id) == (lifecycle_version.id, version.id)

    assert ("R.PM", "P3M", "2025-04-06T09:00:00+00:00") in reviews_of(before, "standard")
    scheduled = reviews_of(after, "standard")
    assert ("R.PM", "P2M", "2025-03-06T09:00:00+00:00") in scheduled
    assert ("R.S5", "P6M", "2025-07-06T09:00:00+00:00") in scheduled, "an empty cell: the catalogue interval"
    assert after.latest_data()["review_intervals"] == {**STANDARD, **UNRULED, "R.PM": "P2M"}
