"""An issue's time limits follow the escalation rules (bpmn/issue_escalation.dmn) by the impact logged, through the
real services and the scheduler's clock: under the same agreement a critical issue escalates sooner than a medium
one, the level 1 task says which limits apply and why, and a process owner's new version of the table changes the
limits of the issues started on it while an issue on the old version keeps the old ones."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.inbox.instructions import render_instructions
from app.processes.services import deploy_version
from app.processes.store import SqlInstanceStore
from tests.app.lifecycle.test_issues_and_exit import timer_dues
from tests.support.bundles import ROOT
from tests.support.decisions import ISSUE_ESCALATION, cell, with_cells
from workflows import read_directory

AGREED = {"l1_limit": "P10D", "l2_limit": "P20D", "l3_limit": "P1M",
          "limits_source": "as agreed in the issue resolution process on 01 Mar 2025"}


def logged(start, impact, data=AGREED):
    issue = start("issue_resolution", dict(data))
    issue.complete("ir_log_issue", {"issue_impact": impact})
    assert issue.ready_names() == ["ir_level1"]
    return issue


def instructions(issue, name) -> str:
    row = issue.task(name)
    engine = issue.svc.workflows.using(SqlInstanceStore(issue.session))
    task = engine.get_task(issue.instance_id, row.task_id)
    return str(render_instructions(task.instructions, task.data))


def test_the_bundled_table_keeps_the_agreed_limits_for_medium_and_low_and_shortens_them_for_critical():
    content = ISSUE_ESCALATION.read_bytes()
    for impact in ("low", "medium", "any_other"):
        assert [cell(content, f"rule_{impact}_level{n}") for n in (1, 2, 3)] == ["100", "100", "100"]
    assert [cell(content, f"rule_critical_level{n}") for n in (1, 2, 3)] == ["20", "20", "20"]
    assert [cell(content, f"rule_high_level{n}") for n in (1, 2, 3)] == ["50", "50", "50"]


def test_a_critical_issue_escalates_sooner_than_a_medium_one_under_the_same_agreement(start):
    medium, critical = logged(start, "medium"), logged(start, "critical")
    assert timer_dues(medium) == [(medium.now + timedelta(days=10)).isoformat()], "medium: as agreed"
    assert timer_dues(critical) == [(critical.now + timedelta(days=2)).isoformat()], "critical: 20% of P10D"
    data = critical.latest_data()
    assert (data["l1_limit"], data["l2_limit"], data["l3_limit"]) == ("P2D", "P4D", "P6D")  # 20% of P1M: 6 days
    assert data["agreed_limits"] == {k: AGREED[k] for k in ("l1_limit", "l2_limit", "l3_limit")}
    assert data["escalation"] == {"level1_percent": 20, "level2_percent": 20, "level3_percent": 20}
    assert medium.latest_data()["l3_limit"] == "P1M", "100% gives the agreed period back as written"

    shown = instructions(critical, "ir_level1")
    assert "critical-impact issue" in shown and "level 1 2 days, level 2 4 days, level 3 6 days" in shown
    assert "20%, 20% and 20% of 10 days, 20 days and 1 month" in shown
    assert "as agreed in the issue resolution process on 01 Mar 2025" in shown
    assert "level 1 10 days, level 2 20 days, level 3 1 month (as agreed in the issue resolution process on 01 Mar " \
        "2025): the escalation rules keep these limits" in instructions(medium, "ir_level1")

    critical.wake(days=2, minutes=1)                   # the medium issue is still at level 1
    assert critical.ready_names() == ["ir_level2"] and medium.ready_names() == ["ir_level1"]
    assert timer_dues(critical) == [(critical.now + timedelta(days=4)).isoformat()], "level 2 on 20% of P20D"
    assert critical.latest_data()["escalation_history"][0]["limit"] == "P2D"


@pytest.mark.slow
def test_an_edited_table_changes_the_limits_of_issues_on_its_version_only(
        start, session, services, users, lifecycle_version):
    before = logged(start, "critical")
    files, forms = read_directory(ROOT / "bpmn", ROOT / "forms")
    # critical: level 1 gets a tenth of its agreed time, levels 2 and 3 half; medium: level 1 gets 50% more
    edited = with_cells(ISSUE_ESCALATION.read_bytes(), {
        "rule_critical_level1": "10", "rule_critical_level2": "50", "rule_critical_level3": "50",
        "rule_medium_level1": "150"})
    version, warnings, created = deploy_version(session, services.workflows, {**files, "issue_escalation.dmn": edited},
                                                forms, user=users["owner"], message="critical issues go up faster")
    assert created and warnings == [] and version.id != lifecycle_version.id
    assert {f.name: f.kind for f in version.files}["issue_escalation.dmn"] == "dmn"
    after, medium = logged(start, "critical"), logged(start, "medium")
    assert (before.instance().version_id, after.instance().version_id) == (lifecycle_version.id, version.id)

    assert timer_dues(before) == [(before.now + timedelta(days=2)).isoformat()], "the old version's 20%"
    assert timer_dues(after) == [(after.now + timedelta(days=1)).isoformat()], "10% of P10D"
    data = after.latest_data()
    assert (data["l1_limit"], data["l2_limit"], data["l3_limit"]) == ("P1D", "P10D", "P15D")
    assert timer_dues(medium) == [(medium.now + timedelta(days=15)).isoformat()], "150% of P10D"
    assert "10%, 50% and 50% of 10 days" in instructions(after, "ir_level1")
