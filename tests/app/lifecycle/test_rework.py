"""Sending a stage back reopens the tasks the SER picks, and only those: the rest keep their answers. Driven
through the real services and engine on the bundled lifecycle."""

from __future__ import annotations

from sqlalchemy import select

from app.inbox.instructions import render_instructions
from app.inbox.screens import _sent_back
from app.processes.models import HumanTask
from app.processes.store import SqlInstanceStore
from tests.support.driver import until_ready

REASON = "The business case lacks payback; the risks miss the partner's exit."


def opened_after(session, instance_id, last_id) -> list[str]:
    session.expire_all()
    query = select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.id > last_id)
    return [row.bpmn_id for row in session.scalars(query.order_by(HumanTask.id))]


def test_a_rework_reopens_exactly_the_two_tasks_the_ser_picked(start, session, services):
    rel = start()
    rel.drive(until=until_ready("s2_ser_gate"))
    first_round = rel.task_data("s2_ser_gate")
    gate = rel.task("s2_ser_gate")
    rel.complete("s2_ser_gate", {"decision": "rework", "comments": REASON,
                                 "reopen_tasks": ["s2_business_case", "s2_risks"]})

    reopened = rel.task("s2_business_case")
    sent_back = _sent_back(session, reopened)
    assert sent_back is not None and sent_back.row.submitted["comments"] == REASON
    engine_task = services.workflows.using(SqlInstanceStore(session)).get_task(rel.instance_id, reopened.task_id)
    shown = str(render_instructions(engine_task.instructions, engine_task.data))
    assert REASON not in shown, "the reason shows once: in the sent-back note, not again in the instructions"
    rel.complete("s2_business_case")
    assert rel.ready_names() == ["s2_risks"], "the tasks between the two picked ones stay closed"
    rel.complete("s2_risks")
    assert rel.ready_names() == ["s2_ser_gate"]
    assert opened_after(session, rel.instance_id, gate.id) == ["s2_business_case", "s2_risks", "s2_ser_gate"]

    data = rel.task_data("s2_ser_gate")
    for untouched in ("opportunity", "knowledge"):  # the tasks not picked keep their last answers
        kept = [k for k in first_round if k.startswith(untouched)]
        assert kept and all(data[k] == first_round[k] for k in kept)
    history = data["gate_history"][-1]
    assert history["decision"] == "rework" and history["reopened"] == ["s2_business_case", "s2_risks"]
    assert "reopen_tasks" not in data, "the gate opens blank in the next round"


def test_a_rework_without_a_picked_task_is_refused_with_the_field_named(start):
    from app.inbox.binding import check
    rel = start()
    rel.drive(until=until_ready("s2_ser_gate"))
    schema = rel.schema_of(rel.task("s2_ser_gate"))
    errors = check(schema, {"decision": "rework", "comments": REASON, "reopen_tasks": []})
    assert "reopen_tasks" in errors
    assert not check(schema, {"decision": "approve"})


def test_the_stage_7_gate_runs_another_cycle_or_moves_to_exit(start):
    rel = start()
    rel.drive(until=until_ready("s7_ser_gate"))
    rel.complete("s7_ser_gate", {"decision": "another_cycle", "comments": "A new market opened; keep going."})
    rel.complete("s7_partner_ser_gate", {"partner_decision": "exit"})
    assert "s7_manage_activities" in rel.ready_names(), "one SER for another cycle: the stage 7 tasks reopen"
    rel.drive(until=until_ready("s7_ser_gate"))
    rel.complete("s7_ser_gate", {"decision": "exit"})
    rel.complete("s7_partner_ser_gate", {"partner_decision": "exit"})
    assert "s8_finalise_exit_strategy" in rel.ready_names(), "both SERs move to exit: stage 8 begins"
    history = [(g["decision"], g["partner_decision"]) for g in rel.latest_data()["gate_history"] if g["stage"] == 7]
    assert history == [("another_cycle", "exit"), ("exit", "exit")]


def test_a_joint_rework_in_stage_6_reopens_what_either_ser_picked_and_carries_the_rest(start, session, services):
    """Stage 6 is decided by both SERs: a rework reopens the union of the tasks each ticked, in the stage's order;
    every other task is carried forward with its answers (audited, never in anyone's inbox)."""
    from app.audit.models import AuditEvent
    rel = start()
    rel.drive(until=until_ready("s6_ser_gate"))
    first_round = rel.task_data("s6_ser_gate")
    round_one = max(rel.task("s6_partner_ser_gate").id, rel.task("s6_ser_gate").id)
    rel.complete("s6_ser_gate", {"decision": "rework", "comments": REASON, "reopen_tasks": ["s6_value_sharing"]})
    rel.complete("s6_partner_ser_gate", {"partner_decision": "rework", "partner_comments": "Learning is thin.",
                                         "partner_reopen_tasks": ["s6_learning"]})
    assert rel.ready_names() == ["s6_learning"]
    assert _sent_back(session, rel.task("s6_learning")).row.submitted["partner_comments"] == "Learning is thin."
    rel.complete("s6_learning")
    assert rel.ready_names() == ["s6_value_sharing"], "the value register in between is carried forward"
    rel.complete("s6_value_sharing")
    assert sorted(rel.ready_names()) == ["s6_partner_ser_gate", "s6_ser_gate"]
    opened = opened_after(session, rel.instance_id, round_one)
    assert opened[:2] == ["s6_learning", "s6_value_sharing"] and sorted(opened[2:]) == [
        "s6_partner_ser_gate", "s6_ser_gate"], opened
    carried = [e.payload["bpmn_id"] for e in session.scalars(select(AuditEvent).where(
        AuditEvent.instance_id == rel.instance_id, AuditEvent.action == "task.carried_forward")
        .order_by(AuditEvent.id))]
    assert carried == ["s6_value_definition", "s6_improvement", "s6_value_register", "s6_jrmp_update"]
    data = rel.task_data("s6_ser_gate")
    assert data["value_register"] == first_round["value_register"], "a carried task keeps its answers"
    assert "reopen_tasks" not in data and "partner_reopen_tasks" not in data, "the gates open blank"
    history = data["gate_history"][-1]
    assert (history["stage"], history["reopened"]) == (6, ["s6_learning", "s6_value_sharing"])

    rel.complete("s6_ser_gate", {"decision": "approve"})
    rel.complete("s6_partner_ser_gate", {"partner_decision": "approve"})
    rel.drive(until=until_ready("s7_ser_gate"))
    assert rel.task_data("s7_ser_gate")["carry_forward"] == [], "an approval carries nothing into later stages"


def test_a_stage_5_rework_picked_by_our_ser_alone_reopens_only_that_task(start, session):
    """Our SER sends stage 5 back for the joint risks only; the partner SER approves: the joint risks reopen, the
    nine other tasks are carried forward, and both SERs decide again."""
    rel = start()
    rel.drive(until=until_ready("s5_ser_gate"))
    rel.complete("s5_ser_gate", {"decision": "rework", "comments": REASON, "reopen_tasks": ["s5_joint_risks"]})
    rel.complete("s5_partner_ser_gate", {"partner_decision": "approve"})
    assert rel.ready_names() == ["s5_joint_risks"]
    assert _sent_back(session, rel.task("s5_joint_risks")).row.submitted["comments"] == REASON
    rel.complete("s5_joint_risks")
    assert sorted(rel.ready_names()) == ["s5_partner_ser_gate", "s5_ser_gate"]
    history = rel.task_data("s5_ser_gate")["gate_history"][-1]
    assert (history["stage"], history["reopened"]) == (5, ["s5_joint_risks"])
