"""Sending a stage back reopens the tasks the SER picks, and only those: the rest keep their answers. Driven
through the real services and engine on the bundled lifecycle."""

from __future__ import annotations

from datetime import timedelta

import pytest
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
    (sent_back,) = _sent_back(session, reopened)
    assert sent_back.row.submitted["comments"] == REASON
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


def test_the_stage_7_gate_runs_another_cycle_or_moves_to_exit(start, session):
    """Each way on accepts the cycle's work: the plan updated in the cycle becomes a new JRMP version."""
    from app.compliance import rmp
    rel = start()
    rel.drive(until=until_ready("s7_ser_gate"))
    before = [v.stage for v in rmp.versions(session, rel.instance_id)]
    rel.complete("s7_ser_gate", {"decision": "another_cycle", "comments": "A new market opened; keep going."})
    rel.complete("s7_partner_ser_gate", {"partner_decision": "exit"})
    assert "s7_manage_activities" in rel.ready_names(), "one SER for another cycle: the stage 7 tasks reopen"
    assert [v.stage for v in rmp.versions(session, rel.instance_id)] == [*before, 7]
    rel.drive(until=until_ready("s7_ser_gate"))
    rel.complete("s7_ser_gate", {"decision": "exit"})
    rel.complete("s7_partner_ser_gate", {"partner_decision": "exit"})
    assert "s8_finalise_exit_strategy" in rel.ready_names(), "both SERs move to exit: stage 8 begins"
    assert [v.stage for v in rmp.versions(session, rel.instance_id)] == [*before, 7, 7]
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
    assert [a.row.submitted.get("partner_comments") for a in _sent_back(session, rel.task("s6_learning"))] == [
        "Learning is thin."], "only the partner picked it: only the partner's reason"
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
    assert [a.row.submitted["comments"] for a in _sent_back(session, rel.task("s5_joint_risks"))] == [REASON]
    rel.complete("s5_joint_risks")
    assert sorted(rel.ready_names()) == ["s5_partner_ser_gate", "s5_ser_gate"]
    history = rel.task_data("s5_ser_gate")["gate_history"][-1]
    assert (history["stage"], history["reopened"]) == (5, ["s5_joint_risks"])


def test_when_both_sers_pick_the_same_task_it_shows_each_reason_once_and_the_instructions_none(
        start, session, services):
    """Stage 5, both SERs send it back and both tick the joint risks: the task's note gives our SER's reason and the
    partner SER's, once each, in the order they decided (a minute apart: rows of one instant have no order); its
    instructions repeat neither. A second round's task shows that round's reasons only."""
    rel = start()
    rel.drive(until=until_ready("s5_ser_gate"))
    rel.complete("s5_ser_gate", {"decision": "rework", "comments": REASON, "reopen_tasks": ["s5_joint_risks"]})
    rel.complete("s5_partner_ser_gate", {"partner_decision": "rework", "partner_comments": "Add the partner's risks.",
                                         "partner_reopen_tasks": ["s5_joint_risks"]}, advance=timedelta(minutes=1))
    risks = rel.task("s5_joint_risks")
    notes = _sent_back(session, risks)
    assert [(a.row.bpmn_id, a.row.submitted.get("comments") or a.row.submitted.get("partner_comments"))
            for a in notes] == [("s5_ser_gate", REASON), ("s5_partner_ser_gate", "Add the partner's risks.")]
    engine_task = services.workflows.using(SqlInstanceStore(session)).get_task(rel.instance_id, risks.task_id)
    shown = str(render_instructions(engine_task.instructions, engine_task.data))
    assert REASON not in shown and "Add the partner's risks." not in shown

    rel.complete("s5_joint_risks", advance=timedelta(minutes=1))
    rel.complete("s5_ser_gate", {"decision": "rework", "comments": "Second round: date the risks.",
                                 "reopen_tasks": ["s5_joint_risks"]})
    rel.complete("s5_partner_ser_gate", {"partner_decision": "approve"}, advance=timedelta(minutes=1))
    assert [a.row.submitted.get("comments") for a in _sent_back(session, rel.task("s5_joint_risks"))] == [
        "Second round: date the risks."], "the first round's reasons are not shown again"


def carried_forward(session, instance_id) -> list[str]:
    from app.audit.models import AuditEvent
    return [e.payload["bpmn_id"] for e in session.scalars(select(AuditEvent).where(
        AuditEvent.instance_id == instance_id, AuditEvent.action == "task.carried_forward").order_by(AuditEvent.id))]


def confirmation(session, services, gate, submitted) -> str:
    """What the SER reads after deciding: the page's words, on the gate's live form."""
    from app.inbox.pages import _confirmation
    from app.inbox.screens import live_form
    return _confirmation(gate, submitted, live_form(session, services.workflows, gate))


def shown_once(session, services, rel, name, reason):
    """The sent-back note on the reopened task gives the reason; its instructions do not repeat it."""
    row = rel.task(name)
    assert [a.row.submitted["comments"] for a in _sent_back(session, row)] == [reason], name
    engine_task = services.workflows.using(SqlInstanceStore(session)).get_task(rel.instance_id, row.task_id)
    assert reason not in str(render_instructions(engine_task.instructions, engine_task.data)), name


def test_a_stage_4_rework_reopens_the_two_tasks_picked_and_carries_the_rest_with_their_answers(
        start, session, services, users):
    """The known trap: the SER's agreement to approach the candidates opened blank in every round, so carrying it
    forward would have sent the nomination back. Carried, it keeps its 'agree'; the evaluations (one task per
    candidate) keep their scores; the partner's selection keeps its SER, so four eyes still hold at the gate."""
    from app.errors import Forbidden
    from app.processes import services as processes
    rel = start()
    rel.drive(until=until_ready("s4_ser_gate"))
    first_round = rel.task_data("s4_ser_gate")
    gate = rel.task("s4_ser_gate")
    picked = {"decision": "rework", "comments": REASON, "reopen_tasks": ["s4_joint_objectives", "s4_exit_triggers"]}
    rel.complete(gate, picked)
    assert confirmation(session, services, gate, picked) == (
        "Sent back for rework: Appraise objectives, draft joint objectives, Update the exit strategy with triggers. "
        "Whoever redoes them reads your reason on them.")

    assert rel.ready_names() == ["s4_joint_objectives"], "nomination, agreement and evaluations are carried"
    shown_once(session, services, rel, "s4_joint_objectives", REASON)
    assert rel.task_data("s4_joint_objectives")["joint_objectives"] == first_round["joint_objectives"], \
        "a reopened task shows its answers for editing"
    rel.complete("s4_joint_objectives")
    assert rel.ready_names() == ["s4_exit_triggers"]
    shown_once(session, services, rel, "s4_exit_triggers", REASON)
    rel.complete("s4_exit_triggers")
    assert rel.ready_names() == ["s4_ser_gate"]
    assert opened_after(session, rel.instance_id, gate.id) == ["s4_joint_objectives", "s4_exit_triggers", "s4_ser_gate"]
    assert carried_forward(session, rel.instance_id) == [
        "s4_nominate_candidates", "s4_ser_agree_approach", "s4_evaluate_candidate", "s4_action_plans",
        "s4_negotiation_strategy", "s4_select_partner", "s4_partner_commitment", "s4_rmp_update"]

    data = rel.task_data("s4_ser_gate")
    for kept in ("approach_decision", "candidates", "candidate_ranking", "selected_partner", "negotiation_roles"):
        assert data.get(kept) == first_round.get(kept), kept
    assert data["approach_decision"] == "agree"
    assert "decision" not in data and "reopen_tasks" not in data, "the gate opens blank"
    history = data["gate_history"][-1]
    assert (history["stage"], history["reopened"]) == (4, ["s4_joint_objectives", "s4_exit_triggers"])

    with pytest.raises(Forbidden, match="four eyes"):  # the SER who selected the partner, in the first round
        processes.complete_task(session, services.workflows, user=users["ser"], human_task_id=rel.task("s4_ser_gate").id,
                                data={"decision": "approve"}, now=rel.now)
    session.rollback()
    rel.complete("s4_ser_gate", {"decision": "approve"})
    assert rel.ready_names() == ["s5_identify_sers"]
    assert rel.task_data("s5_identify_sers")["carry_forward"] == [], "an approval carries nothing further"


def test_a_revise_of_the_nomination_after_a_stage_4_rework_reopens_everything_after_it(start, session):
    """A rework that picks the nomination reopens it with the SER's agreement and the evaluations (new candidates
    are agreed and evaluated before anyone approaches them). If the SER then asks for a revised nomination, the
    loop runs the whole stage again, as it always did: nothing the rework would have carried is skipped."""
    rel = start()
    rel.drive(until=until_ready("s4_ser_gate"))
    gate = rel.task("s4_ser_gate")
    rel.complete(gate, {"decision": "rework", "comments": REASON, "reopen_tasks": ["s4_nominate_candidates"]})
    rel.complete("s4_nominate_candidates")
    assert rel.ready_names() == ["s4_ser_agree_approach"]
    assert rel.task_data("s4_ser_agree_approach")["approach_decision"] == "agree", "reopened with its answer"
    rel.complete("s4_ser_agree_approach", {"approach_decision": "revise", "approach_comments": "Add Gamma."})
    assert rel.ready_names() == ["s4_nominate_candidates"]
    rel.complete("s4_nominate_candidates")
    assert "approach_decision" not in rel.task_data("s4_ser_agree_approach"), "after a revise it opens blank"
    carried = carried_forward(session, rel.instance_id)
    rel.drive(until=until_ready("s4_ser_gate"))
    assert opened_after(session, rel.instance_id, gate.id) == [
        "s4_nominate_candidates", "s4_ser_agree_approach", "s4_nominate_candidates", "s4_ser_agree_approach",
        "s4_evaluate_candidate", "s4_action_plans", "s4_joint_objectives", "s4_negotiation_strategy",
        "s4_select_partner", "s4_partner_commitment", "s4_exit_triggers", "s4_rmp_update", "s4_ser_gate"]
    assert carried_forward(session, rel.instance_id) == carried, "nothing carried after the revise"
    assert rel.task_data("s4_ser_gate")["gate_history"][-1]["reopened"] == [
        "s4_nominate_candidates", "s4_ser_agree_approach", "s4_evaluate_candidate"]


def test_a_stage_8_rework_reopens_what_the_sers_picked_and_carries_the_rest_with_their_answers(start, session,
                                                                                                services):
    """Stage 8 is decided by both SERs. Our SER sends it back picking two tasks: only those reopen, the
    authorisations to disengage among the rest are carried forward as given. Next round the partner's pick counts
    too (the union): our SER reopens its own authorisation, the partner SER the closing of the plan."""
    rel = start()
    rel.drive(until=until_ready("s8_ser_gate"))
    first_round = rel.task_data("s8_ser_gate")
    gate = rel.task("s8_ser_gate")
    round_one = max(gate.id, rel.task("s8_partner_ser_gate").id)
    picked = {"decision": "rework", "comments": REASON, "reopen_tasks": ["s8_boundaries", "s8_final_assessment"]}
    rel.complete(gate, picked)
    assert confirmation(session, services, gate, picked) == (
        "Sent back for rework: Set boundaries after the relationship, Assess objectives, agree joint message. "
        "Whoever redoes them reads your reason on them.")
    rel.complete("s8_partner_ser_gate", {"partner_decision": "approve"})

    assert rel.ready_names() == ["s8_boundaries"]
    shown_once(session, services, rel, "s8_boundaries", REASON)
    rel.complete("s8_boundaries")
    assert rel.ready_names() == ["s8_final_assessment"], "both authorisations and the continuity plan are carried"
    shown_once(session, services, rel, "s8_final_assessment", REASON)
    rel.complete("s8_final_assessment")
    assert sorted(rel.ready_names()) == ["s8_partner_ser_gate", "s8_ser_gate"]
    opened = opened_after(session, rel.instance_id, round_one)
    assert opened[:2] == ["s8_boundaries", "s8_final_assessment"] and len(opened) == 4, opened
    assert carried_forward(session, rel.instance_id) == [
        "s8_finalise_exit_strategy", "s8_ser_authorise", "s8_partner_ser_authorise", "s8_continuity_plan",
        "s8_close_jrmp"]
    data = rel.task_data("s8_ser_gate")
    for kept in ("authorisation", "partner_authorisation", "disengagement_responsibilities", "exit_strategy",
                 "rmp_closure_summary"):
        assert data[kept] == first_round[kept], kept
    assert "reopen_tasks" not in data and "partner_reopen_tasks" not in data, "the gates open blank"
    assert data["gate_history"][-1]["reopened"] == ["s8_boundaries", "s8_final_assessment"]

    round_two = max(rel.task("s8_ser_gate").id, rel.task("s8_partner_ser_gate").id)
    rel.complete("s8_ser_gate", {"decision": "rework", "comments": "Name who hands over the data.",
                                 "reopen_tasks": ["s8_ser_authorise"]})
    rel.complete("s8_partner_ser_gate", {"partner_decision": "rework", "partner_comments": "The archive is missing.",
                                         "partner_reopen_tasks": ["s8_close_jrmp"]})
    assert rel.ready_names() == ["s8_ser_authorise"]
    assert rel.task_data("s8_ser_authorise")["authorisation"] == "authorise", "reopened with its answer"
    rel.complete("s8_ser_authorise", {"disengagement_responsibilities": [
        {"responsibility": "Hand over the data", "person": "Jo"}]})
    assert rel.ready_names() == ["s8_close_jrmp"], "the partner's authorisation is carried: both authorised"
    close = rel.task("s8_close_jrmp")
    assert [a.row.submitted.get("partner_comments") for a in _sent_back(session, close)] == [
        "The archive is missing."]
    engine_task = services.workflows.using(SqlInstanceStore(session)).get_task(rel.instance_id, close.task_id)
    shown = str(render_instructions(engine_task.instructions, engine_task.data))
    assert "The archive is missing." not in shown and "Name who hands over" not in shown, "the note says it, once"
    rel.complete("s8_close_jrmp")
    assert opened_after(session, rel.instance_id, round_two)[:2] == ["s8_ser_authorise", "s8_close_jrmp"]
    data = rel.task_data("s8_ser_gate")
    assert data["disengagement_responsibilities"][0]["responsibility"] == "Hand over the data"
    assert data["partner_authorisation"] == "authorise"
    assert data["gate_history"][-1]["reopened"] == ["s8_ser_authorise", "s8_close_jrmp"]
    rel.complete("s8_ser_gate", {"decision": "approve"})
    rel.complete("s8_partner_ser_gate", {"partner_decision": "approve"})
    assert rel.completed and rel.data["outcome"] == "completed"


def test_a_revised_authorisation_after_a_stage_8_rework_reopens_the_whole_stage(start, session):
    """Our SER reopens only its authorisation to disengage, then asks for a revision there: the revise loop runs
    every task of the stage again, as it always did, with both authorisations blank."""
    rel = start()
    rel.drive(until=until_ready("s8_ser_gate"))
    round_one = max(rel.task("s8_ser_gate").id, rel.task("s8_partner_ser_gate").id)
    rel.complete("s8_ser_gate", {"decision": "rework", "comments": REASON, "reopen_tasks": ["s8_ser_authorise"]})
    rel.complete("s8_partner_ser_gate", {"partner_decision": "approve"})
    assert rel.ready_names() == ["s8_ser_authorise"]
    rel.complete("s8_ser_authorise", {"authorisation": "revise", "authorisation_comments": "Not yet."})
    carried = carried_forward(session, rel.instance_id)
    assert rel.ready_names() == ["s8_finalise_exit_strategy"]
    rel.drive(until=until_ready("s8_ser_authorise"))
    for name, answer in (("s8_ser_authorise", "authorisation"), ("s8_partner_ser_authorise", "partner_authorisation")):
        assert answer not in rel.task_data(name), f"{name} opens blank after a revise"
    rel.drive(until=until_ready("s8_ser_gate"))
    opened = opened_after(session, rel.instance_id, round_one)
    assert opened[:3] == ["s8_ser_authorise", "s8_finalise_exit_strategy", "s8_boundaries"], opened
    assert sorted(opened[3:5]) == ["s8_partner_ser_authorise", "s8_ser_authorise"]
    assert opened[5:8] == ["s8_continuity_plan", "s8_final_assessment", "s8_close_jrmp"], opened
    assert carried_forward(session, rel.instance_id) == carried, "nothing carried after the revise"
