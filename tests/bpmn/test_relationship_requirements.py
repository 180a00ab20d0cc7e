"""The relationship-level requirements that requirements-v2 adds (S2.14, S4.09, S5.16, S5.17, S6.08, S7.10,
S7.11, X.01), on the real engine: the bundle in bpmn/ + forms/ deployed to a WorkflowEngine over the in-memory
store, processes started directly with the data they need (not through the lifecycle), forms filled the way a
person would (tests/support/driver.fill_form) and checked against their JSON Schemas."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

from tests.support.bundles import T0
from tests.support.driver import fill_form
from tools.requirements_map import collect
from workflows import EventNotExpected, InMemoryStore, WorkflowEngine, add_period, read_directory

ROOT = Path(__file__).resolve().parents[2]
BPMN_DIR, FORMS_DIR = ROOT / "bpmn", ROOT / "forms"

# Used only when bpmn/nonconformity.bpmn is not in the bundle yet (another change writes it): a process that
# takes the start data and waits, so that the start effect can be observed.
STUB_NONCONFORMITY = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Definitions_nc_stub"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="nonconformity" isExecutable="true">
    <bpmn:startEvent id="nc_start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:manualTask id="nc_open"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:manualTask>
    <bpmn:endEvent id="nc_end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="nc_start" targetRef="nc_open"/>
    <bpmn:sequenceFlow id="f2" sourceRef="nc_open" targetRef="nc_end"/>
  </bpmn:process>
</bpmn:definitions>
"""

MEASURES = [
    {"objective": "Win the bid", "measure": "Bid milestones met", "target": "100 %", "frequency": "monthly",
     "owner": "Jo"},
    {"objective": "Lower cost", "measure": "Cost per unit", "target": "< 40 EUR", "frequency": "quarterly",
     "owner": "Kim"},
    {"objective": "Happy customers", "measure": "Customer satisfaction", "target": "8 / 10",
     "frequency": "half_yearly", "owner": "Sam"},
]
RUNNING_START = {"relationship_name": "ACME joint bid", "gate_history": [], "reviews_scheduled": [],
                 "review_intervals": {"R.S5": "P6M", "R.S7": "P3M", "R.EX": "P12M", "R.RK": "P3M"}}
TRIGGER = {"reason": "Partner change of control", "source": "person", "raised_by": "Jo"}


# ------------------------------------------------------------------------------------------------ helpers
@pytest.fixture(scope="module")
def deployed():
    files, forms = read_directory(BPMN_DIR, FORMS_DIR)
    files.setdefault("nonconformity.bpmn", STUB_NONCONFORMITY)
    engine = WorkflowEngine(InMemoryStore())
    version_id, compiled = engine.deploy(files, forms)
    return engine, version_id, compiled


@pytest.fixture
def engine(deployed):
    return deployed[0]


@pytest.fixture
def start(deployed):
    engine, version_id, _ = deployed

    def starter(process_id, data, now=T0):
        return engine.start(version_id, process_id, copy.deepcopy(data), now=now)
    return starter


def schema_of(name):
    return json.loads((FORMS_DIR / name).read_text())


def valid(schema, data):
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER).is_valid(data)


def ready(engine, instance_id, bpmn_id=None):
    tasks = engine.ready_tasks(instance_id)
    return [t for t in tasks if bpmn_id is None or t.bpmn_id == bpmn_id]


def names(engine, instance_id):
    return sorted(t.bpmn_id for t in engine.ready_tasks(instance_id))


def complete(engine, instance_id, bpmn_id, answers=None, now=T0):
    """Fill the task's form as a person would (its current values kept) and complete it."""
    task = ready(engine, instance_id, bpmn_id)[0]
    schema = schema_of(task.form)
    data = engine.get_task(instance_id, task.id).data
    props = schema["properties"]
    current = {k: v for k, v in data.items() if k in props and ("enum" not in props[k] or v in props[k]["enum"])}
    submitted = fill_form(schema, current, answers)
    assert valid(schema, submitted)
    return engine.complete_task(instance_id, task.id, submitted, now=now)


def drive(engine, instance_id, until, answers=None, now=T0, max_steps=60):
    """Complete the first ready task until `until` is ready; returns the task ids completed in order."""
    done = []
    for _ in range(max_steps):
        tasks = engine.ready_tasks(instance_id)
        if any(t.bpmn_id == until for t in tasks):
            return done
        assert tasks, f"stopped before {until} was ready"
        complete(engine, instance_id, tasks[0].bpmn_id, (answers or {}).get(tasks[0].bpmn_id), now=now)
        done.append(tasks[0].bpmn_id)
    raise AssertionError(f"{until} never became ready")


def review(start, review_id, **extra):
    data = {"review_id": review_id, "title": review_id, "due_at": "2026-03-31T09:00:00+00:00", "interval": "P3M",
            "sequence": 1, "relationship_name": "ACME joint bid", "previous_overall": None}
    data.update(extra)
    return start("periodic_review", data)


def answer_health_survey(engine, instance_id):
    """Both organisations rate each other before the performance review (R.S7)."""
    complete(engine, instance_id, "pr_health_survey", now=DUE)
    return complete(engine, instance_id, "pr_health_survey_partner", now=DUE)


def linked_starts(result, process_id):
    return [r for r in result.linked if r.process_id == process_id]


DUE = T0 + timedelta(days=60, minutes=1)   # after every review's due date above


# ------------------------------------------------------------------------------------------ the catalogue
CARRIERS = {
    "S2.14": {"s2_risks"},
    "S4.09": {"s4_partner_commitment"},
    "S5.16": {"s5_record_gate", "pr_performance_measures"},
    "S5.17": {"pr_internal_audit"},
    "S6.08": {"s6_value_sharing"},
    "S7.10": {"s7_manage_activities", "pr_performance_review", "pr_governance_review"},
    "S7.11": {"s7_manage_activities", "pr_exit_strategy_review", "pr_change_review"},
    "X.01": {"exit_review", "exit_review_partner", "exit_deadlock"},
}


def test_each_new_relationship_requirement_is_carried_by_its_elements():
    carried = {}
    for rid, _file, element, _name in collect(BPMN_DIR):
        carried.setdefault(rid, set()).add(element)
    for rid, elements in CARRIERS.items():
        assert carried.get(rid) == elements, rid


@pytest.mark.parametrize("bpmn_id, lane, form, required", [
    ("s2_risks", "Staff", "s2_risks.schema.json", "opportunities"),
    ("s4_partner_commitment", "Staff", "s4_partner_commitment.schema.json", "objectives_drafting"),
    ("s6_value_sharing", "Joint management team", "s6_value_sharing.schema.json", "value_sharing_rule"),
    ("pr_performance_measures", "Joint management team", "pr_performance_measures.schema.json",
     "fed_back_to_sers_on"),
    ("pr_internal_audit", "Staff", "pr_internal_audit.schema.json", "relationship_health"),
    ("pr_performance_review", "Joint management team", "pr_performance_review.schema.json", "governance_adherence"),
    ("pr_exit_strategy_review", "Joint management team", "pr_exit_strategy_review.schema.json", "changes_evaluated"),
    ("exit_review", "SER", "exit_review.schema.json", "exit_decision"),
    ("exit_review_partner", "Partner SER", "exit_review_partner.schema.json", "partner_exit_decision"),
    ("exit_deadlock", "Joint management team", "exit_deadlock.schema.json", "deadlock_resolution"),
])
def test_each_task_has_its_lane_and_a_required_field_that_is_not_free_text(deployed, bpmn_id, lane, form, required):
    _, _, compiled = deployed
    (spec,) = [ts for s in compiled.specs.values() for ts in s.task_specs.values()
               if getattr(ts, "bpmn_id", None) == bpmn_id and ts.manual]
    assert spec.lane == lane
    assert spec.extensions["properties"]["formJsonSchemaFilename"] == form
    schema = schema_of(form)
    field = schema["properties"][required]
    assert required in schema["required"]
    assert "enum" in field or field.get("type") in ("array", "number", "integer", "boolean") \
        or field.get("format") == "date", f"{bpmn_id}.{required} is free text"


def test_opportunities_have_the_shared_row_shape():
    field = schema_of("s2_risks.schema.json")["properties"]["opportunities"]
    assert field["minItems"] == 1
    assert list(field["items"]["properties"]) == ["opportunity", "benefit_sought", "owner", "likelihood", "value",
                                                  "action", "review_date"]
    assert set(field["items"]["required"]) == set(field["items"]["properties"])
    for scale in ("likelihood", "value"):
        assert (field["items"]["properties"][scale]["minimum"], field["items"]["properties"][scale]["maximum"]) \
            == (1, 5)


# --------------------------------------------------------------------------------------------- S4.09
def test_the_partners_commitment_is_recorded_after_the_selection_and_ours_only_needs_a_reason(engine, start):
    started = start("stage4_partner_selection", {
        "gate_history": [], "relationship_name": "ACME joint bid",
        "selection_criteria": [{"criterion": "Culture", "category": "culture", "weight": 100,
                                "how_assessed": "Workshops"}]})
    done = drive(engine, started.instance_id, "s4_partner_commitment")
    assert done[-1] == "s4_select_partner", "the commitment of the partner just selected"

    schema = schema_of("s4_partner_commitment.schema.json")
    task = ready(engine, started.instance_id, "s4_partner_commitment")[0]
    answer = fill_form(schema, {})
    assert not valid(schema, {**answer, "partner_wants_collaboration": False}), "the partner must want it"
    unilateral = {k: v for k, v in answer.items() if k not in ("unilateral_justification", "partner_review_by")}
    assert valid(schema, unilateral), "jointly drafted: no reason needed"
    unilateral["agreement_drafting"] = "ours_only"
    assert not valid(schema, unilateral), "drafted by us alone needs a reason and a partner review date"
    assert not valid(schema, {**unilateral, "unilateral_justification": "", "partner_review_by": "2026-03-01"})
    assert valid(schema, {**unilateral, "unilateral_justification": "Partner had no legal team yet.",
                          "partner_review_by": "2026-03-01"})
    jointly = {k: v for k, v in answer.items() if k != "drafting_sessions"}
    assert not valid(schema, jointly), "jointly drafted: name the joint drafting sessions"

    engine.complete_task(started.instance_id, task.id, {
        **unilateral, "unilateral_justification": "Partner had no legal team yet.", "partner_review_by": "2026-03-01"})
    assert names(engine, started.instance_id) == ["s4_exit_triggers"]
    drive(engine, started.instance_id, "s4_ser_gate")
    gate = ready(engine, started.instance_id, "s4_ser_gate")[0]
    assert "unilateral_justification" in gate.instructions, "the SER sees a unilateral drafting at the gate"
    assert engine.get_task(started.instance_id, gate.id).data["agreement_drafting"] == "ours_only"


# --------------------------------------------------------------------------------------------- S6.08
def test_value_sharing_follows_the_value_register_and_needs_its_rule(engine, start):
    started = start("stage6_value_creation", {"gate_history": [], "relationship_name": "ACME joint bid"})
    done = drive(engine, started.instance_id, "s6_value_sharing")
    assert done[-1] == "s6_value_register"

    schema = schema_of("s6_value_sharing.schema.json")
    answer = fill_form(schema, {})
    assert valid(schema, answer)
    assert not valid(schema, {k: v for k, v in answer.items() if k != "value_sharing_rule"})
    assert not valid(schema, {**answer, "non_monetary_value": []}), "at least one non-monetary benefit"
    by_ratio = {k: v for k, v in answer.items() if k != "share_ratio_ours"}
    assert not valid(schema, {**by_ratio, "value_sharing_rule": "split_by_ratio"}), "a ratio needs our share"
    assert not valid(schema, {**answer, "share_ratio_ours": 120})
    assert valid(schema, {**by_ratio, "value_sharing_rule": "each_keeps_own"})
    complete(engine, started.instance_id, "s6_value_sharing")
    assert names(engine, started.instance_id) == ["s6_jrmp_update"]
    register = schema_of("s6_value_register.schema.json")["properties"]["value_register"]["items"]["properties"]
    assert {"owner", "kind", "target_date", "measure", "verified_by", "verified_on", "verification_evidence"} <= set(
        register)
    assert register["kind"]["enum"] == ["money", "time", "quality", "capability", "reputation", "other"]


# --------------------------------------------------------------------------------------------- S5.16
def test_stage5_starts_the_first_performance_measurement_with_its_measures(engine, start):
    started = start("stage5_working_together", RUNNING_START)
    drive(engine, started.instance_id, "s5_ser_gate", {"s5_measures_roles": {"performance_measures": MEASURES}})
    complete(engine, started.instance_id, "s5_ser_gate", {"decision": "approve"})
    approved = complete(engine, started.instance_id, "s5_partner_ser_gate", {"partner_decision": "approve"})

    firsts = {r.instance_id: engine.instance_data(r.instance_id) for r in linked_starts(approved, "periodic_review")}
    (measurement,) = [d for d in firsts.values() if d["review_id"] == "R.PM"]
    assert measurement["interval"] == "P3M", "the default cycle while review_intervals has no R.PM"
    assert measurement["due_at"] == add_period(T0, "P3M").isoformat()
    assert measurement["performance_measures"] == MEASURES and measurement["sequence"] == 1
    assert sorted(d["review_id"] for d in firsts.values()) == ["R.PM", "R.RK", "R.S5"]


def test_a_review_interval_for_r_pm_is_honoured(engine, start):
    data = copy.deepcopy(RUNNING_START)
    data["review_intervals"]["R.PM"] = "P1M"
    started = start("stage5_working_together", data)
    drive(engine, started.instance_id, "s5_ser_gate")
    complete(engine, started.instance_id, "s5_ser_gate", {"decision": "approve"})
    approved = complete(engine, started.instance_id, "s5_partner_ser_gate", {"partner_decision": "approve"})
    (measurement,) = [engine.instance_data(r.instance_id) for r in linked_starts(approved, "periodic_review")
                      if engine.instance_data(r.instance_id)["review_id"] == "R.PM"]
    assert measurement["interval"] == "P1M"


def test_performance_measurement_prefills_one_row_per_stage5_measure(engine, start):
    started = review(start, "R.PM", performance_measures=MEASURES)
    assert engine.ready_tasks(started.instance_id) == []
    fired = engine.fire_timers(started.instance_id, now=DUE)
    (task,) = fired.ready
    assert (task.bpmn_id, task.lane, task.requirements) == ("pr_performance_measures", "Joint management team",
                                                            ["S5.16"])
    assert task.due_at == DUE + timedelta(days=14)
    rows = engine.get_task(started.instance_id, task.id).data["measure_results"]
    assert [(r["objective"], r["measure"], r["target"], r["owner"]) for r in rows] == [
        (m["objective"], m["measure"], m["target"], m["owner"]) for m in MEASURES]
    assert {r["previous_actual"] for r in rows} == {""}, "the first measurement has nothing to compare with"

    schema = schema_of("pr_performance_measures.schema.json")
    answer = fill_form(schema, {"measure_results": rows})
    assert len(answer["measure_results"]) == 3 and valid(schema, answer)
    assert not valid(schema, {k: v for k, v in answer.items() if k != "fed_back_to_sers_on"})
    off_track = copy.deepcopy(answer)
    off_track["measure_results"][1].update(assessed_status="off_track", comment="")
    assert not valid(schema, off_track), "off track needs a comment"
    numeric = copy.deepcopy(answer)
    numeric["measure_results"][0].update(target_value=95)
    numeric["measure_results"][0].pop("actual_value", None)
    assert not valid(schema, numeric), "a numeric measure needs its actual as a number (its status is derived)"

    actuals = copy.deepcopy(answer)
    for row, actual in zip(actuals["measure_results"], ("90 %", "43 EUR", "7.5 / 10"), strict=True):
        row.update(actual=actual, status="at_risk", trend="first_measurement", comment="Behind plan")
    done = engine.complete_task(started.instance_id, task.id, actuals, now=DUE)
    assert done.status == "completed"
    (nxt,) = linked_starts(done, "periodic_review")
    following = engine.instance_data(nxt.instance_id)
    assert following["review_id"] == "R.PM" and following["sequence"] == 2
    assert following["due_at"] == "2026-06-30T09:00:00+00:00", "calendar-true: three months after the due date"
    assert following["performance_measures"] == MEASURES

    second = engine.fire_timers(nxt.instance_id, now=DUE + timedelta(days=92))
    (task2,) = second.ready
    rows2 = engine.get_task(nxt.instance_id, task2.id).data["measure_results"]
    assert [r["previous_actual"] for r in rows2] == ["90 %", "43 EUR", "7.5 / 10"]
    assert all(not r.get("actual") for r in rows2), "this period's actuals start empty"


# --------------------------------------------------------------------------------------------- S5.17
FINDINGS = [
    {"finding": "Joint risk register not reviewed for six months", "severity": "major", "requirement": "S5.09",
     "corrective_action": "Hold the review", "owner": "Jo", "due": "2026-04-15"},
    {"finding": "Minutes filed late", "severity": "observation", "corrective_action": "Remind", "owner": "Kim",
     "due": "2026-04-30"},
    {"finding": "Issue log misses two issues", "severity": "minor", "corrective_action": "Add them",
     "owner": "Sam", "due": "2026-04-20"},
]


def test_internal_audit_records_health_behaviours_and_independence(engine, start):
    schema = schema_of("pr_internal_audit.schema.json")
    assert {"relationship_health", "attitudes_and_behaviours", "auditor_independent", "auditor_area",
            "auditor_role"} <= set(schema["required"])
    assert schema["properties"]["relationship_health"]["enum"] == ["healthy", "strained", "at_risk"]
    answer = fill_form(schema, {})
    assert valid(schema, answer)
    assert not valid(schema, {**answer, "auditor_independent": False}), "the auditor must be independent"
    assert not valid(schema, {**answer, "attitudes_and_behaviours": []})
    started = review(start, "R.S5", audit_programme=[])
    (task,) = engine.fire_timers(started.instance_id, now=DUE).ready
    assert task.bpmn_id == "pr_internal_audit" and task.requirements == ["S5.13", "S5.17"]


def test_a_major_or_minor_audit_finding_starts_a_nonconformity_each(engine, start):
    started = review(start, "R.S5", audit_programme=[])
    engine.fire_timers(started.instance_id, now=DUE)
    done = complete(engine, started.instance_id, "pr_internal_audit",
                    {"audit_date": "2026-04-01", "auditor": "Ali", "auditor_role": "Quality auditor",
                     "auditor_area": "Group quality", "audit_findings": FINDINGS}, now=DUE)
    assert done.status == "completed"
    assert len(linked_starts(done, "periodic_review")) == 1, "the next audit is scheduled as before"
    starts = linked_starts(done, "nonconformity")
    assert len(starts) == 2, "one per major or minor finding, none for the observation"
    assert {s.instance_id for s in starts} <= set(engine.store.linked_instances(started.instance_id)), \
        "a standalone review links them to itself (in a relationship they hang off the relationship)"
    opened = [engine.instance_data(s.instance_id) for s in starts]
    major, minor = opened
    assert (major["source"], major["severity"], major["requirement"]) == ("internal_audit", "major", "S5.09")
    assert (minor["severity"], minor["requirement"]) == ("minor", "S5.13"), "the audit requirement by default"
    assert "Joint risk register not reviewed" in major["title"] and "Hold the review" in major["description"]
    assert "Group quality" in major["description"], "the auditor's independence is on the record"


def test_an_audit_with_only_observations_starts_no_nonconformity(engine, start):
    started = review(start, "R.S5", audit_programme=[])
    engine.fire_timers(started.instance_id, now=DUE)
    done = complete(engine, started.instance_id, "pr_internal_audit", {"audit_findings": FINDINGS[1:2]}, now=DUE)
    assert linked_starts(done, "nonconformity") == []


def test_ser_corrective_actions_marked_as_nonconformities_start_one_each(engine, start):
    ratings = {k: {"rating": "green", "evidence": "on plan"} for k in
               ("outputs", "risk", "alignment", "behaviours", "trust")}
    started = review(start, "R.S7", performance_measures=MEASURES,
                     governance_adherence=[{"principle_or_rule": "No surprises"}])
    engine.fire_timers(started.instance_id, now=DUE)
    answer_health_survey(engine, started.instance_id)
    complete(engine, started.instance_id, "pr_performance_review",
             {"performance_ratings": ratings, "overall_rating": "green"}, now=DUE)
    done = complete(engine, started.instance_id, "pr_ser_performance_feedback", {
        "overall_rating": "amber", "ser_feedback": "Tighten the reporting.",
        "corrective_actions": [
            {"action": "Report the KPIs monthly as agreed", "owner": "Jo", "deadline": "2026-05-01",
             "is_nonconformity": True, "severity": "major", "requirement": "S5.16"},
            {"action": "Invite finance to the JMT", "owner": "Kim", "deadline": "2026-05-01",
             "is_nonconformity": False}]}, now=DUE)
    done = complete(engine, started.instance_id, "pr_ser_performance_feedback_partner", now=DUE)
    (nc,) = linked_starts(done, "nonconformity")
    opened = engine.instance_data(nc.instance_id)
    assert (opened["source"], opened["severity"], opened["requirement"]) == ("ser_review", "major", "S5.16")
    assert "Report the KPIs monthly" in opened["title"]


# --------------------------------------------------------------------------------------- S7.10 / S7.11
def test_governance_adherence_is_assessed_on_every_performance_review(engine, start):
    schema = schema_of("pr_performance_review.schema.json")
    rows = [{"principle_or_rule": "No surprises"}, {"principle_or_rule": "Joint problem solving"}]
    started = review(start, "R.S7", performance_measures=MEASURES, governance_adherence=rows)
    engine.fire_timers(started.instance_id, now=DUE)
    (task,) = answer_health_survey(engine, started.instance_id).ready
    assert "S7.10" in task.requirements
    prefilled = engine.get_task(started.instance_id, task.id).data["governance_adherence"]
    assert [r["principle_or_rule"] for r in prefilled] == ["No surprises", "Joint problem solving"]
    answer = fill_form(schema, {"governance_adherence": prefilled})
    not_adhered = copy.deepcopy(answer)
    not_adhered["governance_adherence"][0] = {"principle_or_rule": "No surprises", "adhered": "no"}
    assert not valid(schema, not_adhered), "a principle not adhered to needs its barrier and action"
    assert not valid(schema, {**answer, "governance_adherence": []})

    not_adhered["governance_adherence"][0].update(barrier="Late data", action="Share the plan weekly",
                                                  action_owner="Jo", action_due="2026-05-01")
    complete(engine, started.instance_id, "pr_performance_review", not_adhered, now=DUE)
    complete(engine, started.instance_id, "pr_ser_performance_feedback", {"corrective_actions": []}, now=DUE)
    done = complete(engine, started.instance_id, "pr_ser_performance_feedback_partner", now=DUE)
    (nxt,) = linked_starts(done, "periodic_review")
    assert engine.instance_data(nxt.instance_id)["governance_adherence"] == rows, \
        "the next review assesses the same principles afresh"


def test_exit_strategy_review_evaluates_changes_and_a_change_can_invoke_a_trigger(engine, start):
    schema = schema_of("pr_exit_strategy_review.schema.json")
    assert schema["properties"]["changes_evaluated"]["items"]["properties"]["area"]["enum"] == [
        "our_organisation", "partner_organisation", "business_environment", "performance", "market"]
    started = review(start, "R.EX", exit_strategy="Hand back the service.", exit_triggers=[])
    (task,) = engine.fire_timers(started.instance_id, now=DUE).ready
    assert task.requirements == ["S7.08", "S7.11"]
    assert not valid(schema, {**fill_form(schema, {}), "changes_evaluated": []})
    done = complete(engine, started.instance_id, "pr_exit_strategy_review", {"changes_evaluated": [
        {"area": "market", "change": "A new competitor", "effect_on_relationship": "Price pressure",
         "effect_on_exit_strategy": "review"},
        {"area": "partner_organisation", "change": "Partner bought by our competitor",
         "effect_on_relationship": "Conflict of interest", "effect_on_exit_strategy": "invoke_trigger"}]}, now=DUE)
    (raised,) = [e for e in done.events if e.action == "signal.unanswered"]   # no relationship around it here
    assert raised.payload["name"] == "exit_trigger"
    assert raised.payload["payload"]["source"] == "exit_strategy_review"
    assert "Partner bought by our competitor" in raised.payload["payload"]["reason"]
    assert raised.payload["payload"]["source"] in \
        schema_of("exit_review.schema.json")["properties"]["exit_info"]["properties"]["source"]["enum"]


# --------------------------------------------------------------------------------------------- X.01
@pytest.fixture
def trigger_raised(engine, start):
    """relationship_running (stage 5 under way) with an exit trigger raised: both SERs' decisions are open."""
    started = start("relationship_running", RUNNING_START)
    assert names(engine, started.instance_id) == ["s5_identify_sers"]
    raised = engine.send_signal(started.instance_id, "exit_trigger", TRIGGER, now=T0)
    assert sorted(t.bpmn_id for t in raised.became_ready) == ["exit_review", "exit_review_partner"]
    return started.instance_id


def decide(engine, instance_id, ours, partners):
    complete(engine, instance_id, "exit_review", {"exit_decision": ours, "exit_rationale": f"We {ours}."})
    return complete(engine, instance_id, "exit_review_partner",
                    {"partner_exit_decision": partners, "partner_exit_rationale": f"They {partners}."})


def test_each_ser_decides_in_their_own_lane_and_nobody_records_the_other_side(engine, trigger_raised):
    ours, = ready(engine, trigger_raised, "exit_review")
    theirs, = ready(engine, trigger_raised, "exit_review_partner")
    assert (ours.lane, theirs.lane) == ("SER", "Partner SER")
    for task in (ours, theirs):
        assert task.requirements == ["X.01"]
        assert task.properties["approvalGate"] == "true" and task.properties["notify"] == "exit_trigger"
        assert engine.get_task(trigger_raised, task.id).data["exit_info"]["reason"] == TRIGGER["reason"]
    our_form, their_form = schema_of(ours.form), schema_of(theirs.form)
    assert set(our_form["properties"]) == {"exit_info", "exit_decision", "exit_rationale", "exit_decided_on"}
    assert set(their_form["properties"]) == {"exit_info", "partner_exit_decision", "partner_exit_rationale",
                                             "partner_exit_decided_on"}
    for form in (our_form, their_form):
        assert not any("position" in name for name in form["properties"])
        decision = next(k for k in form["properties"] if k.endswith("exit_decision"))
        assert form["properties"][decision]["enum"] == ["dismiss", "invoke_exit"]
        assert {decision, decision.replace("decision", "rationale"), decision.replace("decision", "decided_on")} \
            <= set(form["required"])

    complete(engine, trigger_raised, "exit_review", {"exit_decision": "invoke_exit", "exit_rationale": "x"})
    assert names(engine, trigger_raised) == ["exit_review_partner", "s5_identify_sers"], \
        "one SER alone decides nothing"


def test_both_invoke_exit(engine, trigger_raised):
    decided = decide(engine, trigger_raised, "invoke_exit", "invoke_exit")
    assert names(engine, trigger_raised) == ["s5_identify_sers"], \
        "(in the lifecycle the thrown exit_invoked cancels the stage; here nothing catches it)"
    invocation = engine.instance_data(trigger_raised)["exit_invocation"]
    assert invocation["decided_by"] == "both_sers" and invocation["rationale"] == "We invoke_exit."
    assert invocation["ser_decision"]["decision"] == invocation["partner_ser_decision"]["decision"] == "invoke_exit"
    assert invocation["partner_ser_decision"]["rationale"] == "They invoke_exit."
    assert invocation["trigger"]["reason"] == TRIGGER["reason"] and invocation["deadlock"] is None
    assert decided.status == "running"
    with pytest.raises(EventNotExpected):
        engine.send_signal(trigger_raised, "exit_trigger", TRIGGER, now=T0)


def test_both_dismiss_and_the_watch_goes_on(engine, trigger_raised):
    decide(engine, trigger_raised, "dismiss", "dismiss")
    assert names(engine, trigger_raised) == ["s5_identify_sers"]
    again = engine.send_signal(trigger_raised, "exit_trigger", {**TRIGGER, "reason": "Second rumour"}, now=T0)
    assert sorted(t.bpmn_id for t in again.became_ready) == ["exit_review", "exit_review_partner"]
    for bpmn_id in ("exit_review", "exit_review_partner"):
        data = engine.get_task(trigger_raised, ready(engine, trigger_raised, bpmn_id)[0].id).data
        assert data["exit_info"]["reason"] == "Second rumour"
        assert not {"exit_decision", "partner_exit_decision", "deadlock_resolution"} & set(data), "opens blank"
        (entry,) = data["exit_trigger_log"]
    assert (entry["decision"], entry["decided_by"], entry["deadlock"]) == ("dismiss", "both_sers", None)
    assert (entry["ser_decision"]["rationale"], entry["partner_ser_decision"]["rationale"]) == \
        ("We dismiss.", "They dismiss.")


@pytest.mark.parametrize("ours, partners", [("invoke_exit", "dismiss"), ("dismiss", "invoke_exit")])
def test_a_disagreement_is_a_recorded_deadlock(engine, trigger_raised, ours, partners):
    decide(engine, trigger_raised, ours, partners)
    (deadlock,) = ready(engine, trigger_raised, "exit_deadlock")
    assert (deadlock.lane, deadlock.requirements) == ("Joint management team", ["X.01"])
    data = engine.get_task(trigger_raised, deadlock.id).data
    assert (data["exit_decision"], data["partner_exit_decision"]) == (ours, partners)
    assert "exit_invocation" not in data, "no exit while the SERs disagree"
    with pytest.raises(EventNotExpected):
        engine.send_signal(trigger_raised, "exit_trigger", TRIGGER, now=T0)


MEDIATION = {"mediator": "CEDR", "mediation_concluded_on": "2026-03-01"}


@pytest.mark.parametrize("resolution, exits", [
    ({"deadlock_resolution": "continue"}, False),
    ({"deadlock_resolution": "invoke_exit"}, True),
    ({"deadlock_resolution": "external_mediation", "mediation_outcome": "continue", **MEDIATION}, False),
    ({"deadlock_resolution": "external_mediation", "mediation_outcome": "invoke_exit", **MEDIATION}, True),
])
def test_the_deadlock_resolution_leads_to_exit_or_dismissal(engine, trigger_raised, resolution, exits):
    decide(engine, trigger_raised, "invoke_exit", "dismiss")
    complete(engine, trigger_raised, "exit_deadlock", {
        **resolution, "exit_strategy_provision": "Clause 14.2: a deadlock goes to the JMT chairs",
        "deadlock_rationale": "As the exit strategy provides."})
    assert names(engine, trigger_raised) == ["s5_identify_sers"]
    data = engine.instance_data(trigger_raised)
    if exits:
        invocation = data["exit_invocation"]
        assert invocation["decided_by"] == "exit_strategy_deadlock_resolution"
        assert invocation["rationale"] == "As the exit strategy provides."
        assert invocation["deadlock"]["resolution"] == resolution["deadlock_resolution"]
        with pytest.raises(EventNotExpected):
            engine.send_signal(trigger_raised, "exit_trigger", TRIGGER, now=T0)
    else:
        assert "exit_invocation" not in data
        again = engine.send_signal(trigger_raised, "exit_trigger", TRIGGER, now=T0)
        review_data = engine.get_task(trigger_raised, ready(engine, trigger_raised, "exit_review")[0].id).data
        (entry,) = review_data["exit_trigger_log"]
        assert entry["decided_by"] == "exit_strategy_deadlock_resolution"
        assert entry["deadlock"]["resolution"] == resolution["deadlock_resolution"]
        assert sorted(t.bpmn_id for t in again.became_ready) == ["exit_review", "exit_review_partner"]


def test_external_mediation_needs_the_mediator_and_its_outcome():
    schema = schema_of("exit_deadlock.schema.json")
    base = {"deadlock_resolution": "external_mediation", "exit_strategy_provision": "Clause 14.2",
            "deadlock_rationale": "Refer it.", "deadlock_resolved_on": "2026-03-01"}
    assert not valid(schema, base)
    assert valid(schema, {**base, "mediator": "CEDR", "mediation_outcome": "continue",
                          "mediation_concluded_on": "2026-04-01"})
    assert valid(schema, {**base, "deadlock_resolution": "continue"})
    assert schema["properties"]["deadlock_resolution"]["enum"] == ["continue", "invoke_exit", "external_mediation"]
