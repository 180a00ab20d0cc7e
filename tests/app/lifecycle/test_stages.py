"""The lifecycle through the real services: happy path, reviews scheduled, rework, joint gates, stage 2 stop,
four eyes, partner selection. Each test asserts the path taken, the data kept and the audit events.

A relationship runs stages 2 and 4-8; stages 1 and 3 are the organisation's, done once in its management
system (process management_system), and a relationship enters stage 4 only once the organisation's stage 3 is
approved: the driver approves it when a relationship waits for it (`approve_organisation`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.errors import Forbidden
from app.management import services as management
from app.processes import services
from app.processes.models import HumanTask
from app.stages import stage_of_process
from tests.support.driver import (
    START,
    START_TIME,
    Driver,
    approve_organisation,
    fill_form,
    is_valid,
    until_ready,
)
from tests.support.tasks import CANDIDATES as TWO_CANDIDATES
from tests.support.tasks import CRITERIA
from workflows import add_period

# the relationship's own reviews, in the order the diagrams start them (stage 5's approval: R.S5, R.RK, R.PM; stage
# 7's start: R.S7, R.EX), and the stage whose opening they are calendar-true from (stage 5's approval opens stage 6)
REVIEW_ORDER = ["R.S5", "R.RK", "R.PM", "R.VL", "R.S7", "R.EX", "R.GV", "R.CH"]
REVIEW_DEFAULTS = {"R.S5": "P6M", "R.RK": "P3M", "R.PM": "P3M", "R.VL": "P1M", "R.S7": "P3M", "R.EX": "P12M",
                   "R.GV": "P3M", "R.CH": "P6M"}  # R.VL: the driver agrees a monthly value review in stage 6
REVIEW_SCHEDULED_AS = {"R.S5": 6, "R.RK": 6, "R.PM": 6, "R.VL": 7, "R.S7": 7, "R.EX": 7, "R.GV": 7, "R.CH": 7}
RELATIONSHIP_LANES = {"Staff", "SER", "Joint management team", "Joint operational team", "Partner SER"}
LANES = RELATIONSHIP_LANES | {"Top management"}   # top management works in the organisation's processes only


def start_management_system(session, svc, users) -> Driver:
    """The organisation's management system, set up by top management as its page does: stage 1 opens."""
    result = management.start(session, svc.workflows, users["top"], now=START_TIME)
    return Driver(session, svc, users, result.instance_id, START_TIME)


def tasks_of(session, instance_id) -> list[HumanTask]:
    session.expire_all()
    query = select(HumanTask).where(HumanTask.instance_id == instance_id).order_by(HumanTask.id)
    return list(session.scalars(query))


# (1) ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_happy_path_runs_stages_2_and_4_to_8_to_a_natural_exit_on_the_organisations_stages_1_and_3(
        start, session, services, users):
    rel = start()
    stages_seen, lanes_seen, entered = [], set(), {}
    organisation = None
    for _ in range(250):
        ready = rel.ready()
        if not ready and rel.waits_for_organisation():
            assert organisation is None and set(stages_seen) == {2}, "it waits once, after stage 2"
            assert management.management_system(session) is None, "nothing of the organisation's was done before"
            organisation = approve_organisation(session, services, users, rel.now)
            assert rel.ready_names() == ["s4_nominate_candidates"], "the organisation's approval released it"
            continue
        if not ready:
            break
        stage = stage_of_process(ready[0].process_id)
        entered.setdefault(stage, rel.now)
        stages_seen.append(stage)
        lanes_seen.add(ready[0].lane)
        rel.complete(ready[0], advance=timedelta(days=1))    # a day per task: "when" is distinguishable
    assert rel.completed and organisation is not None
    data = rel.data
    assert data["outcome"] == "completed" and data["premature_exit"] is False
    assert sorted(set(stages_seen)) == [2, 4, 5, 6, 7, 8] and stages_seen == sorted(stages_seen)
    # no top management task in a relationship; the joint operational team works the issues, and none is raised here
    assert lanes_seen == RELATIONSHIP_LANES - {"Joint operational team"}
    assert [g["stage"] for g in data["gate_history"]] == [2, 4, 5, 6, 7, 8]
    assert all(g["decision"] == ("exit" if g["stage"] == 7 else "approve") for g in data["gate_history"])
    assert all(g["partner_decision"] == ("exit" if g["stage"] == 7 else "approve")
               for g in data["gate_history"] if g["stage"] >= 5)

    # stages 1 and 3 were the organisation's, done once in its management system, never in the relationship
    assert not [t.bpmn_id for t in tasks_of(session, rel.instance_id)
                if t.bpmn_id.startswith(("s1_", "s3_")) or stage_of_process(t.process_id) in (1, 3)]
    ms_tasks = [t for t in tasks_of(session, organisation.instance_id) if t.bpmn_id.startswith(("s1_", "s3_"))]
    ms_names = [t.bpmn_id for t in ms_tasks]
    assert len(ms_names) == len(set(ms_names)), "each task of stages 1 and 3 done once"
    assert {"s1_policy", "s1_ser_gate", "s3_selection_criteria", "s3_ser_gate"} <= set(ms_names)
    assert {t.state for t in ms_tasks} == {"completed"}
    assert {stage_of_process(t.process_id) for t in ms_tasks} == {1, 3}
    ms_data = organisation.latest_data()
    assert [(g["stage"], g["decision"]) for g in ms_data["gate_history"]] == [(1, "approve"), (3, "approve")]
    assert {e.actor for e in organisation.audit("task.completed")} == {"top", "staff", "ser"}
    # the relationship took the organisation's approved partner selection criteria
    assert data["selection_criteria"] == ms_data["selection_criteria"] and data["selection_criteria"]
    assert data["organisation_assessment"]["instance_id"] == organisation.instance_id

    # the relationship's own periodic reviews ran as linked instances, one per kind, calendar-true from when they
    # were scheduled; stage 8 stopped them. The organisation's review (R.S3) is its own and goes on.
    reviews = rel.linked("periodic_review")
    firsts = rel.linked_data("periodic_review")
    assert [d["review_id"] for d in firsts] == REVIEW_ORDER
    for d in firsts:
        assert d["interval"] == REVIEW_DEFAULTS[d["review_id"]] and d["sequence"] == 1
        assert d["due_at"] == add_period(entered[REVIEW_SCHEDULED_AS[d["review_id"]]], d["interval"]).isoformat()
    assert entered[6] < entered[7]
    assert {r.status for r in reviews} == {"cancelled"}
    (ms_review,) = organisation.linked("periodic_review")
    assert ms_review.status == "running"
    assert [d["review_id"] for d in organisation.linked_data("periodic_review")] == ["R.S3"]

    # the audit trail tells the story: every task created and completed by a named person, the end
    actions = [e.action for e in rel.audit()]
    assert actions[0] == "task.created" and "instance.started" in actions and actions[-1] == "instance.completed"
    assert actions.count("relationship.organisation_ready") == 1
    completed = rel.audit("task.completed")
    assert len(completed) == len(stages_seen)
    # ser2 approves stage 4: the SER who selected the partner may not (four eyes)
    assert {e.actor for e in completed} == {"staff", "ser", "ser2", "jmt", "pser"}


def test_review_intervals_can_be_overridden_by_start_data(start):
    rel = start(data={**START, "review_intervals": {"R.S5": "P1M"}})
    rel.drive(until=until_ready("s6_value_definition"))      # stage 5 approved: its reviews are scheduled
    assert [(d["review_id"], d["interval"], d["due_at"]) for d in rel.linked_data("periodic_review")] == [
        ("R.S5", "P1M", "2025-02-06T09:00:00+00:00"),
        ("R.RK", "P3M", "2025-04-06T09:00:00+00:00"),
        ("R.PM", "P3M", "2025-04-06T09:00:00+00:00")]
    intervals = rel.latest_data()["review_intervals"]
    assert intervals == {**REVIEW_DEFAULTS, "R.VL": "P3M", "R.S5": "P1M"}, "the override is merged over the defaults"


# (2) ----------------------------------------------------------------------------------------------
def test_rework_twice_reopens_the_tasks_picked_with_earlier_answers(start, session, services, users):
    # stage 1 is the organisation's set-up: rework ends the stage's run and the management system runs it again;
    # the tasks the SER did not tick are carried forward with their answers
    ms = start_management_system(session, services, users)
    ms.drive({"s1_policy": {"policy_text": "Policy v1"}}, until=until_ready("s1_ser_gate"))
    ms.complete("s1_ser_gate", {"decision": "rework", "comments": "Say how the policy reaches suppliers.",
                                "reopen_tasks": ["s1_policy"]})

    assert ms.ready_names() == ["s1_policy"], "the SER's appointment, not ticked, is carried forward"
    reopened = ms.task_data("s1_policy")
    assert reopened["policy_text"] == "Policy v1"
    assert reopened["comments"] == "Say how the policy reaches suppliers."
    ms.complete("s1_policy", {"policy_text": "Policy v2"})
    assert ms.ready_names() == ["s1_ser_gate"], "nothing else was ticked: straight back to the gate"
    ms.complete("s1_ser_gate", {"decision": "rework", "comments": "Still missing the risk owner.",
                                "reopen_tasks": ["s1_initial_risks", "s1_crmp"]})
    assert ms.ready_names() == ["s1_initial_risks"]
    ms.drive(until=until_ready("s1_ser_gate"))
    gate = ms.task_data("s1_ser_gate")
    assert gate["policy_text"] == "Policy v2"
    assert "decision" not in gate and "reopen_tasks" not in gate, "the gate opens blank in every round"
    assert ms.linked() == [], "a set-up sent back starts nothing"
    ms.complete("s1_ser_gate", {"decision": "approve"})

    assert ms.ready_names() == ["s3_internal_assessment"]
    data = ms.task_data("s3_internal_assessment")
    assert data["current_stage"] == 3 and "decision" not in data and "comments" not in data
    assert [(g["decision"], g.get("reopened")) for g in data["gate_history"]] == [
        ("rework", ["s1_policy"]), ("rework", ["s1_initial_risks", "s1_crmp"]), ("approve", [])]
    assert data["carry_forward"] == [], "an approval carries nothing into stage 3"
    assert sum(1 for name, _ in ms.submitted if name == "s1_policy") == 2
    assert sum(1 for name, _ in ms.submitted if name == "s1_crmp") == 2
    assert data["policy_text"] == "Policy v2"
    gates = [e.payload["name"] for e in ms.audit("task.completed") if "gate" in e.payload["bpmn_id"]]
    assert len(gates) == 3
    carried = [e.payload["bpmn_id"] for e in ms.audit("task.carried_forward")]
    assert carried.count("s1_appoint_ser") == 2 and carried.count("s1_policy") == 1, "round 2 carries round 1's pick"
    assert carried.count("s1_initial_risks") == 1 and carried.count("s1_crmp") == 1, "carried in round 1 only"
    assert [c.process_id for c in ms.linked()] == ["internal_audit"] * len(data["audits"]), \
        "the approved set-up starts the audit programme, once"


def test_a_stage_3_rework_reopens_only_the_picked_task(start, session, services, users):
    ms = start_management_system(session, services, users)
    ms.drive(until=until_ready("s3_ser_gate"))
    ms.complete("s3_ser_gate", {"decision": "rework", "comments": "Score the gaps again.",
                                "reopen_tasks": ["s3_skills_gaps"]})
    assert ms.ready_names() == ["s3_skills_gaps"]
    ms.complete("s3_skills_gaps")
    assert ms.ready_names() == ["s3_ser_gate"]
    history = ms.task_data("s3_ser_gate")["gate_history"][-1]
    assert (history["stage"], history["reopened"]) == (3, ["s3_skills_gaps"])


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
    assert rel.linked("periodic_review") == [], "a stage sent back schedules nothing"

    rel.drive(until=until_ready("s5_ser_gate"))
    rel.complete("s5_ser_gate")
    # the join waits for this round's partner decision: the first round's does not count again
    assert rel.ready_names() == ["s5_partner_ser_gate"]
    rel.complete("s5_partner_ser_gate")
    assert rel.ready_names() == ["s6_value_definition"]
    assert [d["review_id"] for d in rel.linked_data("periodic_review")] == ["R.S5", "R.RK", "R.PM"]


def test_our_ser_cannot_decide_for_the_partner(start, users, session, services):
    rel = start()
    rel.drive(until=until_ready("s5_ser_gate"))
    row = rel.task("s5_partner_ser_gate")
    data = fill_form(rel.schema_of(row), rel.task_data(row))
    with pytest.raises(Forbidden, match="partner organisation"):
        services_complete(session, services, users["ser"], row, data)


# (3) ----------------------------------------------------------------------------------------------
def test_stage2_not_appropriate_ends_the_lifecycle(start, session):
    rel = start()
    rel.drive(until=until_ready("s2_ser_gate"))
    assert not is_valid(rel.schema_of(rel.task("s2_ser_gate")), {"decision": "stop"}), "stopping needs comments"
    rel.complete("s2_ser_gate", {"decision": "stop", "comments": "No partner market; stays transactional."})
    assert rel.completed and rel.ready_names() == []
    assert rel.data["outcome"] == "not_appropriate" and rel.data["current_stage"] == 2
    assert rel.linked() == []
    assert not rel.waits_for_organisation() and management.management_system(session) is None, \
        "a relationship that stops at stage 2 never waits for the organisation"
    assert rel.audit()[-1].action == "instance.completed"


def test_stage4_no_suitable_partner_is_a_recorded_end(start, session):
    """S4.06: when no candidate is suitable the SER says so at the gate, with reasons, and the relationship ends
    there (instead of endless rework), its outcome and the reasons kept."""
    rel = start()
    rel.drive(until=until_ready("s4_ser_gate"))
    gate = rel.schema_of(rel.task("s4_ser_gate"))
    assert not is_valid(gate, {"decision": "no_suitable_partner"}), "the reasons are required"
    rel.complete("s4_ser_gate", {"decision": "no_suitable_partner",
                                 "comments": "No candidate met the culture and capability thresholds."})
    assert rel.completed and rel.ready_names() == []
    assert rel.data["outcome"] == "no_suitable_partner" and rel.data["current_stage"] == 4
    assert rel.data["gate_history"][-1]["decision"] == "no_suitable_partner"
    assert "culture" in rel.data["gate_history"][-1]["comments"]
    assert rel.audit()[-1].action == "instance.completed"


# (8) ----------------------------------------------------------------------------------------------
def test_four_eyes_the_preparer_cannot_approve_the_stage(start, users, session, services):
    from app.auth.services import create_user
    both = create_user(session, "both", password=None, roles=["staff", "ser"], organisation="Us")
    ms = start_management_system(session, services, users)
    ms.complete("s1_appoint_ser")                        # top management appoints the SER
    ms.complete("s1_policy", user=both)                  # the policy is prepared by `both`
    ms.drive(until=until_ready("s1_ser_gate"))
    gate = ms.task("s1_ser_gate")
    assert gate.approval_gate
    data = fill_form(ms.schema_of(gate), ms.task_data(gate), {"decision": "approve"})
    with pytest.raises(Forbidden, match="four eyes"):
        services_complete(session, services, both, gate, data)
    assert ms.task("s1_ser_gate").id == gate.id, "the refusal changed nothing"
    ms.complete("s1_ser_gate", {"decision": "approve"})   # an SER who prepared nothing of it may approve
    assert ms.ready_names() == ["s3_internal_assessment"]

    # an SER's own decisions inside the stage (appointing the collaborative leadership) are not preparation
    ms.drive(until=until_ready("s3_appoint_leadership"))
    ms.complete("s3_appoint_leadership", user=users["ser"])
    ms.drive(until=until_ready("s3_ser_gate"))
    ms.complete("s3_ser_gate", {"decision": "approve"}, user=users["ser"])
    assert management.readiness(session, ms.now).ready


def test_four_eyes_holds_across_rework_rounds_of_a_relationship_stage(start, users, session, services):
    from app.auth.services import create_user
    both = create_user(session, "both", password=None, roles=["staff", "ser"], organisation="Us")
    rel = start()
    rel.complete("s2_opportunity", user=both)            # `both` prepares the first round
    rel.drive(until=until_ready("s2_ser_gate"))
    rel.complete("s2_ser_gate", {"decision": "rework", "comments": "Sharpen the objectives."})
    rel.drive(until=until_ready("s2_ser_gate"))          # the second round is prepared by staff alone
    gate = rel.task("s2_ser_gate")
    data = fill_form(rel.schema_of(gate), rel.task_data(gate), {"decision": "approve"})
    with pytest.raises(Forbidden, match="four eyes"):
        services_complete(session, services, both, gate, data)
    rel.complete("s2_ser_gate", {"decision": "approve"})
    assert [g["decision"] for g in rel.latest_data()["gate_history"]] == ["rework", "approve"]


def test_four_eyes_holds_when_a_rework_runs_the_stage_afresh(start, users, session, services):
    """The management system's stage 1 goes round by running the stage again: who prepared an earlier round
    still prepared what is approved now, until the stage is approved once."""
    from app.auth.services import create_user
    both = create_user(session, "both", password=None, roles=["staff", "ser"], organisation="Us")
    ms = start_management_system(session, services, users)
    ms.complete("s1_appoint_ser")
    ms.complete("s1_policy", user=both)                  # round 1's policy by `both`
    ms.drive(until=until_ready("s1_ser_gate"))
    ms.complete("s1_ser_gate", {"decision": "rework", "comments": "Name the policy's owner.",
                                "reopen_tasks": ["s1_crmp"]})
    ms.drive(until=until_ready("s1_ser_gate"))           # round 2 by the others, on round 1's answers
    gate = ms.task("s1_ser_gate")
    data = fill_form(ms.schema_of(gate), ms.task_data(gate), {"decision": "approve"})
    with pytest.raises(Forbidden, match="four eyes"):
        services_complete(session, services, both, gate, data)
    ms.complete("s1_ser_gate", {"decision": "approve"})
    # `both` prepared nothing of stage 3: its gate is theirs to approve
    ms.drive(until=until_ready("s3_ser_gate"))
    ms.complete("s3_ser_gate", {"decision": "approve"}, user=both)
    assert management.readiness(session, ms.now).ready


def services_complete(session, svc, user, row, data):
    return services.complete_task(session, svc.workflows, user=user, human_task_id=row.id, data=data,
                                  now=START_TIME)


# (6) ----------------------------------------------------------------------------------------------
CANDIDATES = [*TWO_CANDIDATES,
              {"name": "Gamma SA", "country": "FR", "contact": "c@gamma", "nomination_rationale": "Cheapest"}]
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
def test_three_candidates_are_evaluated_and_one_is_selected(start, session, services, users):
    rel = start()
    rel.organisation = False                               # the organisation answers below, with its criteria
    rel.drive()
    assert rel.waits_for_organisation() and rel.ready_names() == []
    # the organisation's internal assessment (stage 3) sets the partner selection criteria; its approval releases
    # the relationship with them
    approve_organisation(session, services, users, rel.now,
                         {"s3_selection_criteria": {"selection_criteria": CRITERIA}})
    assert rel.ready_names() == ["s4_nominate_candidates"]
    assert rel.task_data("s4_nominate_candidates")["selection_criteria"] == CRITERIA
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
    rel.complete("s4_ser_gate", {"decision": "rework", "comments": "Re-check Beta's culture score.",
                                 "reopen_tasks": ["s4_nominate_candidates"]})  # agreed and evaluated again with it

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
