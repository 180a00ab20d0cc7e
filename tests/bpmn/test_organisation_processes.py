"""The organisation's own processes on the real engine (the bundled bpmn/ and forms/, the sandbox, the
in-memory store): the recurring organisation reviews (R.MR management review, R.CX context review), the
internal audits of the audit programme (R.IA) and the nonconformity and corrective-action process (M10.1).

Every submission is what a person would send: fill_form keeps the task's current values, samples the rest
and applies the scenario's answers, and the data is checked against the task's JSON Schema (formats too)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import diagrams
from tests.support.driver import fill_form
from workflows import InMemoryStore, WorkflowEngine, add_period, read_directory
from workflows.starting import PERSON, declarations

T0 = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture(scope="module")
def deployed():
    engine = WorkflowEngine(InMemoryStore())
    version_id, compiled = engine.deploy(*read_directory(diagrams.BPMN_DIR, diagrams.FORMS_DIR))
    assert {"organisation_review", "internal_audit", "nonconformity"} <= set(compiled.process_ids)
    return engine, version_id


@pytest.fixture
def engine(deployed):
    return deployed[0]


@pytest.fixture
def version_id(deployed):
    return deployed[1]


def schema_of(form_file):
    return json.loads((diagrams.FORMS_DIR / form_file).read_text())


def only(tasks, bpmn_id):
    assert [t.bpmn_id for t in tasks] == [bpmn_id]
    return tasks[0]


def submit(engine, instance_id, task, answers, now):
    """Complete `task` the way a person would, after checking the data against the task's schema."""
    schema = schema_of(task.form)
    data = fill_form(schema, engine.get_task(instance_id, task.id).data, answers)
    errors = [e.message for e in diagrams.validator(schema).iter_errors(data)]
    assert not errors, f"{task.bpmn_id}: {errors}"
    return engine.complete_task(instance_id, task.id, data, now=now)


def linked(result, process_id):
    return [r for r in result.linked if r.process_id == process_id]


def fire_until_ready(engine, instance_id, due):
    """Not ready a minute before `due`; ready a minute after."""
    early = engine.fire_timers(instance_id, now=due - MINUTE)
    assert early.ready == []
    return engine.fire_timers(instance_id, now=due + MINUTE)


# ------------------------------------------------------------------------------------------------ reviews
def review_start(review_id, due_at, sequence=1):
    title = {"R.MR": "Management review", "R.CX": "Review of context"}[review_id]
    return {"review_id": review_id, "title": title, "due_at": due_at, "interval": "P12M", "sequence": sequence}


MR_OUTPUTS = {"resources_adequate": "partly", "system_effective": "yes",
              "decisions": [{"decision": "Train two more relationship managers", "kind": "resources"}],
              "management_review_actions": [{"action": "Run the training", "owner": "HR lead",
                                             "deadline": "2028-06-30", "status": "open"}],
              "attendees": [{"name": "C. Executive", "role": "CEO"}, {"name": "S. Ser", "role": "SER"}]}


def test_a_management_review_waits_for_its_due_time_and_schedules_the_next_one_a_calendar_year_later(
        engine, version_id):
    due = datetime(2028, 2, 29, 9, 0, tzinfo=UTC)  # a leap day: a calendar year later is 28 February
    started = engine.start(version_id, "organisation_review", review_start("R.MR", due.isoformat()), now=T0)
    assert started.ready == [] and [t.due_at for t in started.timers] == [due]

    fired = fire_until_ready(engine, started.instance_id, due)
    task = only(fired.ready, "or_management_review")
    assert task.lane == "Top management" and task.requirements == ["M9.3", "M9.1", "M10.2"]
    assert task.due_at == due + MINUTE + timedelta(days=14)

    done = submit(engine, started.instance_id, task, {**MR_OUTPUTS, "nonconformities_raised": []},
                  now=due + timedelta(days=20))  # held late: the calendar does not move
    assert done.status == "completed" and linked(done, "nonconformity") == []
    (following,) = linked(done, "organisation_review")
    assert [t.due_at for t in following.timers] == [datetime(2029, 2, 28, 9, 0, tzinfo=UTC)]
    assert following.timers[0].due_at == add_period(due, "P12M")
    data = engine.instance_data(following.instance_id)
    assert {k: data[k] for k in ("review_id", "interval", "sequence")} == {
        "review_id": "R.MR", "interval": "P12M", "sequence": 2}
    assert engine.instance_data(started.instance_id)["next_due_at"] == "2029-02-28T09:00:00+00:00"


def test_the_management_review_starts_a_nonconformity_per_one_raised(engine, version_id):
    due = datetime(2027, 3, 31, 9, 0, tzinfo=UTC)
    started = engine.start(version_id, "organisation_review", review_start("R.MR", due.isoformat()), now=T0)
    task = only(fire_until_ready(engine, started.instance_id, due).ready, "or_management_review")
    raised = [{"title": "Objectives not tracked", "description": "No actuals since Q2.", "severity": "major"},
              {"title": "Briefing records missing", "description": "Two teams unbriefed.", "severity": "minor"}]
    done = submit(engine, started.instance_id, task, {**MR_OUTPUTS, "nonconformities_raised": raised},
                  now=due + MINUTE)
    ncs = linked(done, "nonconformity")
    assert len(ncs) == 2 and len(linked(done, "organisation_review")) == 1
    for nc, row in zip(ncs, raised, strict=True):
        # opened by the correction task's pre-script: in that task's data until a task completes
        data = engine.get_task(nc.instance_id, nc.ready[0].id).data
        assert (data["title"], data["source"], data["severity"]) == (row["title"], "management_review",
                                                                      row["severity"])
        assert data["nc_state"] == "open" and [t.bpmn_id for t in nc.ready] == ["nc_correction"]


def test_a_context_review_is_staff_work_and_keeps_its_chain(engine, version_id):
    due = datetime(2027, 1, 31, 9, 0, tzinfo=UTC)
    started = engine.start(version_id, "organisation_review", review_start("R.CX", due.isoformat(), 3), now=T0)
    task = only(fire_until_ready(engine, started.instance_id, due).ready, "or_context_review")
    assert task.lane == "Staff" and task.requirements == ["M4.1", "M4.2", "M6.1"]
    done = submit(engine, started.instance_id, task, {"changes_since_last_review": "minor", "changes": [
        {"what_changed": "New regulator guidance", "effect": "Reporting duty", "action": "Add to the JRMP"}]},
        now=due + MINUTE)
    (following,) = linked(done, "organisation_review")
    assert following.timers[0].due_at == datetime(2028, 1, 31, 9, 0, tzinfo=UTC)
    assert engine.instance_data(following.instance_id)["sequence"] == 4


def test_an_unknown_review_id_fails_clearly(engine, version_id):
    from workflows import ScriptFailed
    due = datetime(2027, 1, 31, 9, 0, tzinfo=UTC)
    started = engine.start(version_id, "organisation_review", {**review_start("R.CX", due.isoformat()),
                                                               "review_id": "R.XX"}, now=T0)
    with pytest.raises(ScriptFailed, match="R.XX"):
        engine.fire_timers(started.instance_id, now=due + MINUTE)


# ------------------------------------------------------------------------------------------------ audits
AUDIT = {"area": "relationship_lifecycle", "scope": "Stages 4 to 6 of two relationships",
         "criteria": "ISO 44001 clause 8 and our lifecycle procedure", "interval": "P6M",
         "auditor": "A. Auditor", "title": "Audit of the relationship lifecycle",
         "due_at": "2026-08-31T09:00:00+00:00", "sequence": 1}
AUDIT_DUE = datetime(2026, 8, 31, 9, 0, tzinfo=UTC)
FINDINGS = [{"finding": "Competence records missing for two JMT members", "severity": "major",
             "requirement": "M7.2", "evidence": "Training files of the ACME JMT"},
            {"finding": "Risk register could name owners more clearly", "severity": "observation",
             "requirement": "", "evidence": "JRMP v3"}]


def audit_answers(**extra):
    return {"audit_date": "2026-09-02", "auditor_area": "performance_evaluation",
            "auditor_competence": "trained_internal_auditor", "impartiality_confirmed": True,
            "findings": FINDINGS, "conforms": "partly", "audit_report": "evidence-report", **extra}


def test_an_audit_raises_one_nonconformity_per_nonconformity_found_and_schedules_the_next_audit_of_the_area(
        engine, version_id):
    started = engine.start(version_id, "internal_audit", AUDIT, now=T0)
    assert [t.due_at for t in started.timers] == [AUDIT_DUE]
    task = only(fire_until_ready(engine, started.instance_id, AUDIT_DUE).ready, "ia_audit")
    assert task.lane == "Staff" and task.requirements == ["M9.2"]
    prefilled = engine.get_task(started.instance_id, task.id).data
    assert (prefilled["scope"], prefilled["criteria"], prefilled["auditor"]) == (
        AUDIT["scope"], AUDIT["criteria"], AUDIT["auditor"])

    done = submit(engine, started.instance_id, task, audit_answers(), now=AUDIT_DUE + timedelta(days=2))
    assert done.status == "completed"
    (nc,) = linked(done, "nonconformity")  # the observation raises none
    nc_data = engine.instance_data(nc.instance_id)
    assert (nc_data["source"], nc_data["severity"], nc_data["requirement"], nc_data["area"]) == (
        "internal_audit", "major", "M7.2", "relationship_lifecycle")
    assert nc_data["description"] == FINDINGS[0]["finding"]

    (following,) = linked(done, "internal_audit")
    assert [t.due_at for t in following.timers] == [datetime(2027, 2, 28, 9, 0, tzinfo=UTC)]  # 31 Aug + 6 months
    next_data = engine.instance_data(following.instance_id)
    assert {k: next_data[k] for k in AUDIT} == {**AUDIT, "due_at": "2027-02-28T09:00:00+00:00", "sequence": 2}
    result = engine.instance_data(started.instance_id)["audit_result"]
    assert (result["findings"], result["nonconformities"], result["conforms"]) == (2, 1, "partly")


def test_an_auditor_of_their_own_area_is_refused_until_an_impartial_auditor_audits(engine, version_id):
    started = engine.start(version_id, "internal_audit", AUDIT, now=T0)
    task = only(fire_until_ready(engine, started.instance_id, AUDIT_DUE).ready, "ia_audit")
    refused = submit(engine, started.instance_id, task, audit_answers(auditor_area="relationship_lifecycle"),
                     now=AUDIT_DUE + MINUTE)
    assert refused.status == "running" and refused.linked == []  # no nonconformity, no next audit
    appoint = only(refused.ready, "ia_appoint_impartial_auditor")
    assert appoint.lane == "SER"

    back = submit(engine, started.instance_id, appoint, {"auditor": "I. Partial", "appointed_on": "2026-09-03",
                                                         "reason": "Works in finance"},
                  now=AUDIT_DUE + timedelta(days=3))
    again = only(back.ready, "ia_audit")
    data = engine.get_task(started.instance_id, again.id).data
    assert data["auditor"] == "I. Partial" and "auditor_area" not in data
    assert [r["auditor"] for r in data["refused_audits"]] == ["A. Auditor"]

    done = submit(engine, started.instance_id, again, audit_answers(auditor_area="improvement"),
                  now=AUDIT_DUE + timedelta(days=5))
    assert done.status == "completed" and len(linked(done, "nonconformity")) == 1
    (following,) = linked(done, "internal_audit")
    assert engine.instance_data(following.instance_id)["auditor"] == "A. Auditor"  # the programme's plan


# ------------------------------------------------------------------------------------------------ nonconformity
NC = {"title": "Exit strategy not reviewed", "source": "hand", "description": "R.EX missed for ACME.",
      "severity": "minor"}
CORRECTION = {"correction": "Reviewed the exit strategy", "correction_date": "2026-02-02",
              "root_cause_method": "five_whys",
              "whys": [{"why": "Why missed?", "because": "Nobody was notified"},
                       {"why": "Why not notified?", "because": "The JMT lane had no members"}],
              "root_cause": "The JMT had no members in the tool", "corrective_action": "Add JMT members",
              "action_owner": "O. Owner", "action_due": "2026-02-28", "effectiveness_check_after": "P3M",
              "similar_elsewhere": "unknown"}


def to_effectiveness_check(engine, instance_id, correction_task, now):
    """Correction, corrective action, then the timer: returns (check task, when the action was done)."""
    acting = submit(engine, instance_id, correction_task, CORRECTION, now=now)
    action = only(acting.ready, "nc_take_action")
    assert action.lane == "Staff" and action.due_at == datetime(2026, 2, 28, tzinfo=UTC)
    assert engine.instance_data(instance_id)["nc_state"] == "action"
    done_at = now + timedelta(days=10)
    waiting = submit(engine, instance_id, action, {"action_done_on": done_at.date().isoformat(),
                                                   "what_was_done": "Added three members"}, now=done_at)
    assert waiting.ready == [] and engine.instance_data(instance_id)["nc_state"] == "verification"
    due = add_period(done_at, "P3M")
    assert [t.bpmn_id for t in waiting.timers] == ["nc_wait_effectiveness"]
    assert waiting.timers[0].due_at == due
    check = only(fire_until_ready(engine, instance_id, due).ready, "nc_check_effectiveness")
    return check, due


def test_a_nonconformity_is_checked_when_its_period_has_passed_and_reopened_when_not_effective(engine, version_id):
    started = engine.start(version_id, "nonconformity", NC, now=T0)
    correction = only(started.ready, "nc_correction")
    assert correction.lane == "Staff" and correction.requirements == ["M10.1"]
    data = engine.get_task(started.instance_id, correction.id).data  # opened by the correction's pre-script
    assert (data["nc_state"], data["reopened"]) == ("open", 0)

    check, due = to_effectiveness_check(engine, started.instance_id, correction, T0 + timedelta(days=1))
    assert check.lane == "SER" and check.properties["approvalGate"] == "true"
    assert check.requirements == ["M10.1"]
    reopened = submit(engine, started.instance_id, check,
                      {"effective": "not_effective", "verification": "Sampled two reviews",
                       "verified_on": "2026-05-12", "comments": "One review still missed"}, now=due + MINUTE)
    again = only(reopened.ready, "nc_correction")
    data = engine.get_task(started.instance_id, again.id).data
    assert (data["reopened"], data["nc_state"]) == (1, "reopened")
    assert data["root_cause"] == CORRECTION["root_cause"]  # the earlier answers stay to be revised
    assert [c["comments"] for c in data["failed_checks"]] == ["One review still missed"]


def test_an_effective_action_closes_the_nonconformity(engine, version_id):
    started = engine.start(version_id, "nonconformity", NC, now=T0)
    check, due = to_effectiveness_check(engine, started.instance_id, started.ready[0], T0)
    closed = submit(engine, started.instance_id, check, {"effective": "effective", "verification": "No misses",
                                                         "verified_on": "2026-05-11"}, now=due + MINUTE)
    assert closed.status == "completed"
    data = engine.instance_data(started.instance_id)
    assert (data["nc_state"], data["reopened"], data["closed_on"]) == ("closed", 0, (due + MINUTE).isoformat())
    assert [h["state"] for h in data["nc_history"]] == ["open", "action", "verification", "closed"]


def test_staff_sers_top_management_and_assessors_may_raise_a_nonconformity_by_hand(engine, version_id):
    (declared,) = [d for d in declarations(engine.specs(version_id)) if d.process_id == "nonconformity"]
    assert declared.how == PERSON and declared.roles == ("staff", "ser", "top_management", "assessor")
    assert (declared.form, declared.ui_form, declared.title_field) == (
        "nc_raise.schema.json", "nc_raise.uischema.json", "title")
    assert declared.name == "Nonconformity and corrective action"
    schema = schema_of(declared.form)
    data = fill_form(schema, {}, {"title": "Supplier briefing skipped", "source": "hand", "severity": "major"})
    started = engine.start(version_id, "nonconformity", data, now=T0)
    assert engine.store.get_instance(started.instance_id).title == "Supplier briefing skipped"
    assert only(started.ready, "nc_correction")


# ------------------------------------------------------------------------------------------------ form rules
def test_the_forms_conditional_rules():
    correction = diagrams.validator(schema_of("nc_correction.schema.json"))
    base = fill_form(schema_of("nc_correction.schema.json"), {}, CORRECTION)
    assert not correction.is_valid({**base, "whys": []}), "five whys need at least one why"
    assert correction.is_valid({**base, "whys": [], "root_cause_method": "cause_categories",
                                "cause_category": "process"})
    assert not correction.is_valid({**{k: v for k, v in base.items() if k != "cause_category"},
                                    "root_cause_method": "cause_categories"})

    check = diagrams.validator(schema_of("nc_check_effectiveness.schema.json"))
    answer = {"effective": "not_effective", "verification": "x", "verified_on": "2026-05-01"}
    assert not check.is_valid(answer) and not check.is_valid({**answer, "comments": ""})
    assert check.is_valid({**answer, "comments": "still failing"})
    assert check.is_valid({**answer, "effective": "effective"})

    audit_schema = schema_of("ia_audit.schema.json")
    audit = diagrams.validator(audit_schema)
    data = fill_form(audit_schema, {}, audit_answers(scope="s", criteria="c", auditor="a"))
    assert not audit.is_valid({**data, "impartiality_confirmed": False})
    assert not audit.is_valid({**data, "findings": [{**FINDINGS[0], "requirement": ""}]}), \
        "a nonconformity cites the requirement"

    context = diagrams.validator(schema_of("or_context_review.schema.json"))
    assert context.is_valid({"changes_since_last_review": "none"})
    assert not context.is_valid({"changes_since_last_review": "significant"})

    review = diagrams.validator(schema_of("or_management_review.schema.json"))
    assert review.is_valid(MR_OUTPUTS)
    assert not review.is_valid({**MR_OUTPUTS, "decisions": []}) and not review.is_valid(
        {k: v for k, v in MR_OUTPUTS.items() if k != "attendees"})


def test_every_form_of_these_processes_asks_a_required_answer_that_is_not_free_text():
    for name in ("or_management_review", "or_context_review", "ia_audit", "ia_appoint_impartial_auditor",
                 "nc_raise", "nc_correction", "nc_take_action", "nc_check_effectiveness"):
        schema = schema_of(f"{name}.schema.json")
        structured = [k for k in schema["required"] if (p := schema["properties"][k]).get("type") != "string"
                      or "enum" in p or p.get("format") == "date"]
        assert structured, name
