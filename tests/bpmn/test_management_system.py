"""The organisation's management system (process management_system: stage 1 set-up, stage 3 internal assessment
renewed on its cycle) on the real engine: every file of bpmn/ and forms/, the script sandbox, the in-memory store.

Every submission is what a person would send: the form's current values as the task page pre-fills them, the rest
sampled, the scenario's answers on top, and the result checked against the task's JSON Schema (formats included)
the way the application checks a submission."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from app.inbox.binding import declared
from app.processes.forms import field_errors
from tests.support import diagrams
from tests.support.driver import fill_form, sample
from workflows import InMemoryStore, WorkflowEngine, add_period, read_directory

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STEP = timedelta(hours=2)
MINUTE = timedelta(minutes=1)
ORGANISATION_PROCESSES = ("internal_audit", "organisation_review")

# A stand-in for an organisation process whose diagram is not in bpmn/ (yet): it takes its start data and ends.
STUB = """<?xml version='1.0' encoding='UTF-8'?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Definitions_{pid}"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{pid}" isExecutable="true">
    <bpmn:startEvent id="{pid}_start"><bpmn:outgoing>{pid}_flow</bpmn:outgoing></bpmn:startEvent>
    <bpmn:endEvent id="{pid}_end"><bpmn:incoming>{pid}_flow</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="{pid}_flow" sourceRef="{pid}_start" targetRef="{pid}_end"/>
  </bpmn:process>
</bpmn:definitions>
"""

MATURITY_CRITERIA = ["leadership", "strategy_and_policy", "processes", "skills_and_competence",
                     "culture_and_behaviours", "knowledge_sharing", "risk_and_value", "partner_management"]


@pytest.fixture(scope="module")
def deployed():
    files, forms = read_directory(diagrams.BPMN_DIR, diagrams.FORMS_DIR)
    stubbed = [pid for pid in ORGANISATION_PROCESSES if f"{pid}.bpmn" not in files]
    for pid in stubbed:  # (the real diagrams are written beside this one; until then the starts go to a stub)
        files[f"{pid}.bpmn"] = STUB.format(pid=pid).encode()
    engine = WorkflowEngine(InMemoryStore(), script_time_limit=2.0)
    version_id, compiled = engine.deploy(files, forms)
    assert "management_system" in compiled.process_ids
    return engine, version_id, stubbed


def form_file(name):
    return json.loads((diagrams.FORMS_DIR / name).read_text())


def row_of(form, field, **values):
    """One complete, valid row of the array field `field` of `form`, with `values` on top."""
    items = form_file(f"{form}.schema.json")["properties"][field]["items"]
    return {**sample(items, field), **values}


class Organisation:
    """One management_system instance, driven task by task with a clock that moves forward."""

    def __init__(self, engine, version_id, now=T0):
        self.engine, self.now = engine, now
        started = engine.start(version_id, "management_system", {"title": "Our organisation"}, now=now)
        self.id = started.instance_id
        self.results = [started]

    def ready(self):
        return self.engine.ready_tasks(self.id)

    def ready_ids(self):
        return sorted(t.bpmn_id for t in self.ready())

    def task(self, bpmn_id):
        found = [t for t in self.ready() if t.bpmn_id == bpmn_id]
        assert found, f"{bpmn_id} is not ready; ready: {self.ready_ids()}"
        return found[0]

    def data(self, bpmn_id):
        return self.engine.get_task(self.id, self.task(bpmn_id).id).data

    def submit(self, bpmn_id, answers=None):
        """Complete `bpmn_id` as a person would, after checking the data as the application does."""
        task = self.task(bpmn_id)
        schema = form_file(task.form)
        data = fill_form(schema, declared(schema, self.engine.get_task(self.id, task.id).data), answers)
        assert field_errors(schema, data) == {}, bpmn_id
        self.now += STEP
        result = self.engine.complete_task(self.id, task.id, data, now=self.now)
        self.results.append(result)
        return result

    def submit_all(self, answers):
        """Complete the ready tasks in a stable order until none of `answers`' tasks is ready."""
        while True:
            ready = [t.bpmn_id for t in self.ready() if t.bpmn_id in answers]
            if not ready:
                return
            self.submit(sorted(ready)[0], answers[sorted(ready)[0]])

    def linked(self, process_id):
        return self.engine.store.linked_instances(self.id, process_id, status=None)

    def timer(self, bpmn_id):
        (due,) = [t.due_at for t in self.engine.store.get_instance(self.id).timers if t.bpmn_id == bpmn_id]
        return due


def started(result, process_id):
    return [r for r in result.linked if r.process_id == process_id]


# ---------------------------------------------------------------------------------------------- answers
WEIGHTS = {"value": 40, "risk": 20, "complexity": 10, "strategic_fit": 30}
PORTFOLIO = [("Acme", 5, 2, 3, 4), ("Bolt", 3, 4, 2, 2), ("Cobalt", 4, 1, 5, 5)]  # name, value, risk, complexity, fit
AUDITS = [{"area": "leadership_and_policy", "scope": "Top management and the SER", "criteria": "ISO 44001 clause 5",
           "interval": "P6M", "auditor": "A. Auditor"},
          {"area": "relationship_lifecycle", "scope": "Stages 2 to 8 of every relationship",
           "criteria": "ISO 44001 clause 8 and the lifecycle procedure", "interval": "P12M"}]


def stage1_answers():
    return {
        "s1_appoint_ser": {"ser_name": "S. Ser", "appointed_by": "C. Executive, Chief Executive",
                           "appointed_by_body": "board", "ser_appointed_on": "2026-03-02"},
        "s1_policy": {"policy_version": "1.0", "policy_next_review": "2027-03-01"},
        "s1_context": {},
        "s1_policy_review": {},
        "s1_relationships": {"criteria_weights": WEIGHTS, "relationships": [
            row_of("s1_relationships", "relationships", name=name, value=value, risk=risk, complexity=complexity,
                   strategic_fit=fit, collaboration_fits=name != "Bolt",
                   implementation_steps=[] if name == "Bolt" else [
                       {"step": f"Meet {name}", "owner": "R. Manager", "due": "2026-06-30"}])
            for name, value, risk, complexity, fit in PORTFOLIO]},
        "s1_management_system": {"relationship_types": ["customer", "supplier"]},
        "s1_objectives_value": {},
        "s1_initial_risks": {},
        "s1_resources": {"approved_by": "C. Executive", "approved_on": "2026-03-05"},
        "s1_competencies": {},
        "s1_awareness_comms": {},
        "s1_documents": {},
        "s1_audit_programme": {"audits": [  # the second audit has no auditor named yet
            {k: v for k, v in row_of("s1_audit_programme", "audits", **a).items() if k in a or k != "auditor"}
            for a in AUDITS]},
        "s1_crmp": {},
    }


def maturity(levels):
    """maturity_assessment rows in criterion order from {criterion: (level, target_level)}."""
    return [{"criterion": c, "level": levels[c][0], "target_level": levels[c][1], "evidence": f"Evidence for {c}"}
            for c in MATURITY_CRITERIA]


FIRST_LEVELS = {"leadership": (3, 4), "strategy_and_policy": (4, 4), "processes": (2, 3),
                "skills_and_competence": (3, 3), "culture_and_behaviours": (4, 5), "knowledge_sharing": (3, 3),
                "risk_and_value": (2, 2), "partner_management": (4, 4)}  # mean 25 / 8 = 3.125
RENEWED_LEVELS = {**FIRST_LEVELS, "leadership": (4, 4), "culture_and_behaviours": (5, 5),
                  "knowledge_sharing": (3, 4)}  # mean 27 / 8 = 3.375


def stage3_answers(levels):
    return {"s3_internal_assessment": {}, "s3_collaborative_profile": {"maturity_assessment": maturity(levels)},
            "s3_appoint_leadership": {}, "s3_selection_criteria": {}, "s3_skills_gaps": {}, "s3_action_plan": {},
            "s3_rmp_update": {}}


# ---------------------------------------------------------------------------------------------- tests
def test_the_set_up_runs_top_management_and_parallel_work_before_the_ser_gate(deployed):
    engine, version_id, _ = deployed
    org = Organisation(engine, version_id)
    appoint = org.task("s1_appoint_ser")
    assert org.ready_ids() == ["s1_appoint_ser"]
    assert (appoint.lane, appoint.requirements, appoint.process_id) == (
        "Top management", ["S1.01", "M5.1"], "stage1_awareness")
    first = org.data("s1_appoint_ser")
    assert first["current_stage"] == 1 and first["relationship_name"] == "Our organisation"
    assert first["review_intervals"] == {"R.S3": "P6M", "R.MR": "P12M", "R.IA": "P6M", "R.CX": "P12M"}
    assert first["assessment_cycle"] == "P12M" and first["gate_history"] == []

    answers = stage1_answers()
    org.submit("s1_appoint_ser", answers["s1_appoint_ser"])
    org.submit("s1_policy", answers["s1_policy"])
    assert org.ready_ids() == ["s1_context", "s1_policy_review", "s1_relationships"]  # in parallel
    assert org.task("s1_context").requirements == ["M4.1", "M4.2"]
    for name in ("s1_context", "s1_policy_review", "s1_relationships"):
        org.submit(name, answers[name])
    assert org.ready_ids() == ["s1_management_system"]
    assert org.task("s1_management_system").requirements == ["S1.09", "M4.3"]
    org.submit("s1_management_system", answers["s1_management_system"])
    assert org.ready_ids() == ["s1_initial_risks", "s1_objectives_value"]
    assert org.task("s1_initial_risks").requirements == ["S1.08", "M6.1"]
    assert org.task("s1_objectives_value").requirements == ["S1.03", "S1.04", "M6.2"]
    org.submit("s1_initial_risks")
    org.submit("s1_objectives_value")
    resources = org.task("s1_resources")
    assert (resources.lane, resources.requirements) == ("Top management", ["M7.1", "M5.1"])
    org.submit("s1_resources", answers["s1_resources"])
    assert org.ready_ids() == ["s1_audit_programme", "s1_awareness_comms", "s1_competencies", "s1_documents"]
    assert {t.bpmn_id: t.requirements for t in org.ready()} == {
        "s1_competencies": ["S1.07", "M7.2"], "s1_awareness_comms": ["M7.3", "M7.4"], "s1_documents": ["M7.5"],
        "s1_audit_programme": ["M9.2"]}
    assert {t.lane for t in org.ready()} == {"Staff"}
    org.submit_all({k: answers[k] for k in ("s1_competencies", "s1_awareness_comms", "s1_documents",
                                            "s1_audit_programme", "s1_crmp")})
    gate = org.task("s1_ser_gate")
    assert (gate.lane, gate.properties["approvalGate"]) == ("SER", "true")

    # the portfolio: weighted scores, risk and complexity counted inversely, highest first
    data = org.data("s1_ser_gate")
    assert [(p["name"], p["portfolio_score"], p["rank"]) for p in data["portfolio"]] == [
        ("Acme", 4.3, 1), ("Cobalt", 4.2, 2), ("Bolt", 2.6, 3)]
    assert [(r["name"], r["portfolio_score"]) for r in data["relationships"]] == [  # in the order entered
        ("Acme", 4.3), ("Bolt", 2.6), ("Cobalt", 4.2)]
    assert data["portfolio"][0]["implementation_steps"] == [
        {"step": "Meet Acme", "owner": "R. Manager", "due": "2026-06-30"}]
    assert data["appointed_by"] == "C. Executive, Chief Executive"
    assert {k: data[k] for k in ("approved_by", "approved_on")} == {"approved_by": "C. Executive",
                                                                     "approved_on": "2026-03-05"}


def walk_stage1(org, rework=False):
    answers = stage1_answers()
    org.submit_all(answers)
    if rework:
        sent_back = org.submit("s1_ser_gate", {"decision": "rework", "comments": "Drop Bolt, add the regulator",
                                               "reopen_tasks": ["s1_context", "s1_relationships"]})
        assert started(sent_back, "internal_audit") == [] and org.linked("internal_audit") == []
        # stage 1 runs again, with the answers already given: only the two tasks ticked reopen
        assert org.ready_ids() == ["s1_context", "s1_relationships"]
        reopened = org.data("s1_relationships")
        assert reopened["appointed_by"] == "C. Executive, Chief Executive"
        assert (reopened["decision"], reopened["comments"]) == ("rework", "Drop Bolt, add the regulator")
        # the second round's parallel block waits for every branch, and every branch's new answers survive the
        # join whatever order the branches finish in
        kept = [r for r in answers["s1_relationships"]["relationships"] if r["name"] != "Bolt"]
        org.submit("s1_relationships", {"relationships": kept})
        assert org.ready_ids() == ["s1_context"]
        org.submit("s1_context", {"interested_parties": [
            row_of("s1_context", "interested_parties", party="The sector regulator", kind="regulator")]})
        assert org.ready_ids() == ["s1_ser_gate"], "the tasks not ticked are carried forward with their answers"
        joined = org.data("s1_ser_gate")
        assert [r["name"] for r in joined["relationships"]] == ["Acme", "Cobalt"]
        assert [(p["name"], p["rank"]) for p in joined["portfolio"]] == [("Acme", 1), ("Cobalt", 2)]
        assert [p["party"] for p in joined["interested_parties"]] == ["The sector regulator"]
    return org.submit("s1_ser_gate", {"decision": "approve"})


def test_the_approved_set_up_starts_one_internal_audit_chain_per_planned_audit(deployed):
    engine, version_id, stubbed = deployed
    org = Organisation(engine, version_id)
    approved = walk_stage1(org, rework=True)
    approved_at = org.now
    audits = started(approved, "internal_audit")
    assert len(audits) == 2 and sorted(org.linked("internal_audit")) == sorted(a.instance_id for a in audits)
    for audit, planned in zip(audits, AUDITS, strict=True):
        data = engine.instance_data(audit.instance_id)
        assert {k: data[k] for k in ("area", "scope", "criteria", "interval")} == {
            k: planned[k] for k in ("area", "scope", "criteria", "interval")}
        assert data["auditor"] == planned.get("auditor")
        assert data["sequence"] == 1
        assert datetime.fromisoformat(data["due_at"]) == add_period(approved_at, planned["interval"])
        if "internal_audit" not in stubbed:
            assert [t.due_at for t in audit.timers] == [add_period(approved_at, planned["interval"])]
    titles = [engine.instance_data(a.instance_id)["title"] for a in audits]
    assert titles == ["Internal audit: Leadership and policy", "Internal audit: The relationship lifecycle"]
    # stage 1 ends; the organisation's first internal assessment begins
    assert org.ready_ids() == ["s3_internal_assessment"]
    data = org.data("s3_internal_assessment")
    assert data["current_stage"] == 3 and data["audits_started"] == [
        "leadership_and_policy: Top management and the SER",
        "relationship_lifecycle: Stages 2 to 8 of every relationship"]
    assert [g["decision"] for g in data["gate_history"]] == ["rework", "approve"]


def test_the_internal_assessment_scores_maturity_feeds_the_gaps_to_the_action_plan_and_is_renewed(deployed):
    engine, version_id, stubbed = deployed
    org = Organisation(engine, version_id)
    walk_stage1(org)

    # one row per criterion, pre-filled, so people score rather than type the criteria
    org.submit("s3_internal_assessment")
    profile = org.task("s3_collaborative_profile")
    assert profile.requirements == ["S3.02"]
    assert org.data("s3_collaborative_profile")["maturity_assessment"] == [{"criterion": c} for c in MATURITY_CRITERIA]
    org.submit("s3_collaborative_profile", stage3_answers(FIRST_LEVELS)["s3_collaborative_profile"])
    data = org.data("s3_appoint_leadership")
    assert data["maturity_score"] == 3.1  # 25 / 8 = 3.125, one decimal
    assert [g["criterion"] for g in data["maturity_gaps"]] == ["leadership", "processes", "culture_and_behaviours"]

    org.submit_all({k: v for k, v in stage3_answers(FIRST_LEVELS).items() if k != "s3_action_plan"})
    plan = org.data("s3_action_plan")["internal_action_plan"]
    assert [(a["maturity_criterion"], a["status"]) for a in plan] == [
        ("leadership", "open"), ("processes", "open"), ("culture_and_behaviours", "open")]
    assert plan[0]["action"] == "Raise the maturity of leadership from level 3 to level 4"
    assert "owner" not in plan[0] and "deadline" not in plan[0]  # left for people to fill in
    org.submit("s3_action_plan")
    org.submit("s3_rmp_update")

    approved = org.submit("s3_ser_gate", {"decision": "approve"})
    approved_at = org.now
    (review,) = started(approved, "periodic_review")
    review_data = engine.instance_data(review.instance_id)
    assert (review_data["review_id"], review_data["interval"], review_data["relationship_name"]) == (
        "R.S3", "P6M", "Our organisation")
    assert [t.due_at for t in review.timers] == [add_period(approved_at, "P6M")]
    organisation_reviews = started(approved, "organisation_review")
    assert len(organisation_reviews) == 2
    starts = [engine.instance_data(r.instance_id) for r in organisation_reviews]
    assert [(s["review_id"], s["interval"], s["sequence"]) for s in starts] == [("R.MR", "P12M", 1),
                                                                              ("R.CX", "P12M", 1)]
    for start, review_result in zip(starts, organisation_reviews, strict=True):
        assert datetime.fromisoformat(start["due_at"]) == add_period(approved_at, "P12M")
        assert start["title"]
        if "organisation_review" not in stubbed:
            assert [t.due_at for t in review_result.timers] == [add_period(approved_at, "P12M")]

    # the assessment is current for one cycle: the reassessment is due assessment_cycle after the approval
    due = org.timer("ms_reassessment_due")
    assert due == add_period(approved_at, "P12M")
    assert org.ready() == []
    early = engine.fire_timers(org.id, now=due - MINUTE)
    assert early.ready == [] and org.timer("ms_reassessment_due") == due

    org.now = due + MINUTE
    renewal = engine.fire_timers(org.id, now=org.now)
    assert [t.bpmn_id for t in renewal.ready] == ["s3_internal_assessment"]
    assert renewal.ready[0].process_id == "stage3_internal_assessment"
    data = org.data("s3_internal_assessment")
    assert data["current_stage"] == 3 and "decision" not in data
    assert data["internal_assessment_approved_at"] == approved_at.isoformat()
    assert data["maturity_history"][0]["maturity_score"] == 3.1

    # the renewal starts from the last assessment: its levels are pre-filled, its open actions kept
    org.submit("s3_internal_assessment")
    prefilled = org.data("s3_collaborative_profile")["maturity_assessment"]
    assert [(r["criterion"], r["level"], r["target_level"]) for r in prefilled] == [
        (c, *FIRST_LEVELS[c]) for c in MATURITY_CRITERIA]
    org.submit_all({k: v for k, v in stage3_answers(RENEWED_LEVELS).items() if k != "s3_action_plan"})
    plan = org.data("s3_action_plan")["internal_action_plan"]
    assert [a["maturity_criterion"] for a in plan] == [
        "leadership", "processes", "culture_and_behaviours", "knowledge_sharing"]  # processes not duplicated
    org.submit_all({"s3_action_plan": {}, "s3_rmp_update": {}})
    renewed = org.submit("s3_ser_gate", {"decision": "approve"})
    renewed_at = org.now

    # a renewal starts no second review chain; it moves the next reassessment one cycle on
    assert renewed.linked == []
    assert len(org.linked("periodic_review")) == 1 and len(org.linked("organisation_review")) == 2
    assert len(org.linked("internal_audit")) == 2
    assert org.timer("ms_reassessment_due") == add_period(renewed_at, "P12M")
    data = org.data("s3_internal_assessment") if org.ready() else engine.instance_data(org.id)
    assert [h["maturity_score"] for h in data["maturity_history"]] == [3.1, 3.4]
    assert [g["decision"] for g in data["gate_history"]] == ["approve", "approve", "approve"]
    assert data["reviews_scheduled"] == ["R.S3", "R.MR", "R.CX"]
    assert engine.store.get_instance(org.id).status == "running"  # the management system runs on


def test_the_defaults_are_the_catalogues_organisation_review_cycles():
    """The set-up (ms_stage1 pre-script, once ms_init) falls back on the catalogue's default cycles for R.S3, R.MR, R.IA and R.CX."""
    candidates = [diagrams.ROOT / "app" / "lifecycle" / "requirements.yaml",
                  diagrams.ROOT.parent / "shared" / "domain" / "requirements-v2.yaml"]
    cycles = {}
    for path in candidates:
        if path.is_file():
            cycles = {r["id"]: r["default_cycle"] for r in yaml.safe_load(path.read_text()).get("periodic_reviews", [])}
            if "R.MR" in cycles:
                break
    if "R.MR" not in cycles:
        pytest.skip("no catalogue with the organisation reviews (requirements v2) is at hand")
    text = (diagrams.BPMN_DIR / "management_system.bpmn").read_text()
    merged = dict(re.findall(r'<spiffworkflow:property name="cadence:(R\.\w+)" value="(\w+)"/>', text))
    assert merged == {k: cycles[k] for k in ("R.S3", "R.MR", "R.IA", "R.CX")}


def test_new_stage_1_forms_ask_for_structured_required_fields():
    """Every new stage-1 form has a required field that is not free text."""
    for name in ("s1_context", "s1_resources", "s1_awareness_comms", "s1_documents", "s1_audit_programme"):
        schema = form_file(f"{name}.schema.json")
        kinds = {schema["properties"][f].get("type") for f in schema["required"]}
        assert kinds & {"array", "integer", "number", "boolean"} or any(
            "enum" in schema["properties"][f] or schema["properties"][f].get("format") == "date"
            for f in schema["required"]), name


def test_the_maturity_form_takes_exactly_one_row_per_criterion():
    schema = form_file("s3_collaborative_profile.schema.json")
    validator = diagrams.validator(schema)
    base = {"collaborative_profile": "Experienced with suppliers", "profile_measures": [
        {"measure": "Partner satisfaction", "target": "4 of 5", "frequency": "annually"}]}
    assert validator.is_valid({**base, "maturity_assessment": maturity(FIRST_LEVELS)})
    twice = maturity(FIRST_LEVELS)
    twice[1] = {**twice[0]}  # leadership twice, strategy_and_policy missing
    assert not validator.is_valid({**base, "maturity_assessment": twice})
    assert not validator.is_valid({**base, "maturity_assessment": maturity(FIRST_LEVELS)[:7]})
    no_evidence = maturity(FIRST_LEVELS)
    no_evidence[0]["evidence"] = ""
    assert not validator.is_valid({**base, "maturity_assessment": no_evidence})


def test_an_approved_controlled_document_names_its_approver_and_a_relationship_that_fits_has_a_plan():
    documents = diagrams.validator(form_file("s1_documents.schema.json"))
    doc = {"title": "Policy", "kind": "policy", "owner": "P. Owner", "version": "1.0", "status": "approved",
           "review_date": "2027-03-01", "retention_period": "P6Y"}
    assert not documents.is_valid({"controlled_documents": [doc]})
    assert documents.is_valid({"controlled_documents": [{**doc, "approved_by": "C. Executive",
                                                         "approved_on": "2026-03-01"}]})
    assert documents.is_valid({"controlled_documents": [{**doc, "status": "draft"}]})
    assert not documents.is_valid({"controlled_documents": [{**doc, "status": "draft", "retention_period": "6 years"}]})
    portfolio = diagrams.validator(form_file("s1_relationships.schema.json"))
    fits = row_of("s1_relationships", "relationships", collaboration_fits=True, implementation_steps=[])
    assert not portfolio.is_valid({"criteria_weights": WEIGHTS, "relationships": [fits]})
    assert portfolio.is_valid({"criteria_weights": WEIGHTS, "relationships": [{**fits, "collaboration_fits": False}]})
    policy = diagrams.validator(form_file("s1_policy.schema.json"))
    errors = [e.validator for e in policy.iter_errors({"policy_commitments": ["mutual_benefit"]})]
    assert "contains" in errors  # the continual-improvement commitment must be among the commitments
