"""Putting instances right by hand, through the services with the real engine and database: skip the script task
that failed (the instance goes on), suspend (no completion, no timers) and resume (what fell due fires), and move a
token after a dry run that changes nothing, approved by a second administrator (four eyes); every action audited,
everyone else refused, bad input changing nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.errors import BadRequest, Forbidden, NotFound, Suspended
from app.processes import moves, operations
from app.processes import services as process_services
from app.processes.models import HumanTask, ProcessInstance, Timer, TokenMove
from app.processes.store import bound
from tests.support.bundles import T0
from tests.support.failing_timer import failing_timer
from workflows import Conflict, MoveRefused, TaskNotReady

BROKEN = "figure = missing_name + 1"


@pytest.fixture
def admin2(session, users):
    from app.auth.services import create_user
    return create_user(session, "admin2", password=None, roles=["admin"], organisation="Us",
                       organisation_kind="own")


def _state(session, instance_id):
    """Everything a repair could change: the instance row, its task rows, its timers."""
    session.expire_all()
    row = session.get(ProcessInstance, instance_id)
    tasks = session.execute(select(HumanTask.task_id, HumanTask.name, HumanTask.state)
                            .where(HumanTask.instance_id == instance_id).order_by(HumanTask.id)).all()
    timers = session.execute(select(Timer.task_id, Timer.due_at).where(Timer.instance_id == instance_id)).all()
    return (row.revision, row.state, row.status, row.error, row.suspended_at), tasks, timers


def _ready(session, instance_id):
    session.expire_all()
    return list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.state == "ready").order_by(HumanTask.id)))


def _events(session, instance_id, action):
    return list(session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id,
                                                         AuditEvent.action == action).order_by(AuditEvent.id)))


def _prepared(session, wf_engine, users, now=T0):
    """The test bundle's approval process with its plan prepared: 'Approve the plan' waits for an SER."""
    started = process_services.start_instance(session, wf_engine, user=users["staff"], process_id="approval",
                                              now=now)
    [prepare] = _ready(session, started.instance_id)
    process_services.complete_task(session, wf_engine, user=users["staff"], human_task_id=prepare.id,
                                   data={"plan": "grow together"}, now=now)
    return started.instance_id


# ------------------------------------------------------------------------------------------------ skip a script
def test_a_failed_script_task_is_skipped_with_a_reason_and_the_instance_goes_on(session, wf_engine, users,
                                                                               version):
    files = {f.name: f.content for f in version.files if f.kind == "bpmn"}
    forms = {f.name: f.content for f in version.files if f.kind == "form"}
    files["failing_timer.bpmn"] = failing_timer(BROKEN)
    process_services.deploy_version(session, wf_engine, files, forms, user=users["owner"], message="broken", now=T0)
    started = process_services.start_instance(session, wf_engine, user=users["staff"], process_id="failing_timer",
                                              now=T0)
    process_services.fire_due_timers(session, wf_engine, now=T0 + timedelta(seconds=1))
    instance_id = started.instance_id
    [failed] = operations.failed_instances(session)
    assert failed.element_id == "compute"
    before = _state(session, instance_id)

    with pytest.raises(Forbidden):
        operations.skip_failed_script(session, wf_engine, users["staff"], instance_id, reason="in a hurry",
                                      now=T0 + timedelta(minutes=1))
    with pytest.raises(BadRequest) as no_reason:
        operations.skip_failed_script(session, wf_engine, users["admin"], instance_id, reason="  ",
                                      now=T0 + timedelta(minutes=1))
    assert no_reason.value.errors == {"reason": "This field is required."}
    assert _state(session, instance_id) == before

    outcome = operations.skip_failed_script(session, wf_engine, users["admin"], instance_id,
                                            reason="the figure was entered by hand", now=T0 + timedelta(minutes=1))
    assert outcome.went_on and outcome.error is None
    session.expire_all()
    instance = session.get(ProcessInstance, instance_id)
    assert instance.error is None and instance.status == "running"
    assert [t.name for t in _ready(session, instance_id)] == ["Check the figure"]
    assert operations.failed_instances(session) == []
    [skipped] = _events(session, instance_id, "task.skipped")
    assert skipped.actor == "admin" and skipped.at == T0 + timedelta(minutes=1)
    assert skipped.payload["bpmn_id"] == "compute" and skipped.payload["reason"] == "the figure was entered by hand"
    data = bound(wf_engine, session).get_task(instance_id, _ready(session, instance_id)[0].task_id)
    assert "figure" not in data.data  # the script did not run

    with pytest.raises(BadRequest, match="has not failed"):  # nothing left to skip
        operations.skip_failed_script(session, wf_engine, users["admin"], instance_id, reason="again")


def test_skipping_needs_a_failed_instance(session, wf_engine, users, version):
    instance_id = _prepared(session, wf_engine, users)
    with pytest.raises(BadRequest, match="has not failed"):
        operations.skip_failed_script(session, wf_engine, users["admin"], instance_id, reason="why not")
    with pytest.raises(NotFound):
        operations.skip_failed_script(session, wf_engine, users["admin"], 999_999, reason="why not")


# ------------------------------------------------------------------------------------------------ suspend and resume
def test_a_suspended_instance_neither_completes_nor_fires_and_resuming_fires_what_fell_due(session, wf_engine,
                                                                                           users, version):
    started = process_services.start_instance(session, wf_engine, user=users["staff"], process_id="timers",
                                              data={"limit": "P5D"}, now=T0)
    instance_id = started.instance_id
    [work] = _ready(session, instance_id)

    with pytest.raises(Forbidden):
        operations.suspend(session, users["ser"], instance_id, reason="audit", now=T0 + timedelta(days=1))
    with pytest.raises(BadRequest):
        operations.suspend(session, users["admin"], instance_id, reason="", now=T0 + timedelta(days=1))
    assert session.get(ProcessInstance, instance_id).suspended_at is None

    operations.suspend(session, users["admin"], instance_id, reason="supplier dispute under review",
                       now=T0 + timedelta(days=1))
    assert [i.id for i in operations.suspended_instances(session)] == [instance_id]
    assert operations.counts(session)["suspended"] == 1
    with pytest.raises(BadRequest, match="suspended already"):
        operations.suspend(session, users["admin"], instance_id, reason="twice", now=T0 + timedelta(days=1))

    before = _state(session, instance_id)
    with pytest.raises(Suspended) as refused:
        process_services.complete_task(session, wf_engine, user=users["staff"], human_task_id=work.id, data={},
                                       now=T0 + timedelta(days=2))
    assert refused.value.status == 409
    assert "suspended" in refused.value.message and "supplier dispute under review" in refused.value.message
    assert process_services.fire_due_timers(session, wf_engine, now=T0 + timedelta(days=6)) == []
    assert _state(session, instance_id) == before  # the level-1 time limit passed; nothing fired

    outcome = operations.resume(session, wf_engine, users["admin"], instance_id, reason="dispute settled",
                                now=T0 + timedelta(days=7))
    assert outcome.went_on
    assert [t.name for t in _ready(session, instance_id)] == ["Resolve at level 2"]
    assert session.get(ProcessInstance, instance_id).suspended_at is None
    [suspended] = _events(session, instance_id, "instance.suspended")
    [resumed] = _events(session, instance_id, "instance.resumed")
    assert (suspended.actor, suspended.payload["reason"]) == ("admin", "supplier dispute under review")
    assert (resumed.actor, resumed.payload["reason"], resumed.at) == ("admin", "dispute settled",
                                                                      T0 + timedelta(days=7))
    [fired] = _events(session, instance_id, "timer.fired")
    assert fired.at == T0 + timedelta(days=7)
    with pytest.raises(BadRequest, match="not suspended"):
        operations.resume(session, wf_engine, users["admin"], instance_id, now=T0 + timedelta(days=7))


def test_resuming_before_anything_fell_due_fires_nothing(session, wf_engine, users, version):
    started = process_services.start_instance(session, wf_engine, user=users["staff"], process_id="timers",
                                              data={"limit": "P5D"}, now=T0)
    operations.suspend(session, users["admin"], started.instance_id, reason="check", now=T0)
    outcome = operations.resume(session, wf_engine, users["admin"], started.instance_id, now=T0 + timedelta(days=1))
    assert not outcome.went_on and outcome.error is None and outcome.next_due_at == T0 + timedelta(days=5)
    [work] = _ready(session, started.instance_id)
    process_services.complete_task(session, wf_engine, user=users["staff"], human_task_id=work.id, data={},
                                   now=T0 + timedelta(days=2))  # people work it again


def test_a_suspended_instance_is_not_moved_to_another_version(session, wf_engine, users, version):
    from app.processes import versioning
    from tests.support.bundles import read_test_bundle
    from tests.support.versions import version_2
    instance_id = _prepared(session, wf_engine, users)
    operations.suspend(session, users["admin"], instance_id, reason="audit in progress", now=T0)
    files, forms = read_test_bundle()
    v2, _, _ = process_services.deploy_version(session, wf_engine, version_2(files), forms, user=users["owner"],
                                               now=T0)
    [row] = versioning.dry_run(session, wf_engine, user=users["owner"], to_version_id=v2.id)
    assert not row.verdict.can_migrate and "suspended" in row.verdict.reasons[0]
    before = _state(session, instance_id)
    outcome = versioning.migrate(session, wf_engine, user=users["owner"], instance_ids=[instance_id],
                                 to_version_id=v2.id, now=T0)
    assert "suspended" in outcome[instance_id] and _state(session, instance_id) == before


# ------------------------------------------------------------------------------------------------ token moves
def test_a_move_is_proposed_on_a_dry_run_that_changes_nothing(session, wf_engine, users, version):
    instance_id = _prepared(session, wf_engine, users)
    [approve] = _ready(session, instance_id)
    done = moves.done_elements(session, wf_engine, instance_id)
    assert [(d.bpmn_id, d.name, d.kind) for d in done] == [("prepare", "Prepare the plan", "task")]
    before = _state(session, instance_id)

    preview = moves.dry_run(session, wf_engine, users["admin"], instance_id, approve.id, "prepare", now=T0)
    assert preview["withdrawn"] == ["Approve the plan"] and preview["completed"] == []
    assert [t["name"] for t in preview["ready"]] == ["Prepare the plan"] and preview["status"] == "running"
    assert _state(session, instance_id) == before

    move = moves.propose(session, wf_engine, users["admin"], instance_id, approve.id, "prepare",
                         reason="the plan missed the budget", now=T0 + timedelta(hours=1))
    assert move.status == "pending" and move.preview == preview and move.to_name == "Prepare the plan"
    assert _state(session, instance_id) == before
    [proposed] = _events(session, instance_id, "instance.move_proposed")
    assert proposed.actor == "admin" and proposed.payload["reason"] == "the plan missed the budget"
    assert proposed.payload["preview"]["withdrawn"] == ["Approve the plan"]
    assert [m.id for m in moves.moves(session)] == [move.id]


def test_the_proposer_cannot_approve_and_a_second_administrator_applies_the_move(session, wf_engine, users,
                                                                                 version, admin2):
    instance_id = _prepared(session, wf_engine, users)
    [approve] = _ready(session, instance_id)
    move = moves.propose(session, wf_engine, users["admin"], instance_id, approve.id, "prepare",
                         reason="the plan missed the budget", now=T0 + timedelta(hours=1))
    move_id = move.id
    before = _state(session, instance_id)

    with pytest.raises(Forbidden, match="four eyes"):
        moves.approve(session, wf_engine, users["admin"], move_id, now=T0 + timedelta(hours=2))
    with pytest.raises(Forbidden):
        moves.approve(session, wf_engine, users["ser"], move_id, now=T0 + timedelta(hours=2))
    assert _state(session, instance_id) == before
    assert session.get(TokenMove, move_id).status == "pending"

    applied, result = moves.approve(session, wf_engine, admin2, move_id, note="agreed with the SER",
                                    now=T0 + timedelta(hours=2))
    assert applied.status == "applied" and applied.decided_by_id == admin2.id
    [prepare] = _ready(session, instance_id)
    assert prepare.name == "Prepare the plan" and prepare.task_id != approve.task_id
    assert session.get(HumanTask, approve.id).state == "cancelled"
    reopened = bound(wf_engine, session).get_task(instance_id, prepare.task_id)
    assert reopened.data["plan"] == "grow together"  # the reopened form shows what was submitted
    [approved] = _events(session, instance_id, "instance.move_approved")
    assert approved.actor == "admin2" and approved.payload["note"] == "agreed with the SER"
    [moved] = _events(session, instance_id, "token.moved")
    assert moved.actor == "admin2" and moved.payload["reason"] == "the plan missed the budget"
    assert [e.task_id for e in _events(session, instance_id, "task.cancelled")] == [approve.task_id]
    assert _events(session, instance_id, "task.created")[-1].task_id == prepare.task_id
    with pytest.raises(BadRequest, match="applied already"):
        moves.approve(session, wf_engine, admin2, move_id)

    # the reopened task is worked as any other: the instance runs to its end
    process_services.complete_task(session, wf_engine, user=users["staff"], human_task_id=prepare.id,
                                   data={"plan": "grow within budget"}, now=T0 + timedelta(hours=3))
    [approve_again] = _ready(session, instance_id)
    process_services.complete_task(session, wf_engine, user=users["ser"], human_task_id=approve_again.id,
                                   data={"decision": "approve"}, now=T0 + timedelta(hours=4))
    session.expire_all()
    assert session.get(ProcessInstance, instance_id).status == "completed"


def test_a_waiting_task_is_skipped_once_approved(session, wf_engine, users, version, admin2):
    started = process_services.start_instance(session, wf_engine, user=users["staff"], process_id="approval",
                                              now=T0)
    [prepare] = _ready(session, started.instance_id)
    move = moves.propose(session, wf_engine, admin2, started.instance_id, prepare.id, None,
                         reason="the plan was agreed on paper", now=T0)
    assert move.preview["completed"] == ["Prepare the plan"] and move.preview["withdrawn"] == []
    assert [t["name"] for t in move.preview["ready"]] == ["Approve the plan"] and move.preview["how"] == "skip"
    moves.approve(session, wf_engine, users["admin"], move.id, now=T0)
    assert [t.name for t in _ready(session, started.instance_id)] == ["Approve the plan"]
    assert session.get(HumanTask, prepare.id).state == "completed"


def test_a_rejected_move_changes_nothing(session, wf_engine, users, version, admin2):
    instance_id = _prepared(session, wf_engine, users)
    [approve] = _ready(session, instance_id)
    move = moves.propose(session, wf_engine, users["admin"], instance_id, approve.id, "prepare", reason="budget",
                         now=T0)
    before = _state(session, instance_id)
    with pytest.raises(BadRequest):
        moves.reject(session, admin2, move.id, reason="", now=T0)
    with pytest.raises(Forbidden):
        moves.reject(session, users["staff"], move.id, reason="no", now=T0)
    rejected = moves.reject(session, admin2, move.id, reason="the SER will send it back herself", now=T0)
    assert rejected.status == "rejected" and _state(session, instance_id) == before
    [event] = _events(session, instance_id, "instance.move_rejected")
    assert event.actor == "admin2" and event.payload["rejected_because"] == "the SER will send it back herself"
    assert moves.moves(session) == []
    with pytest.raises(BadRequest, match="rejected already"):
        moves.approve(session, wf_engine, users["admin"], move.id)


def test_a_move_is_outdated_once_the_instance_moved_on(session, wf_engine, users, version, admin2):
    started = process_services.start_instance(session, wf_engine, user=users["staff"], process_id="approval",
                                              now=T0)
    [prepare] = _ready(session, started.instance_id)
    move = moves.propose(session, wf_engine, users["admin"], started.instance_id, prepare.id, None,
                         reason="agreed on paper", now=T0)
    process_services.complete_task(session, wf_engine, user=users["staff"], human_task_id=prepare.id,
                                   data={"plan": "grow"}, now=T0 + timedelta(minutes=5))
    before = _state(session, started.instance_id)
    with pytest.raises(Conflict, match="outdated"):
        moves.approve(session, wf_engine, admin2, move.id, now=T0 + timedelta(minutes=10))
    assert _state(session, started.instance_id) == before
    session.expire_all()
    assert session.get(TokenMove, move.id).status == "outdated"
    assert len(_events(session, started.instance_id, "instance.move_outdated")) == 1


def test_a_move_of_an_instance_cancelled_since_is_outdated(session, wf_engine, users, version, admin2):
    instance_id = _prepared(session, wf_engine, users)
    [approve] = _ready(session, instance_id)
    move = moves.propose(session, wf_engine, users["admin"], instance_id, approve.id, "prepare", reason="budget",
                         now=T0)
    process_services.cancel_instance(session, wf_engine, user=admin2, instance_id=instance_id, reason="dropped",
                                     now=T0)
    with pytest.raises(Conflict, match="outdated"):
        moves.approve(session, wf_engine, admin2, move.id, now=T0)
    session.expire_all()
    assert session.get(TokenMove, move.id).status == "outdated" and moves.moves(session) == []


def test_moves_the_engine_cannot_make_are_refused_and_change_nothing(session, wf_engine, users, version):
    instance_id = _prepared(session, wf_engine, users)
    [approve] = _ready(session, instance_id)
    admin = users["admin"]
    before = _state(session, instance_id)
    with pytest.raises(MoveRefused, match="has not been done"):  # forward to an element not reached
        moves.propose(session, wf_engine, admin, instance_id, approve.id, "record", reason="jump", now=T0)
    with pytest.raises(MoveRefused, match="cannot make this move"):  # the gateway after it needs the decision
        moves.propose(session, wf_engine, admin, instance_id, approve.id, None, reason="skip it", now=T0)
    with pytest.raises(Forbidden):
        moves.propose(session, wf_engine, users["staff"], instance_id, approve.id, "prepare", reason="x", now=T0)
    with pytest.raises(BadRequest):
        moves.propose(session, wf_engine, admin, instance_id, approve.id, "prepare", reason=" ", now=T0)
    with pytest.raises(NotFound):
        moves.propose(session, wf_engine, admin, instance_id, 999_999, "prepare", reason="x", now=T0)
    prepared = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                      HumanTask.state == "completed"))
    with pytest.raises(BadRequest, match="completed"):
        moves.propose(session, wf_engine, admin, instance_id, prepared.id, None, reason="x", now=T0)
    other = _prepared(session, wf_engine, users)
    with pytest.raises(NotFound):
        moves.propose(session, wf_engine, admin, other, approve.id, "prepare", reason="x", now=T0)
    operations.suspend(session, admin, instance_id, reason="hold", now=T0)
    with pytest.raises(Suspended):
        moves.propose(session, wf_engine, admin, instance_id, approve.id, "prepare", reason="x", now=T0)
    assert _state(session, instance_id)[1:] == before[1:]
    assert session.scalar(select(TokenMove.id)) is None
    assert _events(session, instance_id, "instance.move_proposed") == []


def test_reopening_a_stage_done_before_runs_it_again(session, wf_engine, users, lifecycle, admin2):
    from app.relationships import services as relationships
    rel = relationships.start(session, wf_engine, users["staff"], title="ACME", partner="ACME Ltd", now=T0)
    [policy] = _ready(session, rel.instance_id)
    process_services.complete_task(session, wf_engine, user=users["staff"], human_task_id=policy.id, now=T0,
                                   data={"policy_text": "We collaborate.", "approved_on": "2026-01-15",
                                         "scope": "division", "channels": ["email"], "improvement": True,
                                         "communications": [{"audience": "All staff", "channel": "briefing"}]})
    [gate] = _ready(session, rel.instance_id)
    process_services.complete_task(session, wf_engine, user=users["ser"], human_task_id=gate.id,
                                   data={"decision": "approve"}, now=T0)
    [case] = _ready(session, rel.instance_id)
    assert case.name == "Write the business case"
    done = {d.bpmn_id: d for d in moves.done_elements(session, wf_engine, rel.instance_id)}
    assert done["lc_stage1"].kind == "subprocess" and "s1_gate" in done and "s1_policy" in done

    move = moves.propose(session, wf_engine, users["admin"], rel.instance_id, case.id, "lc_stage1",
                         reason="the policy changed", now=T0 + timedelta(days=1))
    assert move.preview["withdrawn"] == ["Write the business case"]
    assert [t["name"] for t in move.preview["ready"]] == ["Write the policy"]
    moves.approve(session, wf_engine, admin2, move.id, now=T0 + timedelta(days=1))
    [again] = _ready(session, rel.instance_id)
    assert again.name == "Write the policy" and again.task_id != policy.task_id
    assert session.get(HumanTask, case.id).state == "cancelled"


def test_a_task_of_a_stage_done_before_is_reopened_inside_it(session, wf_engine, users, lifecycle, admin2):
    from app.relationships import services as relationships
    rel = relationships.start(session, wf_engine, users["staff"], title="ACME", partner="ACME Ltd", now=T0)
    [policy] = _ready(session, rel.instance_id)
    process_services.complete_task(session, wf_engine, user=users["staff"], human_task_id=policy.id, now=T0,
                                   data={"policy_text": "We collaborate.", "approved_on": "2026-01-15",
                                         "scope": "division", "channels": ["email"], "improvement": True,
                                         "communications": [{"audience": "All staff", "channel": "briefing"}]})
    [gate] = _ready(session, rel.instance_id)
    process_services.complete_task(session, wf_engine, user=users["ser"], human_task_id=gate.id,
                                   data={"decision": "approve"}, now=T0)
    [case] = _ready(session, rel.instance_id)
    move = moves.propose(session, wf_engine, users["admin"], rel.instance_id, case.id, "s1_gate",
                         reason="approved by mistake", now=T0)
    assert [t["name"] for t in move.preview["ready"]] == ["SER approval: Awareness"]
    moves.approve(session, wf_engine, admin2, move.id, now=T0)
    [gate_again] = _ready(session, rel.instance_id)
    assert gate_again.name == "SER approval: Awareness" and gate_again.task_id != gate.task_id
    process_services.complete_task(session, wf_engine, user=users["ser"], human_task_id=gate_again.id,
                                   data={"decision": "approve"}, now=T0 + timedelta(hours=1))
    assert [t.name for t in _ready(session, rel.instance_id)] == ["Write the business case"]


def test_engine_refuses_to_skip_what_is_not_a_failed_script(session, wf_engine, users, version):
    instance_id = _prepared(session, wf_engine, users)
    engine = bound(wf_engine, session)
    with pytest.raises(MoveRefused, match="not a script task"):
        engine.skip_script(instance_id, "approve")
    with pytest.raises(TaskNotReady, match="does not reach"):
        engine.skip_script(instance_id, "record")
    session.rollback()


def test_stage_4_of_the_bundled_lifecycle_is_reopened_from_stage_5(session, services, users, working_together,
                                                                   admin2):
    """The real lifecycle: stage 5 runs inside a call activity with an interrupting exit-trigger boundary event;
    reopening stage 4 withdraws stage 5's work and starts stage 4 again."""
    from app.lifecycle.services import current_stage
    rel = working_together.instance_id
    [waiting] = _ready(session, rel)
    assert waiting.process_id == "stage5_working_together"
    stages = [d.bpmn_id for d in moves.done_elements(session, services.workflows, rel) if d.kind == "subprocess"]
    assert "lc_stage4" in stages
    move = moves.propose(session, services.workflows, users["admin"], rel, waiting.id, "lc_stage4",
                         reason="the partner withdrew its offer", now=working_together.now)
    assert move.preview["withdrawn"] == [waiting.name]
    moves.approve(session, services.workflows, admin2, move.id, now=working_together.now)
    assert {t.process_id for t in _ready(session, rel)} == {"stage4_partner_selection"}
    assert current_stage(session, rel) == 4
