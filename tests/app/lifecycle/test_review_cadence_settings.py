"""The review cadences are settings of the lifecycle process (its `cadence:R.*` properties), read when stages 5 and 7
schedule the reviews: a process owner's new version with a monthly performance review changes the relationships
moved to it (the table by priority still wins where its cells say so)."""

from __future__ import annotations

import re

import pytest

from app.processes import versioning
from app.processes.services import deploy_version
from tests.support.bundles import ROOT
from tests.support.driver import until_ready
from workflows import read_directory


def with_cadence(lifecycle: bytes, review_id: str, period: str) -> bytes:
    text, count = re.subn(rf'(name="cadence:{re.escape(review_id)}" value=")[^"]*(")', rf"\g<1>{period}\g<2>",
                          lifecycle.decode())
    assert count == 1, f"the lifecycle declares no cadence for {review_id}"
    return text.encode()


def deploy_monthly(session, services, users):
    """A new version whose lifecycle reviews performance monthly (R.PM: P1M instead of P3M)."""
    files, forms = read_directory(ROOT / "bpmn", ROOT / "forms")
    edited = {**files, "lifecycle.bpmn": with_cadence(files["lifecycle.bpmn"], "R.PM", "P1M")}
    version, warnings, created = deploy_version(session, services.workflows, edited, forms, user=users["owner"],
                                                message="performance reviewed monthly")
    assert created and warnings == []
    return version


def scheduled(rel, priority) -> dict[str, str]:
    rel.drive({"s2_business_case": {"relationship_priority": priority}}, until=until_ready("s6_value_definition"))
    return {d["review_id"]: d["interval"] for d in rel.linked_data("periodic_review")}


@pytest.mark.slow
def test_a_relationship_moved_to_a_version_with_a_monthly_cadence_schedules_monthly(
        start, session, services, users, lifecycle_version):
    rel = start()
    # past the cadence rules (stage 2) and in stage 5 before its reviews are scheduled: then the version changes
    rel.drive({"s2_business_case": {"relationship_priority": "standard"}}, until=until_ready("s5_identify_sers"))
    assert rel.latest_data()["review_intervals"]["R.PM"] == "P3M"
    monthly_version = deploy_monthly(session, services, users)
    assert rel.instance().version_id == lifecycle_version.id
    outcome = versioning.migrate(session, services.workflows, user=users["owner"], instance_ids=[rel.instance_id],
                                 to_version_id=monthly_version.id)
    assert outcome == {rel.instance_id: None}
    assert scheduled(rel, "standard") == {"R.S5": "P6M", "R.RK": "P3M", "R.PM": "P1M"}


@pytest.mark.slow
def test_a_new_relationship_takes_the_cadence_and_the_table_by_priority_still_wins_over_it(
        start, session, services, users):
    monthly_version = deploy_monthly(session, services, users)
    standard, high = start(), start()
    assert standard.instance().version_id == monthly_version.id
    assert scheduled(standard, "standard") == {"R.S5": "P6M", "R.RK": "P3M", "R.PM": "P1M"}
    assert scheduled(high, "high") == {"R.S5": "P4M", "R.RK": "P2M", "R.PM": "P2M"}
