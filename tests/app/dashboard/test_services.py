"""The portfolio dashboard's figures from relationships driven through the real services with a test clock.

Every non-gate task takes one hour and every SER gate waits a number of days set per relationship, so each
stage's time and each gate's wait are known exactly:

| relationship | gate wait | where it ends                                  |
|--------------|-----------|------------------------------------------------|
| Alpha        | -         | stage 1, nothing done (a task with a deadline)  |
| Beta         | 1 day     | stage 2                                        |
| Gamma        | 2 days    | stage 3                                        |
| Epsilon      | 3 days    | stopped at the stage 2 gate (completed)        |
| Delta        | 4 days    | stage 6, value register kept, three issues     |
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.dashboard import charts
from app.dashboard import services as dashboard
from app.inbox import services as inbox
from app.relationships import services as relationships
from app.stages import stage_of_process
from tests.support.bundles import T0
from tests.support.driver import Driver

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
# non-gate tasks per stage in the bundled lifecycle (stage 5 has two SER gates, ours and the partner's)
WORK = {1: 9, 2: 8, 3: 7, 4: 9, 5: 10}
DELTA_RISKS = [
    {"risk": "Key supplier fails", "category": "relationship", "owner": "Ops", "likelihood": 4, "impact": 5,
     "mitigation": "A second supplier", "review_date": "2026-06-01"},
    {"risk": "Key people leave", "category": "internal", "owner": "HR", "likelihood": 2, "impact": 4,
     "mitigation": "Succession plans", "review_date": "2026-06-01"},
]
DELTA_VALUE = [
    {"idea": "Shared warehouse", "proposed_by": "Ops", "cost": 100, "benefit": 500, "status": "realised",
     "realised_value": 1250},
    {"idea": "Joint training", "proposed_by": "HR", "cost": 50, "benefit": 80, "status": "in_progress",
     "realised_value": 40.5},
    {"idea": "Merged helpdesk", "proposed_by": "IT", "cost": 10, "benefit": 20, "status": "rejected",
     "realised_value": 999},
]


def _stage(driver) -> int:
    return max((stage_of_process(r.process_id) or 0 for r in driver.ready()), default=0)


def drive(driver, *, gate: timedelta, until, answers=None):
    """Complete the first ready task until `until(driver)`: one hour per task, `gate` per SER gate."""
    answers = dict(answers or {})
    for _ in range(300):
        if until(driver):
            return driver
        row = driver.ready()[0]
        driver.complete(row, answers.pop(row.bpmn_id, None), advance=gate if row.approval_gate else HOUR)
    raise AssertionError("the relationship did not get there")


def start(session, services, users, title):
    result = relationships.start(session, services.workflows, users["staff"], title=title, partner=f"{title} Ltd",
                                 now=T0)
    return Driver(session, services, users, result.instance_id, T0)


@pytest.fixture
def seeded(session, services, users, bundled):
    alpha = start(session, services, users, "Alpha")
    beta = drive(start(session, services, users, "Beta"), gate=DAY, until=lambda d: _stage(d) == 2)
    gamma = drive(start(session, services, users, "Gamma"), gate=2 * DAY, until=lambda d: _stage(d) == 3)
    epsilon = drive(start(session, services, users, "Epsilon"), gate=3 * DAY,
                    until=lambda d: "s2_ser_gate" in d.ready_names())
    epsilon.complete("s2_ser_gate", {"decision": "stop", "comments": "Better kept transactional."}, advance=3 * DAY)
    delta = drive(start(session, services, users, "Delta"), gate=4 * DAY,
                  until=lambda d: "s6_value_register" in d.ready_names(),
                  answers={"s1_initial_risks": {"risks": DELTA_RISKS}})
    delta.complete("s6_value_register", {"value_register": DELTA_VALUE}, advance=HOUR)
    # three issues: one being logged, one at level 1, one escalated to level 2
    delta.raise_issue("Late deliveries")
    at_level1 = delta.raise_issue("Invoices disputed")
    at_level1.complete("ir_log_issue")
    at_level2 = delta.raise_issue("Data shared too widely")
    at_level2.complete("ir_log_issue")
    at_level2.complete("ir_level1", {"l1_resolution": "escalate", "l1_escalation_reason": "Needs the JMT."})
    # a deadline on Alpha's first task
    (task,) = alpha.ready()
    inbox.set_due(session, users["ser"], task.id, T0 + DAY, now=T0)
    return {"alpha": alpha, "beta": beta, "gamma": gamma, "epsilon": epsilon, "delta": delta}


def hours(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds() / 3600


def test_the_figures_of_a_seeded_portfolio(session, seeded):
    now = T0 + timedelta(days=60)
    p = dashboard.portfolio(session, now=now)

    # by stage, status and outcome (the stage is the one the relationships list shows)
    assert p.total == 5
    assert p.by_stage == {1: 1, 2: 2, 3: 1, 4: 0, 5: 0, 6: 1, 7: 0, 8: 0, None: 0}
    assert p.by_stage_status[2] == {"running": 1, "completed": 1, "cancelled": 0}
    assert p.by_status == {"running": 4, "completed": 1, "cancelled": 0}
    assert p.by_outcome == {"not_appropriate": 1}
    listed = {s.title: s.progress.current for s in relationships.summaries(session, now=now)}
    assert listed == {"Alpha": 1, "Beta": 2, "Gamma": 3, "Epsilon": 2, "Delta": 6}

    # time in each stage: first task created -> last gate decided, over the relationships that passed it
    times = {s.number: s.durations for s in p.stage_times}
    stage1 = sorted(WORK[1] + 24 * days for days in (1, 2, 3, 4))  # Beta, Gamma, Epsilon, Delta
    assert [times[1].count, hours(times[1].median), hours(times[1].worst)] == [4, (stage1[1] + stage1[2]) / 2, 105]
    assert [times[2].count, hours(times[2].median), hours(times[2].worst)] == [3, WORK[2] + 72, WORK[2] + 96]
    assert [times[3].count, hours(times[3].median), hours(times[3].worst)] == [1, WORK[3] + 96, WORK[3] + 96]
    assert hours(times[4].median) == WORK[4] + 96
    assert hours(times[5].worst) == WORK[5] + 2 * 96  # the two SERs decide one after the other
    assert [times[n].count for n in (6, 7, 8)] == [0, 0, 0]

    # waiting at each gate: gate created -> decided
    gates = {g.bpmn_id: g for g in p.gate_times}
    assert gates["s1_ser_gate"].durations.count == 4
    assert hours(gates["s1_ser_gate"].durations.median) == 2.5 * 24
    assert hours(gates["s1_ser_gate"].durations.worst) == 4 * 24
    assert hours(gates["s2_ser_gate"].durations.median) == 3 * 24  # Gamma 2, Epsilon 3, Delta 4 days
    assert gates["s1_ser_gate"].waiting == 0 and gates["s1_ser_gate"].stage == 1

    # overdue: Alpha's deadline and the time limits of the issue levels; Delta's reviews are not due yet
    assert sorted((e.title, e.relationship) for e in p.overdue_tasks) == [
        ("Appoint the SER", "Alpha"), ("Resolve at level 1", "Delta"), ("Resolve at level 2", "Delta")]
    assert p.overdue_reviews == []
    later = dashboard.portfolio(session, now=T0 + timedelta(days=800))
    assert {e.relationship for e in later.overdue_reviews} == {"Delta"} and len(later.overdue_reviews) == 3

    # open issues by escalation level
    assert p.issues_by_level == {"Being logged": 1, "Level 1": 1, "Level 2": 1, "Level 3": 0}
    assert {i.title: i.level for i in p.issues} == {"Late deliveries": "Being logged",
                                                     "Invoices disputed": "Level 1",
                                                     "Data shared too widely": "Level 2"}
    assert {i.relationship for i in p.issues} == {"Delta"}

    # risks by heat-map cell, running relationships only: Beta's and Gamma's sampled risk (3, 3), Delta's two
    cells = {(col + 1, 5 - row): n for row, cells in enumerate(p.heat_map) for col, n in enumerate(cells) if n}
    assert cells == {(3, 3): 2, (4, 5): 1, (2, 4): 1}
    assert p.risks == 4

    # value realised (rejected ideas do not count)
    assert p.value_realised == 1290.5
    assert [(v.relationship, v.realised_value, v.benefit, v.cost) for v in p.value] == [("Delta", 1290.5, 580, 150)]

    # the same figures as JSON
    data = dashboard.as_json(p)
    assert data["by_stage"]["6"] == 1 and data["by_stage"]["not_started"] == 0
    assert data["stage_times"][0]["worst_hours"] == 105
    assert {"likelihood": 4, "impact": 5, "count": 1} in data["heat_map"]


def test_the_charts_carry_their_numbers(session, seeded):
    p = dashboard.portfolio(session, now=T0 + timedelta(days=60))
    drawn = str(charts.stages_chart(p.by_stage, {n: f"Stage {n}" for n in range(1, 9)}))
    assert drawn.count('class="bar"') == 9
    assert 'data-stage="2" data-count="2"' in drawn and 'data-stage="none" data-count="0"' in drawn
    assert "<title id=\"chart-stages-title\">Relationships by stage</title>" in drawn
    durations = str(charts.durations_chart([("1", "Stage 1", timedelta(hours=69), timedelta(hours=105))],
                                           title="Stages", chart_id="t"))
    assert 'data-median-hours="69.0" data-worst-hours="105.0"' in durations
    assert "median 2 d 21 h, worst 4 d 9 h" in durations
    assert charts.duration_text(timedelta(minutes=90)) == "1 h 30 min" and charts.duration_text(None) == "—"


def test_an_empty_portfolio(session, bundled):
    p = dashboard.portfolio(session, now=T0)
    assert p.total == 0 and sum(p.by_stage.values()) == 0 and p.gate_times == [] and p.value_realised == 0
    assert all(s.durations.count == 0 and s.durations.median is None for s in p.stage_times)
    assert dashboard.as_json(p)["relationships"] == 0
