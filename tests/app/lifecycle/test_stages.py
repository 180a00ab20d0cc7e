"""The lifecycle through the real services: happy path, reviews scheduled, rework, joint gates, stage 2 stop,
four eyes, partner selection. Each test asserts the path taken, the data kept and the audit events."""

from __future__ import annotations

import pytest

from app.errors import Forbidden
from app.processes import services
from app.stages import stage_of_process
from tests.support.driver import START, START_TIME, fill_form, is_valid, until_ready
from workflows import add_period

REVIEW_ORDER = ["R.S3", "R.S5", "R.RK", "R.S7", "R.EX"]
REVIEW_DEFAULTS = {"R.S3": "P6M", "R.S5": "P6M", "R.S7": "P3M", "R.EX": "P12M", "R.RK": "P3M"}
LANES = {"Staff", "SER", "Joint management team", "Partner SER"}


# (1) ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_happy_path_runs_all_eight_stages_to_a_natural_exit(start, users):
    rel = start()
    stages_seen = []
    for _ in range(200):
        ready = rel.ready()
        if not ready:
            break
        stages_seen.append(stage_of_process(ready[0].process_id))
        assert ready[0].lane in LANES
        rel.complete(ready[0])
    assert rel.completed
    data = rel.data
    assert data["outcome"] == "completed" and data["premature_exit"] is False
    assert sorted(set(stages_seen)) == list(range(1, 9)) and stages_seen == sorted(stages_seen)
    assert [g["stage"] for g in data["gate_history"]] == list(range(1, 9))
    assert all(g["decision"] == "approve" for g in data["gate_history"])
    assert all(g["partner_decision"] == "approve" for g in data["gate_history"] if g["stage"] >= 5)

    # periodic reviews ran as linked instances, one per kind, calendar-true from "now"; stage 8 stopped them
    reviews = rel.linked("periodic_review")
    firsts = rel.linked_data("periodic_review")
    assert [d["review_id"] for d in firsts] == REVIEW_ORDER
    for d in firsts:
        assert d["interval"] == REVIEW_DEFAULTS[d["review_id"]] and d["sequence"] == 1
        assert d["due_at"] == add_period(START_TIME, d["interval"]).isoformat()
    assert {r.status for r in reviews} == {"cancelled"}

    # the audit trail tells the story: every task created and completed by a named person, the end
    actions = [e.action for e in rel.audit()]
    assert actions[0] == "task.created" and "instance.started" in actions and actions[-1] == "instance.completed"
    completed = rel.audit("task.completed")
    assert len(completed) == len(stages_seen)
    assert {e.actor for e in completed} == {"staff", "ser", "jmt", "pser"}


def test_review_intervals_can_be_overridden_by_start_data(start):
    rel = start(data={**START, "review_intervals": {"R.S3": "P1M"}})
    rel.drive(until=until_ready("s4_nominate_candidates"))
    (first,) = rel.linked_data("periodic_review")
    assert first["interval"] == "P1M" and first["due_at"] == "2025-02-06T09:00:00+00:00"
    assert rel.latest_data()["review_intervals"]["R.S7"] == "P3M"


# (2) ----------------------------------------------------------------------------------------------
def test_rework_twice_reopens_the_stage_with_earlier_answers(start):
    rel = start()
    rel.drive({"s1_policy": {"policy_text": "Policy v1"}}, until=until_ready("s1_ser_gate"))
    rel.complete("s1_ser_gate", {"decision": "rework", "comments": "Say how the policy reaches suppliers."})

    assert rel.ready_names() == ["s1_appoint_ser"]
    rel.drive(until=until_ready("s1_policy"))
    reopened = rel.task_data("s1_policy")
    assert reopened["policy_text"] == "Policy v1"
    assert reopened["comments"] == "Say how the policy reaches suppliers."
    rel.complete("s1_policy", {"policy_text": "Policy v2"})
    rel.drive(until=until_ready("s1_ser_gate"))
    rel.complete("s1_ser_gate", {"decision": "rework", "comments": "Still missing the risk owner."})
    rel.drive(until=until_ready("s1_ser_gate"))
    gate = rel.task_data("s1_ser_gate")
    assert gate["policy_text"] == "Policy v2"
    assert "decision" not in gate, "the gate opens blank in every round"
    rel.complete("s1_ser_gate", {"decision": "approve"})

    assert rel.ready_names() == ["s2_opportunity"]
    data = rel.task_data("s2_opportunity")
    assert data["current_stage"] == 2 and "decision" not in data and "comments" not in data
    assert [g["decision"] for g in data["gate_history"]] == ["rework", "rework", "approve"]
    assert sum(1 for name, _ in rel.submitted if name == "s1_policy") == 3
    assert data["policy_text"] == "Policy v2"
    gates = [e.payload["name"] for e in rel.audit("task.completed") if "gate" in e.payload["bpmn_id"]]
    assert len(gates) == 3


def test_joint_gate_needs_both_sers_and_keeps_each_answer(start):
    rel = start()
    rel.drive(until=until_ready("s5_ser_gate"))
    assert set(rel.ready_names()) == {"s5_ser_gate", "s5_partner_ser_gate"}
    assert rel.task("s5_partner_ser_gate").partner_side
    rel.complete("s5_partner_ser_gate", {"partner_decision": "rework", "partner_comments": "Add our KPIs."})
    rel.complete("s5_ser_gate", {"decision": "approve"})
    assert rel.ready_names() == ["s5_identify_sers"], "one rework is enough to reopen the stage"
    history = rel.task_data("s5_identify_sers")["gate_history"]
    assert history[-1]["decision"] == "approve" and history[-1]["partner_decision"] == "rework"

    rel.drive(until=until_ready("s5_ser_gate"))
    rel.complete("s5_ser_gate")
    rel.complete("s5_partner_ser_gate")
    assert rel.ready_names() == ["s6_value_definition"]
    assert [d["review_id"] for d in rel.linked_data("periodic_review")] == ["R.S3", "R.S5", "R.RK"]


def test_our_ser_cannot_decide_for_the_partner(start, users, session, services):
    rel = start()
    rel.drive(until=until_ready("s5_ser_gate"))
    row = rel.task("s5_partner_ser_gate")
    data = fill_form(rel.schema_of(row), rel.task_data(row))
    with pytest.raises(Forbidden, match="partner organisation"):
        services_complete(session, services, users["ser"], row, data)


# (3) ----------------------------------------------------------------------------------------------
def test_stage2_not_appropriate_ends_the_lifecycle(start):
    rel = start()
    rel.drive(until=until_ready("s2_ser_gate"))
    assert not is_valid(rel.schema_of(rel.task("s2_ser_gate")), {"decision": "stop"}), "stopping needs comments"
    rel.complete("s2_ser_gate", {"decision": "stop", "comments": "No partner market; stays transactional."})
    assert rel.completed and rel.ready_names() == []
    assert rel.data["outcome"] == "not_appropriate" and rel.data["current_stage"] == 2
    assert rel.linked() == []
    assert rel.audit()[-1].action == "instance.completed"


# (8) ----------------------------------------------------------------------------------------------
def test_four_eyes_the_preparer_cannot_approve_the_stage(start, users, session, services):
    from app.auth.services import create_user
    rel = start()
    both = create_user(session, "both", password=None, roles=["staff", "ser"], organisation="Us")
    rel.complete("s1_appoint_ser")                       # an SER decision, by the SER
    rel.complete("s1_policy", user=both)                 # the policy is prepared by `both`
    rel.drive(until=until_ready("s1_ser_gate"))
    gate = rel.task("s1_ser_gate")
    assert gate.approval_gate
    data = fill_form(rel.schema_of(gate), rel.task_data(gate), {"decision": "approve"})
    with pytest.raises(Forbidden, match="four eyes"):
        services_complete(session, services, both, gate, data)
    assert rel.task("s1_ser_gate").id == gate.id, "the refusal changed nothing"
    rel.complete("s1_ser_gate", {"decision": "approve"})   # the SER who only appointed themselves may approve
    assert rel.ready_names() == ["s2_opportunity"]


def services_complete(session, svc, user, row, data):
    return services.complete_task(session, svc.workflows, user=user, human_task_id=row.id, data=data,
                                  now=START_TIME)


# (6) ----------------------------------------------------------------------------------------------
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


def evaluate_all(rel):
    rows = [r for r in rel.ready() if r.bpmn_id == "s4_evaluate_candidate"]
    assert len(rows) == 3, "one evaluation per candidate"
    for row in rows:
        name = rel.task_data(row)["candidate"]["name"]
        fin, cult = SCORES[name]
        rel.complete(row, {"candidate": {"scores": [
            {"criterion": "Financial standing", "score": fin, "evidence_note": "accounts"},
            {"criterion": "Culture", "score": cult, "evidence_note": "workshop"}], "recommendation": "shortlist"}})


@pytest.mark.slow
def test_three_candidates_are_evaluated_and_one_is_selected(start):
    rel = start()
    rel.drive({"s3_selection_criteria": {"selection_criteria": CRITERIA}}, until=until_ready("s4_nominate_candidates"))
    rel.complete("s4_nominate_candidates", {"candidates": CANDIDATES[:2]})
    rel.complete("s4_ser_agree_approach", {"approach_decision": "revise", "approach_comments": "Add Gamma."})
    assert rel.ready_names() == ["s4_nominate_candidates"], "no candidate is approached without SER agreement"
    rel.complete("s4_nominate_candidates", {"candidates": CANDIDATES})
    assert len(rel.task_data("s4_ser_agree_approach")["candidates"]) == 3, "the removed list is replaced whole"
    rel.complete("s4_ser_agree_approach", {"approach_decision": "agree"})
    evaluate_all(rel)

    assert rel.ready_names() == ["s4_action_plans"]
    data = rel.task_data("s4_action_plans")
    assert [c["name"] for c in data["candidates"]] == [c["name"] for c in CANDIDATES]
    assert [(r["name"], r["weighted_score"]) for r in data["candidate_ranking"]] == [
        ("Alpha Ltd", 7.2), ("Beta GmbH", 6.6), ("Gamma SA", 6.2)]

    rel.drive(until=until_ready("s4_select_partner"))
    rel.complete("s4_select_partner", {"selected_partner": data["candidate_ranking"][0]["name"]})
    rel.drive(until=until_ready("s4_ser_gate"))
    rel.complete("s4_ser_gate", {"decision": "rework", "comments": "Re-check Beta's culture score."})

    rel.complete("s4_nominate_candidates")
    rel.complete("s4_ser_agree_approach", {"approach_decision": "agree"})
    reopened = [r for r in rel.ready() if r.bpmn_id == "s4_evaluate_candidate"]
    assert len(reopened) == 3
    for row in reopened:
        candidate = rel.task_data(row)["candidate"]
        assert [s["score"] for s in candidate["scores"]] == list(SCORES[candidate["name"]])
    rel.drive(until=until_ready("s5_identify_sers"))
    final = rel.task_data("s5_identify_sers")
    assert final["selected_partner"] == "Alpha Ltd" and len(final["candidates"]) == 3


def test_every_lane_of_the_bundle_maps_to_a_role(lifecycle_version, session):
    from lxml import etree

    from app.processes.lanes import lane_role
    lanes = set()
    for file in lifecycle_version.files:
        if file.kind == "bpmn":
            lanes |= set(etree.fromstring(file.content).xpath(
                "//bpmn:lane/@name", namespaces={"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}))
    assert lanes == LANES
    assert all(lane_role(lane) is not None for lane in lanes)
