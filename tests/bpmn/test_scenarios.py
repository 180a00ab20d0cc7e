"""End-to-end scenarios on the real diagrams with plain SpiffWorkflow 3.2 (see driver.py)."""

import pytest
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from tests.bpmn import driver
from tests.bpmn.driver import Clock, Run, until_ready

START = {"relationship_name": "ACME joint bid"}
REVIEW_ORDER = ["R.S3", "R.S5", "R.RK", "R.S7", "R.EX"]


@pytest.fixture
def clock(monkeypatch):
    return Clock("2025-01-06T09:00:00+00:00").install(monkeypatch)


def stage_of(task):
    return task.data.get("current_stage")


# 1 ------------------------------------------------------------------------------------------------
def test_happy_path_runs_all_eight_stages_to_completed(clock):
    run = Run("lifecycle", START, clock=clock, roundtrip=True)     # save/restore after every task
    stages_seen = []
    for _ in range(200):
        ready = run.ready()
        if not ready:
            break
        stages_seen.append(stage_of(ready[0]))
        assert ready[0].task_spec.lane in {"Staff", "SER", "Joint management team", "Partner SER"}
        run.complete(ready[0])
    assert run.wf.completed
    data = run.data
    assert data["outcome"] == "completed"
    assert data["premature_exit"] is False
    assert sorted(set(stages_seen)) == list(range(1, 9))
    assert stages_seen == sorted(stages_seen), "stages run in order"
    assert [g["stage"] for g in data["gate_history"]] == list(range(1, 9))
    assert all(g["decision"] == "approve" for g in data["gate_history"])
    assert all(g["partner_decision"] == "approve" for g in data["gate_history"] if g["stage"] >= 5)
    # periodic reviews: first run of each kind, calendar-true from "now", defaults from requirements.yaml
    defaults = driver.periodic_review_defaults()
    started = run.recorder.started
    assert [pid for pid, _ in started] == ["periodic_review"] * 5
    assert [d["review_id"] for _, d in started] == REVIEW_ORDER
    for _, d in started:
        assert d["interval"] == defaults[d["review_id"]]
        assert d["due_at"] == driver.add_period(clock.now.isoformat(), defaults[d["review_id"]])
        assert d["sequence"] == 1 and d["relationship_name"] == START["relationship_name"]
    assert "risks" in started[2][1] and "exit_triggers" in started[4][1]
    assert run.recorder.cancelled == ["periodic_review"]
    assert run.recorder.signals == []


def test_review_intervals_can_be_overridden_by_start_data(clock):
    run = Run("lifecycle", {**START, "review_intervals": {"R.S3": "P1M"}}, clock=clock)
    run.drive(until=until_ready("s4_nominate_candidates"))
    (_, first), = run.recorder.started
    assert first["interval"] == "P1M" and first["due_at"] == "2025-02-06T09:00:00+00:00"
    assert run.latest_data()["review_intervals"]["R.S7"] == "P3M"


# 2 ------------------------------------------------------------------------------------------------
def test_rework_reopens_the_stage_with_earlier_answers(clock):
    run = Run("lifecycle", START, clock=clock)
    run.drive({"s1_policy": {"policy_text": "Policy v1"}}, until=until_ready("s1_ser_gate"))
    run.complete("s1_ser_gate", {"decision": "rework", "comments": "Say how the policy reaches suppliers."})

    # The stage's work reopens from its first task, pre-filled with the earlier answers.
    assert run.ready_names() == ["s1_appoint_ser"]
    run.drive(until=until_ready("s1_policy"))
    reopened = run.task("s1_policy")
    assert reopened.data["policy_text"] == "Policy v1"
    assert reopened.data["comments"] == "Say how the policy reaches suppliers."     # shown in instructions
    assert reopened.data["decision"] == "rework"
    run.complete(reopened, {"policy_text": "Policy v2"})
    run.drive(until=until_ready("s1_ser_gate"))
    run.complete("s1_ser_gate", {"decision": "rework", "comments": "Still missing the risk owner."})
    run.drive(until=until_ready("s1_ser_gate"))
    gate = run.task("s1_ser_gate")
    assert gate.data["policy_text"] == "Policy v2"
    assert "decision" not in gate.data, "the gate opens blank in every round"
    run.complete("s1_ser_gate", {"decision": "approve"})

    assert run.ready_names() == ["s2_opportunity"]
    data = run.task("s2_opportunity").data
    assert data["current_stage"] == 2
    assert "decision" not in data and "comments" not in data, "a stage's gate opens blank"
    assert [g["decision"] for g in data["gate_history"]] == ["rework", "rework", "approve"]
    assert sum(1 for name, _ in run.completed_forms if name == "s1_policy") == 3
    assert data["policy_text"] == "Policy v2"


def test_joint_gate_needs_both_sers_and_keeps_each_answer(clock):
    run = Run("lifecycle", START, clock=clock)
    run.drive(until=until_ready("s5_ser_gate"))
    assert set(run.ready_names()) == {"s5_ser_gate", "s5_partner_ser_gate"}
    # The partner answers first, then our SER: neither answer may overwrite the other at the join.
    run.complete("s5_partner_ser_gate", {"partner_decision": "rework", "partner_comments": "Add our KPIs."})
    run.complete("s5_ser_gate", {"decision": "approve"})
    assert run.ready_names() == ["s5_identify_sers"], "one rework is enough to reopen the stage"
    history = run.task("s5_identify_sers").data["gate_history"]
    assert history[-1]["decision"] == "approve" and history[-1]["partner_decision"] == "rework"

    run.drive(until=until_ready("s5_ser_gate"))
    assert "decision" not in run.task("s5_ser_gate").data
    run.complete("s5_ser_gate", {"decision": "rework", "comments": "Contract is missing."})
    run.complete("s5_partner_ser_gate", {"partner_decision": "approve"})
    assert run.ready_names() == ["s5_identify_sers"]

    run.drive(until=until_ready("s5_ser_gate"))
    run.complete("s5_ser_gate")
    run.complete("s5_partner_ser_gate")
    assert run.ready_names() == ["s6_value_definition"]
    assert [r for r in run.recorder.started if r[1]["review_id"] in ("R.S5", "R.RK")].__len__() == 2


# 3 ------------------------------------------------------------------------------------------------
def test_stage2_not_appropriate_ends_the_lifecycle(clock):
    run = Run("lifecycle", START, clock=clock)
    run.drive(until=until_ready("s2_ser_gate"))
    schema, _ = driver.load_form(run.task("s2_ser_gate").task_spec)
    assert not driver.validator(schema).is_valid({"decision": "stop"}), "stopping needs comments"
    run.complete("s2_ser_gate", {"decision": "stop", "comments": "No partner market; stays transactional."})
    assert run.wf.completed
    assert run.data["outcome"] == "not_appropriate"
    assert run.data["current_stage"] == 2
    assert run.ready_names() == []
    assert run.recorder.started == []
    assert not run.wf.get_tasks(spec_name="lc_stage3", state=TaskState.COMPLETED)


# 4 ------------------------------------------------------------------------------------------------
def test_issue_escalates_by_time_limits_and_raises_an_exit_trigger(clock):
    escalate_issue_by_time_limits(clock)


def escalate_issue_by_time_limits(clock):
    """Run an issue through all three levels by letting each time limit expire; returns the trigger payload."""
    run = Run("issue_resolution", {"issue_title": "Late design documents"}, clock=clock)
    run.complete("ir_log_issue")
    assert run.ready_names() == ["ir_level1"]
    assert run.task("ir_level1").task_spec.lane == "Staff"
    assert [e.value for e in run.wf.waiting_events()] == ["2025-01-11T09:00:00+00:00"]   # now + P5D

    clock.advance(days=4)
    run.wake()
    assert run.ready_names() == ["ir_level1"], "not due yet"
    clock.advance(days=1, minutes=1)
    run.wake()
    assert run.ready_names() == ["ir_level2"]
    assert run.task("ir_level2").task_spec.lane == "Joint management team"

    clock.advance(days=10, minutes=1)
    run.wake()
    assert sorted(run.ready_names()) == ["ir_level3_partner_ser", "ir_level3_ser"]
    assert {t.task_spec.lane for t in run.ready()} == {"SER", "Partner SER"}

    clock.advance(days=15, minutes=1)
    run.wake()
    assert run.wf.completed and run.ready_names() == []
    assert run.data["outcome"] == "exit_trigger_raised"
    assert [h["level"] for h in run.data["escalation_history"]] == [1, 2, 3]
    assert {h["event"] for h in run.data["escalation_history"]} == {"time_limit_expired"}
    (name, payload), = run.recorder.signals
    assert name == "exit_trigger" and payload["source"] == "escalation"
    assert payload["issue"]["title"] == "Late design documents"
    assert "Late design documents" in payload["reason"]
    return payload


def test_issue_limits_come_from_data_and_resolution_closes_early(clock):
    run = Run("issue_resolution", {"l1_limit": "PT4H"}, clock=clock)
    run.complete("ir_log_issue")
    assert [e.value for e in run.wf.waiting_events()] == ["2025-01-06T13:00:00+00:00"]
    run.complete("ir_level1", {"l1_resolution": "escalate", "l1_escalation_reason": "Needs budget."})
    run.complete("ir_level2", {"l2_resolution": "resolved", "l2_resolution_summary": "Budget found."})
    assert run.wf.completed and run.data["outcome"] == "resolved" and run.data["resolved_at_level"] == 2
    assert run.data["escalation_history"][0]["event"] == "escalated"
    assert run.recorder.signals == []


def test_level3_resolves_only_if_both_sers_agree(clock):
    run = Run("issue_resolution", {}, clock=clock)
    run.complete("ir_log_issue")
    run.complete("ir_level1", {"l1_resolution": "escalate", "l1_escalation_reason": "x"})
    run.complete("ir_level2", {"l2_resolution": "escalate", "l2_escalation_reason": "y"})
    run.complete("ir_level3_ser", {"l3_resolution": "resolved", "l3_resolution_summary": "Accept delay."})
    run.complete("ir_level3_partner_ser", {"l3_partner_resolution": "escalate"})
    assert run.wf.completed and run.data["outcome"] == "exit_trigger_raised"
    assert run.recorder.signals[0][0] == "exit_trigger"


def test_invoked_exit_interrupts_stage6_and_runs_stage8_as_premature(clock):
    payload = escalate_issue_by_time_limits(clock)
    run = Run("lifecycle", START, clock=clock)
    run.drive(until=until_ready("s6_improvement"))
    run.signal("exit_trigger", payload)               # what the app does with signal_parent(...)
    assert sorted(run.ready_names()) == ["exit_review", "s6_improvement"]
    review = run.task("exit_review")
    assert review.task_spec.lane == "SER"
    assert review.data["exit_info"] == payload
    run.complete(review, {"exit_decision": "invoke", "exit_rationale": "Trust has broken down."})

    assert run.ready_names() == ["s8_finalise_exit_strategy"]
    data = run.task("s8_finalise_exit_strategy").data
    assert data["premature_exit"] is True and data["current_stage"] == 8
    assert data["exit_invocation"]["trigger"] == payload
    assert data["exit_reason"] == "Trust has broken down."
    assert run.recorder.cancelled == ["periodic_review"]
    assert not run.wf.get_tasks(spec_name="s6_improvement", state=TaskState.READY)

    run.drive(until=lambda r: any(n.startswith("s8_continuity") for n in r.ready_names()))
    assert run.ready_names() == ["s8_continuity_plan_premature"]
    task = run.task("s8_continuity_plan_premature")
    schema, _ = driver.load_form(task.task_spec)
    incomplete = driver.form_data(task)
    del incomplete["continuity_plan"]
    assert not driver.validator(schema).is_valid(incomplete), "continuity plan is mandatory"
    run.drive()
    assert run.wf.completed
    assert run.data["outcome"] == "exited_prematurely"


# 5 ------------------------------------------------------------------------------------------------
def test_dismissed_trigger_leaves_the_stage_task_where_it_was(clock):
    run = Run("lifecycle", START, clock=clock)
    run.drive(until=until_ready("s6_learning"))
    before = run.task("s6_learning")
    before_id, before_data = before.id, dict(before.data)

    for attempt in range(2):                         # the watcher re-arms after every dismissal
        run.signal("exit_trigger", {"reason": f"Partner change of control #{attempt}", "source": "person"})
        assert sorted(run.ready_names()) == ["exit_review", "s6_learning"]
        assert run.task("s6_learning").id == before_id
        run.complete("exit_review", {"exit_decision": "dismiss", "exit_rationale": "New owner keeps the deal."})
        ready = run.ready()
        assert [(driver.name_of(t), t.id, t.state) for t in ready] == [("s6_learning", before_id, TaskState.READY)]
        assert ready[0].data == before_data

    assert "exit_trigger" in [e.name for e in run.wf.waiting_events()]
    run.drive()
    assert run.wf.completed
    assert run.data["outcome"] == "completed" and run.data["premature_exit"] is False


def test_exit_trigger_is_refused_outside_stages_5_to_7(clock):
    run = Run("lifecycle", START, clock=clock)
    run.drive(until=until_ready("s3_internal_assessment"))
    with pytest.raises(WorkflowException, match="not waiting for exit_trigger"):
        run.signal("exit_trigger", {"reason": "too early", "source": "person"})


# 6 ------------------------------------------------------------------------------------------------
CRITERIA = [
    {"criterion": "Financial standing", "category": "financial_standing", "weight": 60,
     "how_assessed": "Audited accounts"},
    {"criterion": "Culture", "category": "culture", "weight": 40, "how_assessed": "Workshops"},
]
CANDIDATES = [
    {"name": "Alpha Ltd", "country": "UK", "contact": "a@alpha", "nomination_rationale": "Strong balance sheet"},
    {"name": "Beta GmbH", "country": "DE", "contact": "b@beta", "nomination_rationale": "Good culture fit"},
    {"name": "Gamma SA", "country": "FR", "contact": "c@gamma", "nomination_rationale": "Cheapest"},
]
SCORES = {"Alpha Ltd": (8, 6), "Beta GmbH": (5, 9), "Gamma SA": (9, 2)}   # weighted: 7.2, 6.6, 6.2


def evaluate_all(run):
    tasks = [t for t in run.ready() if driver.name_of(t) == "s4_evaluate_candidate"]
    assert len(tasks) == 3, "one parallel evaluation per candidate"
    for t in tasks:
        name = t.data["candidate"]["name"]
        fin, cult = SCORES[name]
        run.complete(t, {"candidate": {"scores": [
            {"criterion": "Financial standing", "score": fin, "evidence_note": "accounts"},
            {"criterion": "Culture", "score": cult, "evidence_note": "workshop"}],
            "recommendation": "shortlist"}})


def test_three_candidates_are_evaluated_and_one_is_selected(clock):
    run = Run("lifecycle", START, clock=clock)
    run.drive({"s3_selection_criteria": {"selection_criteria": CRITERIA}},
              until=until_ready("s4_nominate_candidates"))
    run.complete("s4_nominate_candidates", {"candidates": CANDIDATES[:2]})
    run.complete("s4_ser_agree_approach", {"approach_decision": "revise", "approach_comments": "Add Gamma."})
    assert run.ready_names() == ["s4_nominate_candidates"], "no candidate is approached without SER agreement"
    run.complete("s4_nominate_candidates", {"candidates": CANDIDATES})
    run.complete("s4_ser_agree_approach", {"approach_decision": "agree"})
    evaluate_all(run)

    assert run.ready_names() == ["s4_action_plans"]
    data = run.task("s4_action_plans").data
    assert [c["name"] for c in data["candidates"]] == [c["name"] for c in CANDIDATES]
    assert [(r["name"], r["weighted_score"]) for r in data["candidate_ranking"]] == [
        ("Alpha Ltd", 7.2), ("Beta GmbH", 6.6), ("Gamma SA", 6.2)]
    assert all(r["unscored_criteria"] == [] for r in data["candidate_ranking"])
    assert not {"candidate", "evaluation", "cand", "weights", "scored"} & set(data)

    run.drive(until=until_ready("s4_select_partner"))
    run.complete("s4_select_partner", {"selected_partner": data["candidate_ranking"][0]["name"]})
    run.drive(until=until_ready("s4_ser_gate"))
    run.complete("s4_ser_gate", {"decision": "rework", "comments": "Re-check Beta's culture score."})

    # Rework: the evaluations reopen with the scores given before.
    run.complete("s4_nominate_candidates")
    run.complete("s4_ser_agree_approach", {"approach_decision": "agree"})
    reopened = [t for t in run.ready() if driver.name_of(t) == "s4_evaluate_candidate"]
    assert len(reopened) == 3
    for t in reopened:
        fin, cult = SCORES[t.data["candidate"]["name"]]
        assert [s["score"] for s in t.data["candidate"]["scores"]] == [fin, cult]
    run.drive(until=until_ready("s5_identify_sers"))
    final = run.task("s5_identify_sers").data
    assert final["selected_partner"] == "Alpha Ltd"
    assert len(final["candidates"]) == 3


# 7 ------------------------------------------------------------------------------------------------
def review_data(review_id, **extra):
    data = {"review_id": review_id, "due_at": "2025-01-31T09:00:00+00:00", "interval": "P1M", "sequence": 1,
            "relationship_name": "ACME", "previous_overall": None, "performance_measures": [],
            "audit_programme": [], "risks": [], "exit_strategy": "Hand back the service.", "exit_triggers": []}
    data.update(extra)
    return data


def test_periodic_review_fires_at_due_date_and_schedules_the_next_on_the_calendar(clock):
    clock.set("2025-01-20T09:00:00+00:00")
    run = Run("periodic_review", review_data("R.S3"), clock=clock)
    assert run.ready_names() == []
    assert [e.value for e in run.wf.waiting_events()] == ["2025-01-31T09:00:00+00:00"]
    clock.set("2025-01-31T08:59:00+00:00")
    run.wake()
    assert run.ready_names() == []
    clock.set("2025-01-31T09:01:00+00:00")
    run.wake()
    assert run.ready_names() == ["pr_management_system_review"]
    clock.set("2025-02-10T15:00:00+00:00")                 # done ten days late
    run.complete("pr_management_system_review")
    assert run.wf.completed
    (pid, nxt), = run.recorder.started
    assert pid == "periodic_review"
    # anchored on the due date, calendar months: Jan 31 + P1M = Feb 28 (not Mar 2, not Mar 12)
    assert nxt["due_at"] == "2025-02-28T09:00:00+00:00"
    assert nxt["review_id"] == "R.S3" and nxt["interval"] == "P1M" and nxt["sequence"] == 2
    assert run.data["next_due_at"] == nxt["due_at"]


@pytest.mark.parametrize("review_id, tasks, lanes", [
    ("R.S3", ["pr_management_system_review"], ["SER"]),
    ("R.S5", ["pr_internal_audit"], ["Staff"]),
    ("R.S7", ["pr_performance_review", "pr_ser_performance_feedback"], ["Joint management team", "SER"]),
    ("R.EX", ["pr_exit_strategy_review"], ["Joint management team"]),
    ("R.RK", ["pr_risk_register_review"], ["Joint management team"]),
])
def test_each_review_kind_routes_to_its_task_and_lane(clock, review_id, tasks, lanes):
    run = Run("periodic_review", review_data(review_id), clock=clock)
    clock.set("2025-02-01T00:00:00+00:00")
    run.wake()
    for name, lane in zip(tasks, lanes, strict=True):
        assert run.ready_names() == [name]
        assert run.task(name).task_spec.lane == lane
        run.complete(name)
    assert run.wf.completed and len(run.recorder.started) == 1


def test_risk_register_review_carries_the_updated_register_forward(clock):
    run = Run("periodic_review", review_data("R.RK"), clock=clock)
    clock.set("2025-02-01T00:00:00+00:00")
    run.wake()
    risk = {"risk": "Key supplier fails", "category": "relationship", "owner": "Jo", "owner_organisation": "ours",
            "likelihood": 2, "impact": 5, "mitigation": "Second source", "review_date": "2025-04-01"}
    run.complete("pr_risk_register_review", {"risks": [risk]})
    assert run.recorder.started[0][1]["risks"] == [risk]


@pytest.mark.parametrize("previous, current, raised", [
    ("red", "red", True), (None, "red", False), ("red", "amber", False), ("amber", "red", False)])
def test_two_consecutive_red_performance_reviews_raise_an_exit_trigger(clock, previous, current, raised):
    run = Run("periodic_review", review_data("R.S7", previous_overall=previous, sequence=4), clock=clock)
    clock.set("2025-02-01T00:00:00+00:00")
    run.wake()
    ratings = {k: {"rating": "red", "evidence": "late", "evidence_file": "ev-1"}
               for k in ("outputs", "risk", "alignment", "behaviours", "trust")}
    run.complete("pr_performance_review", {"performance_ratings": ratings, "overall_rating": current})
    run.complete("pr_ser_performance_feedback", {"overall_rating": current})
    signals = run.recorder.signals
    if raised:
        (name, payload), = signals
        assert name == "exit_trigger" and payload["source"] == "performance"
        assert payload["ratings"] == ratings and "reason" in payload
    else:
        assert signals == []
    (_, nxt), = run.recorder.started
    assert nxt["previous_overall"] == current, "the rating is passed on to the next review"
    assert nxt["sequence"] == 5


def test_unknown_review_id_fails_loudly(clock):
    from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
    run = Run("periodic_review", review_data("R.XX"), clock=clock)
    clock.set("2025-02-01T00:00:00+00:00")
    with pytest.raises(WorkflowTaskException, match="Unknown review_id"):
        run.wake()
    assert run.recorder.started == []
