"""The portfolio dashboard's figures from relationships driven through the real services with a test clock.

Every non-gate task takes one hour and every SER gate waits a number of days set per relationship, so each
stage's time and each gate's wait are known exactly. A relationship starts at stage 2; stages 1 and 3 are the
organisation's, done once in its management system, whose SER gates wait 10 days each: a figure of the
relationships that took them in would show it.

| relationship | gate wait | where it ends                                                                  |
|--------------|-----------|--------------------------------------------------------------------------------|
| Alpha        | -         | stage 2, nothing done (a task with a deadline)                                 |
| Beta         | 1 day     | stage 4: passed stage 2 before the organisation was ready, released by it      |
| Gamma        | 2 days    | stage 5                                                                        |
| Epsilon      | 3 days    | stopped at the stage 2 gate (completed)                                        |
| Delta        | 4 days    | stage 6, risks from stage 2, value register kept, three issues                 |
| (organisation) | 10 days | management system with stage 3 approved (maturity 2.5), a nonconformity raised by hand (a deadline) |
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.dashboard import charts
from app.dashboard import services as dashboard
from app.inbox import services as inbox
from app.management import services as management
from app.processes import services as processes
from app.relationships import services as relationships
from app.stages import stage_of_process
from tests.support.bundles import T0
from tests.support.driver import Driver

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
ORGANISATION_GATE = 10 * DAY
# non-gate tasks per stage of a relationship in the bundled diagrams (stage 5 has two SER gates, ours and the
# partner's); stages 1 and 3 are the organisation's
WORK = {2: 8, 4: 10, 5: 10}
CRITERIA = ("leadership", "strategy_and_policy", "processes", "skills_and_competence", "culture_and_behaviours",
            "knowledge_sharing", "risk_and_value", "partner_management")


def maturity(*levels: int) -> dict:
    """The stage 3 self-assessment's answers with these levels, one per criterion in order."""
    return {"s3_collaborative_profile": {"maturity_assessment": [
        {"criterion": c, "level": level, "evidence": "Records", "target_level": 5}
        for c, level in zip(CRITERIA, levels, strict=True)]}}


MATURITY = maturity(2, 3, 3, 2, 3, 3, 2, 2)  # mean 2.5
DELTA_RISKS = [
    {"risk": "Key supplier fails", "category": "relationship", "owner": "Ops", "likelihood": 4, "impact": 5,
     "mitigation": "A second supplier", "review_date": "2026-06-01"},
    {"risk": "Key people leave", "category": "internal", "owner": "HR", "likelihood": 2, "impact": 4,
     "mitigation": "Succession plans", "review_date": "2026-06-01"},
]
DELTA_VALUE = [
    {"idea": "Shared warehouse", "proposed_by": "Ops", "cost": 100, "benefit": 500, "status": "realised",
     "realised_value": 1250, "owner": "Ops lead", "kind": "money", "target_date": "2025-06-30",
     "verified_by": "Finance", "verified_on": "2025-07-01", "verification_evidence": "Q2 invoice"},
    {"idea": "Joint training", "proposed_by": "HR", "cost": 50, "benefit": 80, "status": "in_progress",
     "realised_value": 40.5, "owner": "HR lead", "kind": "capability", "target_date": "2025-09-30",
     "measure": "Staff trained"},
    {"idea": "Merged helpdesk", "proposed_by": "IT", "cost": 10, "benefit": 20, "status": "rejected",
     "realised_value": 999, "owner": "IT lead", "kind": "time", "target_date": "2025-03-31",
     "measure": "Hours saved a month"},
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


def start(session, services, users, title, now=T0):
    result = relationships.start(session, services.workflows, users["staff"], title=title, partner=f"{title} Ltd",
                                 now=now)
    return Driver(session, services, users, result.instance_id, now, organisation=False)


def organisation_ready(session):
    return lambda d: management.readiness(session, d.now).ready


def set_up_organisation(session, services, users, *, gate, answers=MATURITY, now=T0):
    """The organisation's management system driven (one hour per task, `gate` per SER gate) until its internal
    assessment is approved -> its Driver."""
    started = management.start(session, services.workflows, users["top"], now=now)
    organisation = Driver(session, services, users, started.instance_id, now)
    return drive(organisation, gate=gate, until=organisation_ready(session), answers=answers)


def raise_nonconformity(session, services, users, title, now):
    """A nonconformity raised by hand (the Start page): a process of its own, no relationship's."""
    return processes.start_process(session, services.workflows, users["staff"], "nonconformity", {
        "title": title, "source": "hand", "severity": "minor", "description": "Found on a walk round."},
        now=now).instance_id


@pytest.fixture
def seeded(session, services, users, bundled):
    alpha = start(session, services, users, "Alpha")
    # Beta passes stage 2 while the organisation has no management system yet: it waits before stage 4 ...
    beta = drive(start(session, services, users, "Beta"), gate=DAY, until=lambda d: d.waits_for_organisation())
    # ... until the organisation's internal assessment is approved (its stage 1 and 3 gates waiting 10 days each)
    organisation = set_up_organisation(session, services, users, gate=ORGANISATION_GATE)
    assert not beta.waits_for_organisation() and _stage(beta) == 4
    gamma = drive(start(session, services, users, "Gamma"), gate=2 * DAY, until=lambda d: _stage(d) == 5)
    epsilon = drive(start(session, services, users, "Epsilon"), gate=3 * DAY,
                    until=lambda d: "s2_ser_gate" in d.ready_names())
    epsilon.complete("s2_ser_gate", {"decision": "stop", "comments": "Better kept transactional."}, advance=3 * DAY)
    delta = drive(start(session, services, users, "Delta"), gate=4 * DAY,
                  until=lambda d: "s6_value_register" in d.ready_names(),
                  answers={"s2_risks": {"risks": DELTA_RISKS}})
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
    # the organisation's nonconformity raised by hand, with a deadline on its first step
    nonconformity = raise_nonconformity(session, services, users, "Competence records missing", T0 + HOUR)
    (step,) = organisation.linked_driver(nonconformity).ready()
    inbox.set_due(session, users["ser"], step.id, T0 + 2 * DAY, now=T0)
    return {"alpha": alpha, "beta": beta, "gamma": gamma, "epsilon": epsilon, "delta": delta,
            "organisation": organisation, "nonconformity": nonconformity}


def hours(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds() / 3600


def test_the_figures_of_a_seeded_portfolio(session, seeded):
    now = T0 + timedelta(days=60)
    p = dashboard.portfolio(session, now=now)

    # by stage, status and outcome (the stage is the one the relationships list shows); neither the management
    # system nor the nonconformity raised by hand is a relationship
    assert p.total == 5
    assert p.by_stage == {1: 0, 2: 2, 3: 0, 4: 1, 5: 1, 6: 1, 7: 0, 8: 0, None: 0}
    assert p.by_stage_status[2] == {"running": 1, "completed": 1, "cancelled": 0}
    assert p.by_status == {"running": 4, "completed": 1, "cancelled": 0}
    assert p.by_outcome == {"not_appropriate": 1}
    listed = {s.title: s.progress.current for s in relationships.summaries(session, now=now)}
    assert listed == {"Alpha": 2, "Beta": 4, "Gamma": 5, "Epsilon": 2, "Delta": 6}

    # time in each stage: first task created -> last gate decided, over the relationships that passed it; the
    # organisation's stages 1 and 3 (10-day gates) are no relationship's
    times = {s.number: s.durations for s in p.stage_times}
    stage2 = sorted(WORK[2] + 24 * days for days in (1, 2, 3, 4))  # Beta, Gamma, Epsilon (stopped), Delta
    assert [times[2].count, hours(times[2].median), hours(times[2].worst)] == [4, (stage2[1] + stage2[2]) / 2, 104]
    assert [times[4].count, hours(times[4].median), hours(times[4].worst)] == [2, WORK[4] + 72, WORK[4] + 96]
    assert [times[5].count, hours(times[5].median), hours(times[5].worst)] == [1, WORK[5] + 2 * 96,
                                                                               WORK[5] + 2 * 96]  # one SER after the other
    assert [times[n].count for n in (1, 3, 6, 7, 8)] == [0, 0, 0, 0, 0]

    # waiting at each gate: gate created -> decided; the management system's gates are not among them
    gates = {g.bpmn_id: g for g in p.gate_times}
    assert sorted(gates) == ["s2_ser_gate", "s4_ser_gate", "s5_partner_ser_gate", "s5_ser_gate"]
    assert gates["s2_ser_gate"].durations.count == 4
    assert hours(gates["s2_ser_gate"].durations.median) == 2.5 * 24
    assert hours(gates["s2_ser_gate"].durations.worst) == 4 * 24
    assert hours(gates["s4_ser_gate"].durations.median) == 3 * 24  # Gamma 2, Delta 4 days
    assert gates["s2_ser_gate"].waiting == 0 and gates["s2_ser_gate"].stage == 2

    # overdue: every stage task has a due period (two weeks for stage work), so the open task of each relationship
    # seeded weeks ago, and the time limits of the issue levels; Delta's reviews are not due yet; the
    # nonconformity's deadline is the organisation's
    assert sorted((e.title, e.relationship) for e in p.overdue_tasks) == [
        ("Agree how value is shared; record value that is not money", "Delta"),
        ("Identify the SER of each organisation", "Gamma"), ("Nominate candidate partners", "Beta"),
        ("Resolve at level 1", "Delta"), ("Resolve at level 2", "Delta"),
        ("Set the opportunity's objectives and key drivers", "Alpha")]
    assert p.overdue_reviews == []
    later = dashboard.portfolio(session, now=T0 + timedelta(days=800))
    assert {e.relationship for e in later.overdue_reviews} == {"Delta"} and len(later.overdue_reviews) == 3

    # open issues by escalation level
    assert p.issues_by_level == {"Being logged": 1, "Level 1": 1, "Level 2": 1, "Level 3": 0}
    assert {i.title: i.level for i in p.issues} == {"Late deliveries": "Being logged",
                                                     "Invoices disputed": "Level 1",
                                                     "Data shared too widely": "Level 2"}
    assert {i.relationship for i in p.issues} == {"Delta"}

    # risks by heat-map cell, running relationships only: Beta's and Gamma's sampled stage 2 risk (3, 3), Delta's
    # two (Epsilon's is of an ended relationship, the organisation's are no relationship's)
    cells = {(col + 1, 5 - row): n for row, cells in enumerate(p.heat_map) for col, n in enumerate(cells) if n}
    assert cells == {(3, 3): 2, (4, 5): 1, (2, 4): 1}
    assert p.risks == 4

    # value realised (rejected ideas do not count)
    assert p.value_realised == 1290.5
    assert [(v.relationship, v.realised_value, v.benefit, v.cost) for v in p.value] == [("Delta", 1290.5, 580, 150)]

    # the same figures as JSON
    data = dashboard.as_json(p)
    assert data["by_stage"]["6"] == 1 and data["by_stage"]["not_started"] == 0
    assert data["stage_times"][1]["stage"] == 2 and data["stage_times"][1]["worst_hours"] == 104
    assert data["stage_times"][0]["count"] == 0 and data["stage_times"][2]["count"] == 0
    assert {"likelihood": 4, "impact": 5, "count": 1} in data["heat_map"]


def test_the_organisations_part_of_a_seeded_portfolio(session, seeded):
    now = T0 + timedelta(days=60)
    o = dashboard.portfolio(session, now=now).organisation
    assert o.set_up and o.management_system_id == seeded["organisation"].instance_id and o.status == "running"
    assert o.assessment_current and "approved on 21 Feb 2026" in o.readiness.reason  # T0 + 2 gates of 10 days
    assert o.maturity_score == 2.5 and o.maturity_trend is None  # one self-assessment so far
    assert o.waiting_relationships == 0  # Beta waited, and went on when the assessment was approved

    # the nonconformity raised by hand, at its first step, and its deadline
    assert [(n.instance_id, n.title, n.step) for n in o.nonconformities] == [
        (seeded["nonconformity"], "Competence records missing", "Correct it and find the root cause")]
    assert o.oldest_nonconformities == o.nonconformities
    assert [(e.title, e.relationship, e.process_id) for e in o.overdue_tasks] == [
        ("Correct it and find the root cause", "Competence records missing", "nonconformity")]
    assert o.overdue_reviews == []

    # once everything falls due, the organisation's reviews, audits and reassessment are overdue: its own, named
    # by their run, none of them a relationship's
    later = dashboard.portfolio(session, now=T0 + timedelta(days=800)).organisation
    assert {e.relationship for e in later.overdue_reviews} == {"Management system"}
    assert {e.process_id for e in later.overdue_reviews} == {"internal_audit", "periodic_review", "organisation_review",
                                                             "management_system"}
    assert dashboard.RENEWAL in {e.title for e in later.overdue_reviews}

    data = dashboard.as_json(dashboard.portfolio(session, now=now))["organisation"]
    assert data["assessment"]["current"] is True and data["maturity"]["score"] == 2.5
    assert data["open_nonconformities"] == 1
    assert data["oldest_nonconformities"][0]["step"] == "Correct it and find the root cause"
    assert "organisation" not in dashboard.as_json(dashboard.portfolio(session, now=now, organisation=False))


def test_the_internal_assessment_lapses_a_relationship_waits_and_the_renewal_raises_the_maturity(
        session, services, users, bundled):
    empty = dashboard.portfolio(session, now=T0).organisation
    assert not empty.set_up and not empty.assessment_current and empty.maturity_score is None
    assert empty.nonconformities == [] and empty.waiting_relationships == 0

    organisation = set_up_organisation(session, services, users, gate=DAY)
    approved = dashboard.portfolio(session, now=organisation.now).organisation
    assert approved.assessment_current and approved.maturity_score == 2.5
    # the cycle runs out: the assessment is no longer current
    organisation.wake(at=approved.readiness.renewal_due_at + timedelta(minutes=1))
    lapsed = dashboard.portfolio(session, now=organisation.now).organisation
    assert not lapsed.assessment_current and "renewal" in lapsed.readiness.reason

    # a relationship passes stage 2 meanwhile and waits before stage 4: it counts at stage 2, and as having
    # passed it; two nonconformities are raised by hand
    waiting = drive(start(session, services, users, "Waiting", now=organisation.now), gate=DAY,
                    until=lambda d: d.waits_for_organisation())
    first = raise_nonconformity(session, services, users, "Policy not communicated", organisation.now)
    second = raise_nonconformity(session, services, users, "Audit programme late", organisation.now + HOUR)
    p = dashboard.portfolio(session, now=waiting.now)
    assert p.by_stage[2] == 1 and p.organisation.waiting_relationships == 1
    times = {s.number: s.durations for s in p.stage_times}
    assert [times[2].count, hours(times[2].worst)] == [1, WORK[2] + 24]
    assert [n.instance_id for n in p.organisation.nonconformities] == [first, second]  # oldest first

    # the renewal, scored higher, is approved: current again, the maturity up by one level, the relationship
    # released
    drive(organisation, gate=DAY, until=organisation_ready(session), answers=maturity(3, 4, 4, 3, 4, 4, 3, 3))
    renewed = dashboard.portfolio(session, now=organisation.now).organisation
    assert renewed.assessment_current and renewed.waiting_relationships == 0
    assert [m.score for m in renewed.maturity] == [2.5, 3.5]
    assert (renewed.maturity_score, renewed.maturity_change, renewed.maturity_trend) == (3.5, 1.0, "up")
    assert dashboard.as_json(dashboard.portfolio(session, now=organisation.now))["organisation"]["maturity"][
        "trend"] == "up"


def test_the_charts_carry_their_numbers(session, seeded):
    p = dashboard.portfolio(session, now=T0 + timedelta(days=60))
    drawn = str(charts.stages_chart(p.by_stage, {n: f"Stage {n}" for n in range(1, 9)}))
    assert drawn.count('class="bar"') == 9
    assert 'data-stage="2" data-count="2"' in drawn and 'data-stage="none" data-count="0"' in drawn
    assert "<title id=\"chart-stages-title\">Relationships by stage</title>" in drawn
    durations = str(charts.durations_chart([("2", "Stage 2", timedelta(hours=68), timedelta(hours=104))],
                                           title="Stages", chart_id="t"))
    assert 'data-median-hours="68.0" data-worst-hours="104.0"' in durations
    assert "median 2 d 20 h, worst 4 d 8 h" in durations
    assert charts.duration_text(timedelta(minutes=90)) == "1 h 30 min" and charts.duration_text(None) == "—"
    # the organisation's: its open nonconformities by step, its maturity trend
    drawn = str(charts.nonconformities_chart(p.organisation.nonconformities))
    assert 'role="img"' in drawn and '<title id="chart-nonconformities-title">' in drawn
    assert 'data-step="Correct it and find the root cause" data-count="1"' in drawn
    trend = str(charts.maturity_chart(p.organisation.maturity))
    assert 'role="img"' in trend and trend.count('class="point"') == 1 and 'data-score="2.5"' in trend


def test_an_empty_portfolio(session, bundled):
    p = dashboard.portfolio(session, now=T0)
    assert p.total == 0 and sum(p.by_stage.values()) == 0 and p.gate_times == [] and p.value_realised == 0
    assert all(s.durations.count == 0 and s.durations.median is None for s in p.stage_times)
    assert dashboard.as_json(p)["relationships"] == 0
