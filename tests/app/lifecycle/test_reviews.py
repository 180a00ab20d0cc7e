"""Periodic reviews run as linked instances on calendar-true due dates: (7) quarterly reviews fire on calendar
quarters for two years while stage 7 runs and stop when stage 8 starts; years of reviews and dozens of issues
do not grow the relationship's own task tree."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from app.processes.models import ProcessInstance, Timer
from app.processes.store import SqlInstanceStore
from tests.support.driver import GREEN, until_ready, work_due_reviews
from workflows import ScriptFailed, add_period


def review_data(review_id, **extra):
    data = {"review_id": review_id, "due_at": "2025-01-31T09:00:00+00:00", "interval": "P1M", "sequence": 1,
            "relationship_name": "ACME", "previous_overall": None, "performance_measures": [],
            "audit_programme": [], "risks": [], "exit_strategy": "Hand back the service.", "exit_triggers": []}
    data.update(extra)
    return data


def at(iso):
    return datetime.fromisoformat(iso).astimezone(UTC)


def test_a_review_fires_at_its_due_date_and_schedules_the_next_on_the_calendar(start):
    review = start("periodic_review", review_data("R.S3"), now=at("2025-01-20T09:00:00+00:00"))
    assert review.ready_names() == []
    review.wake(at=at("2025-01-31T08:59:00+00:00"))
    assert review.ready_names() == []
    review.wake(at=at("2025-01-31T09:01:00+00:00"))
    assert review.ready_names() == ["pr_management_system_review"]
    review.now = at("2025-02-10T15:00:00+00:00")          # done ten days late
    review.complete("pr_management_system_review")
    assert review.completed
    (nxt,) = review.linked_data("periodic_review")
    assert nxt["due_at"] == "2025-02-28T09:00:00+00:00", "anchored on the due date, calendar months"
    assert (nxt["review_id"], nxt["interval"], nxt["sequence"]) == ("R.S3", "P1M", 2)


def test_after_a_seven_month_outage_one_review_fires_and_the_next_is_on_schedule(start):
    review = start("periodic_review", review_data("R.S7", interval="P3M"), now=at("2025-01-20T09:00:00+00:00"))
    review.wake(at=at("2025-09-01T09:00:00+00:00"))       # nothing ran from January to September
    assert sorted(review.ready_names()) == ["pr_health_survey", "pr_health_survey_partner"], \
        "one review, not one per missed quarter"
    review.complete("pr_health_survey")
    review.complete("pr_health_survey_partner")
    review.complete("pr_performance_review", {"performance_ratings": GREEN, "overall_rating": "green"})
    review.complete("pr_ser_performance_feedback", {"overall_rating": "green"})
    review.complete("pr_ser_performance_feedback_partner")
    (nxt,) = review.linked("periodic_review")
    assert review.linked_data("periodic_review")[0]["due_at"] == "2025-10-31T09:00:00+00:00", \
        "the next is the first quarter of the original calendar (31 Jan + 9 months) still ahead"
    nxt_driver = review.linked_driver(nxt.id)
    nxt_driver.wake(at=at("2025-09-02T09:00:00+00:00"))
    assert nxt_driver.ready_names() == [] and review.linked("periodic_review") == [nxt]


@pytest.mark.parametrize("review_id, tasks, lanes", [
    ("R.S3", ["pr_management_system_review"], ["SER"]),
    ("R.S5", ["pr_internal_audit"], ["Staff"]),
    ("R.S7", ["pr_health_survey", "pr_health_survey_partner", "pr_performance_review", "pr_ser_performance_feedback",
              "pr_ser_performance_feedback_partner"],
     ["SER", "Partner SER", "Joint management team", "SER", "Partner SER"]),
    ("R.EX", ["pr_exit_strategy_review"], ["Joint management team"]),
    ("R.RK", ["pr_risk_register_review"], ["Joint management team"]),
    ("R.PM", ["pr_performance_measures"], ["Joint management team"]),
    ("R.VL", ["pr_value_review"], ["Joint management team"]),
    ("R.GV", ["pr_governance_review"], ["Joint management team"]),
    ("R.CH", ["pr_change_review"], ["Joint management team"]),
])
def test_each_review_kind_routes_to_its_task_and_lane(start, review_id, tasks, lanes):
    review = start("periodic_review", review_data(review_id))
    review.wake(at=at("2025-02-01T00:00:00+00:00"))
    for name, lane in zip(tasks, lanes, strict=True):
        assert name in review.ready_names() and review.task(name).lane == lane
        if name != "pr_health_survey":  # the two sides of the health survey are open at the same time
            assert len(review.ready_names()) == 1
        review.complete(name)
    assert review.completed and len(review.linked("periodic_review")) == 1


def test_risk_register_review_carries_the_updated_register_forward(start):
    review = start("periodic_review", review_data("R.RK"))
    review.wake(at=at("2025-02-01T00:00:00+00:00"))
    risk = {"risk": "Key supplier fails", "category": "relationship", "owner": "Jo", "owner_organisation": "ours",
            "likelihood": 2, "impact": 5, "mitigation": "Second source", "review_date": "2025-04-01"}
    review.complete("pr_risk_register_review", {"risks": [risk]})
    assert review.linked_data("periodic_review")[0]["risks"] == [risk]


@pytest.mark.parametrize("previous, current, raised", [
    ("red", "red", True), (None, "red", False), ("red", "amber", False), ("amber", "red", False)])
def test_two_consecutive_red_performance_reviews_raise_an_exit_trigger(start, previous, current, raised):
    review = start("periodic_review", review_data("R.S7", previous_overall=previous, sequence=4))
    review.wake(at=at("2025-02-01T00:00:00+00:00"))
    ratings = {k: {"rating": "red", "evidence": "late"} for k in GREEN}
    review.complete("pr_health_survey")
    review.complete("pr_health_survey_partner")
    review.complete("pr_performance_review", {"performance_ratings": ratings, "overall_rating": current})
    review.complete("pr_ser_performance_feedback", {"overall_rating": current})
    review.complete("pr_ser_performance_feedback_partner")
    signals = review.audit("signal.unanswered")           # a standalone review has no relationship to tell
    if raised:
        (signal,) = signals
        assert signal.payload["name"] == "exit_trigger" and signal.payload["payload"]["source"] == "performance"
    else:
        assert signals == []
    (nxt,) = review.linked_data("periodic_review")
    assert nxt["previous_overall"] == current and nxt["sequence"] == 5


def test_an_unknown_review_fails_loudly_and_changes_nothing(start):
    review = start("periodic_review", review_data("R.XX"))
    with pytest.raises(ScriptFailed, match="Unknown review_id"):
        review.svc.workflows  # noqa: B018 - the scheduler path records the failure instead of raising
        from app.processes import services
        services.fire_due_timers  # noqa: B018
        raise_through_engine(review)
    assert review.instance().revision == 1
    review.wake(at=at("2025-02-01T00:00:00+00:00"))
    (error,) = review.audit("instance.error")
    assert "Unknown review_id" in error.payload["error"] and error.actor == "scheduler"
    assert review.instance().revision == 1 and review.linked() == []


def raise_through_engine(review):
    from app.processes.store import SqlInstanceStore
    engine = review.svc.workflows.using(SqlInstanceStore(review.session, now=at("2025-02-01T00:00:00+00:00")))
    try:
        engine.fire_timers(review.instance_id, now=at("2025-02-01T00:00:00+00:00"))
    finally:
        review.session.rollback()


# (7) ----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_quarterly_reviews_fire_on_calendar_quarters_for_two_years_then_stop_at_stage_8(start, session):
    rel = start()
    rel.drive(until=until_ready("s7_manage_activities"))
    stage7_started = rel.now
    s7_due = []
    for quarter in range(1, 9):                           # two years of quarters
        due = add_period(stage7_started, "P3M", quarter)
        rel.wake(at=due - timedelta(minutes=1))           # the reviews scheduled in stages 5 and 6 fall due earlier
        work_due_reviews(rel)
        rel.wake(at=due)
        assert not [c for c in rel.linked("periodic_review", status="running")
                    if rel.linked_driver(c.id).ready_names()], "due at T fires after T, not at T"
        rel.wake(at=due + timedelta(minutes=1))
        running = {c.id: c for c in rel.linked("periodic_review", status="running")}
        s7 = [i for i in running if "pr_health_survey" in rel.linked_driver(i).ready_names()]
        assert len(s7) == 1, f"quarter {quarter}: exactly one performance review is open"
        s7_due.append(due)
        work_due_reviews(rel)
    performance = [d for d in rel.linked_data("periodic_review") if d["review_id"] == "R.S7"]
    assert [d["due_at"] for d in performance[:8]] == [d.isoformat() for d in s7_due]
    assert [d.month for d in s7_due] == [(stage7_started.month - 1 + 3 * q) % 12 + 1 for q in range(1, 9)]

    rel.drive(until=until_ready("s8_finalise_exit_strategy"))
    waiting = session.query(Timer).join(ProcessInstance, ProcessInstance.id == Timer.instance_id).filter(
        ProcessInstance.parent_id == rel.instance_id).count()
    assert waiting == 0, "stage 8 stopped every review"
    assert {c.status for c in rel.linked("periodic_review")} <= {"completed", "cancelled"}
    rel.wake(at=add_period(stage7_started, "P3M", 9))
    assert rel.linked("periodic_review", status="running") == []


@pytest.mark.slow
def test_five_years_of_reviews_and_fifty_issues_leave_the_relationship_small(start):
    rel = start()
    rel.drive(until=until_ready("s7_manage_activities"))
    before = rel.instance()
    state_before, revision_before = len(before.state), before.revision
    anchor = rel.now
    for quarter in range(1, 21):                          # 5 years of quarterly reviews: 20 cycles
        rel.wake(at=add_period(anchor, "P3M", quarter) + timedelta(minutes=1))
        work_due_reviews(rel)
    for n in range(50):                                   # 50 issues, each resolved at level 1
        issue = rel.raise_issue(f"Issue {n}")
        issue.complete("ir_log_issue")
        issue.complete("ir_level1", {"l1_resolution": "resolved", "l1_resolution_summary": "fixed"})
        assert issue.completed
    after = rel.instance()
    assert (len(after.state), after.revision) == (state_before, revision_before), \
        "reviews and issues run as their own instances; the relationship's tree did not grow"
    reviews = rel.linked("periodic_review")
    engine = rel.svc.workflows.using(SqlInstanceStore(rel.session))
    done = Counter(engine.instance_data(r.id)["review_id"] for r in reviews if r.status == "completed")
    assert done == {"R.S7": 20, "R.RK": 20, "R.PM": 20, "R.VL": 20, "R.GV": 20, "R.S5": 10, "R.CH": 10, "R.EX": 5}, \
        "every review of the relationship's own kinds fell due and was done, each on its own interval"
    assert max(len(r.state) for r in reviews) < 40_000, "each review instance stays small"
    assert rel.ready_names() == ["s7_manage_activities"]


def test_the_agenda_lists_upcoming_reviews_and_deadlines_per_relationship(start, session):
    from app.agenda.services import upcoming
    from app.management.services import management_system
    rel = start()
    rel.drive(until=until_ready("s6_value_definition"))      # stage 5 approved: R.S5, R.RK, R.PM scheduled
    stage5_approved = rel.now
    rel.now += timedelta(days=10)
    rel.drive(until=until_ready("s7_manage_activities"))     # stage 7 started: R.S7, R.EX scheduled
    stage7_started = rel.now
    other = start(data={"relationship_name": "Other"})
    entries = upcoming(session, now=rel.now, relationship_id=rel.instance_id)
    assert [(e.kind, e.title, e.when) for e in entries] == [     # the relationship's own, earliest first
        ("deadline", "Manage joint activities, check delivery", add_period(stage7_started, "P14D")),  # its dueIn
        ("review", "Review of the value register", add_period(stage7_started, "P1M")),  # stage 6 agreed: monthly
        ("review", "Performance against the agreed measures", add_period(stage5_approved, "P3M")),
        ("review", "Review of the joint risk register", add_period(stage5_approved, "P3M")),
        ("review", "Review of adherence to the joint governance", add_period(stage7_started, "P3M")),
        ("review", "SER performance review of the relationship", add_period(stage7_started, "P3M")),
        ("review", "Internal audit of collaborative processes", add_period(stage5_approved, "P6M")),
        ("review", "Review of changes in the organisations, environment and market",
         add_period(stage7_started, "P6M")),
        ("review", "Review of the joint exit strategy", add_period(stage7_started, "P12M"))]
    assert {e.relationship_id for e in entries} == {rel.instance_id}
    assert all(e.relationship == "ACME joint bid" for e in entries)
    assert all(e.process_id == "periodic_review" for e in entries if e.kind == "review")
    assert [(e.kind, e.title) for e in upcoming(session, now=rel.now, relationship_id=other.instance_id)] == [
        ("deadline", "Set the opportunity's objectives and key drivers")], "the other has only its first task due"

    # the organisation's own reviews and audits are on the agenda too, under its management system, never under
    # a relationship
    organisation = management_system(session).id
    own = upcoming(session, now=rel.now, relationship_id=organisation)
    titles = {(e.title, e.process_id, e.kind) for e in own}
    assert {("SER review of the management system", "periodic_review", "review"),
            ("Reassessment due", "management_system", "timer")} <= titles
    assert any(t.startswith("Internal audit: ") and p == "internal_audit" and k == "review" for t, p, k in titles)
    assert all(e.relationship == "Management system" for e in own)
    horizon = add_period(rel.now, "P4M")
    soon = upcoming(session, now=rel.now, until=horizon)
    assert {e.relationship_id for e in soon} <= {rel.instance_id, organisation, other.instance_id}
    assert {e.title for e in soon if e.relationship_id == rel.instance_id} == {
        "Manage joint activities, check delivery", "Performance against the agreed measures",
        "Review of the joint risk register", "SER performance review of the relationship", "Review of the value register",
        "Review of adherence to the joint governance"}
    assert [e for e in soon if e.relationship_id == organisation] == [e for e in own if e.when <= horizon]


MEASURES = [
    {"objective": "Reliable service", "measure": "On-time delivery (%)", "target": "95 %", "target_value": 95,
     "direction": "higher_is_better", "amber_percent": 10, "frequency": "monthly", "owner": "Jo"},
    {"objective": "Lean handovers", "measure": "Days to hand over", "target": "4 days", "target_value": 4,
     "direction": "lower_is_better", "frequency": "monthly", "owner": "Sam"},
    {"objective": "Certified", "measure": "ISO 44001 certificate", "target": "held", "frequency": "annually",
     "owner": "Ann"}]


def test_a_measures_status_and_trend_are_derived_from_its_actual_not_typed(start):
    review = start("periodic_review", review_data("R.PM", performance_measures=MEASURES))
    review.wake(at=at("2025-02-01T00:00:00+00:00"))
    rows = review.task_data("pr_performance_measures")["measure_results"]
    assert [(r["target_value"] if "target_value" in r else None) for r in rows] == [95, 4, None]
    typed = [dict(rows[0], actual="80 %", actual_value=80, status="on_track"),   # a typed status is overridden
             dict(rows[1], actual="4 days", actual_value=4),
             dict(rows[2], actual="held", assessed_status="on_track")]
    review.complete("pr_performance_measures", {"measure_results": typed})
    (first,) = review.linked_data("periodic_review")
    assert [(r["status"], r["trend"]) for r in first["previous_measure_results"]] == [
        ("off_track", "first_measurement"), ("on_track", "first_measurement"), ("on_track", "first_measurement")]

    nxt = review.linked_driver(review.linked("periodic_review")[0].id)
    nxt.wake(at=at("2025-03-02T00:00:00+00:00"))
    rows = nxt.task_data("pr_performance_measures")["measure_results"]
    assert [r.get("previous_value") for r in rows] == [80, 4, None]
    nxt.complete("pr_performance_measures", {"measure_results": [
        dict(rows[0], actual="90 %", actual_value=90), dict(rows[1], actual="4.3 days", actual_value=4.3),
        dict(rows[2], actual="lapsed", assessed_status="off_track", comment="Audit missed")]})
    second = review.linked_data("periodic_review")[-1]  # runs hang off the first: siblings, not a chain
    assert [(r["status"], r["trend"]) for r in second["previous_measure_results"]] == [
        ("at_risk", "improving"), ("at_risk", "worsening"), ("off_track", "worsening")]


@pytest.mark.slow
def test_the_relationship_page_charts_each_measure_with_its_derived_status(start, session, signed_in):
    rel = start()
    rel.drive({"s5_measures_roles": {"performance_measures": MEASURES[:1]}}, until=until_ready("s6_value_definition"))
    for actual in (80, 90, 97):  # three quarters of R.PM
        (review,) = [r for r in rel.linked("periodic_review", status="running")
                     if rel.linked_driver(r.id).latest_data().get("review_id") == "R.PM"]
        pm = rel.linked_driver(review.id)
        pm.wake(at=session.get(ProcessInstance, review.id).next_due_at + timedelta(minutes=1))
        rows = pm.task_data("pr_performance_measures")["measure_results"]
        pm.complete("pr_performance_measures", {"measure_results": [dict(rows[0], actual=f"{actual} %",
                                                                          actual_value=actual)]})
        rel.now = pm.now
    session.commit()
    page = signed_in("staff").get(f"/relationships/{rel.instance_id}").get_data(as_text=True)
    assert 'id="measures"' in page and 'data-measure="On-time delivery (%)"' in page
    points = re.findall(r'<circle class="point"[^>]*data-actual="([^"]+)" data-status="([^"]*)"', page)
    assert points == [("80", "off_track"), ("90", "at_risk"), ("97", "on_track")]
    assert 'class="target"' in page and "target 95" in page
