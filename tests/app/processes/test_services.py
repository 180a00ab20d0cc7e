"""Process services through the real database and engine: one transaction per action, audit events,
authorization, form validation, four eyes, timers, and refusals that change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.errors import BadRequest, Forbidden
from app.processes import services
from app.processes.forms import form_schema
from app.processes.models import HumanTask, ProcessInstance, ProcessVersion, Timer
from tests.support.bpmn import script_process
from tests.support.bundles import T0, read_test_bundle
from tests.support.driver import fill_form
from workflows import Conflict, InvalidData, TaskNotReady, ValidationFailed


def ready_rows(session, instance_id):
    session.expire_all()
    return list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.state == "ready").order_by(HumanTask.id)))


def actions(session, instance_id=None):
    query = select(AuditEvent.action, AuditEvent.actor).order_by(AuditEvent.id)
    if instance_id is not None:
        query = query.where(AuditEvent.instance_id == instance_id)
    return [tuple(row) for row in session.execute(query)]


def start(session, wf_engine, users, process_id="approval", data=None, now=T0):
    return services.start_instance(session, wf_engine, user=users["staff"], process_id=process_id,
                                   data=data or {}, title="ACME", now=now)


def test_deploy_stores_an_immutable_version_and_audits_it(session, version, users):
    assert version.process_ids == ["approval", "child", "parent", "reminders", "timers"]
    assert {f.name for f in version.files} >= {"approval.bpmn", "note.schema.json"}
    assert actions(session)[-1] == ("version.deployed", "owner")


def test_a_rejected_deploy_changes_nothing(session, wf_engine, version, users):
    files, forms = read_test_bundle()
    with pytest.raises(ValidationFailed) as refused:
        services.deploy_version(session, wf_engine, {**files, "evil.bpmn": script_process("import os")}, forms,
                                user=users["owner"])
    assert refused.value.problems[0].file == "evil.bpmn"
    assert session.scalar(select(func.count()).select_from(ProcessVersion)) == 1


def test_only_process_owners_deploy(session, wf_engine, users, version):
    with pytest.raises(Forbidden):
        services.deploy_version(session, wf_engine, *read_test_bundle(), user=users["staff"])


def test_start_writes_the_instance_its_task_rows_and_audit(session, wf_engine, users, version):
    result = start(session, wf_engine, users, data={"partner": "ACME"})
    instance = session.get(ProcessInstance, result.instance_id)
    assert (instance.status, instance.revision, instance.title, instance.started_by_id) == \
        ("running", 1, "ACME", users["staff"].id)
    (row,) = ready_rows(session, result.instance_id)
    assert (row.name, row.lane, row.role, row.form_key, row.state) == \
        ("Prepare the plan", "Staff", "staff", "prepare.schema.json", "ready")
    assert actions(session, result.instance_id) == [("task.created", "staff"), ("instance.started", "staff")]


def test_complete_moves_the_rows_and_records_who(session, wf_engine, users, version):
    result = start(session, wf_engine, users)
    (row,) = ready_rows(session, result.instance_id)
    services.complete_task(session, wf_engine, user=users["staff"], human_task_id=row.id,
                           data={"plan": "grow"}, now=T0 + timedelta(hours=1))
    session.expire_all()
    done = session.get(HumanTask, row.id)
    assert (done.state, done.completed_by_id, done.completed_at) == ("completed", users["staff"].id,
                                                                     T0 + timedelta(hours=1))
    assert done.submitted == {"plan": "grow"}
    (approve,) = ready_rows(session, result.instance_id)
    assert (approve.name, approve.role) == ("Approve the plan", "ser")
    assert ("task.completed", "staff") in actions(session, result.instance_id)


def test_form_errors_are_per_field_and_change_nothing(session, wf_engine, users, version):
    result = start(session, wf_engine, users)
    (row,) = ready_rows(session, result.instance_id)
    for data, field in (({}, "plan"), ({"plan": 7}, "plan"), ({"plan": "x", "current_stage": 8}, "current_stage")):
        with pytest.raises(InvalidData) as refused:
            services.complete_task(session, wf_engine, user=users["staff"], human_task_id=row.id, data=data)
        assert field in refused.value.details["errors"]
    session.expire_all()
    assert session.get(ProcessInstance, result.instance_id).revision == 1
    assert ready_rows(session, result.instance_id)[0].id == row.id


def test_staff_cannot_complete_ser_tasks_and_assessors_change_nothing(session, wf_engine, users, version):
    result = start(session, wf_engine, users)
    (row,) = ready_rows(session, result.instance_id)
    with pytest.raises(Forbidden, match="assessors"):
        services.complete_task(session, wf_engine, user=users["assessor"], human_task_id=row.id, data={"plan": "x"})
    services.complete_task(session, wf_engine, user=users["staff"], human_task_id=row.id, data={"plan": "x"})
    (approve,) = ready_rows(session, result.instance_id)
    with pytest.raises(Forbidden, match="needs the role 'ser'"):
        services.complete_task(session, wf_engine, user=users["staff2"], human_task_id=approve.id,
                               data={"decision": "approve"})
    with pytest.raises(Forbidden, match="our organisation"):
        services.complete_task(session, wf_engine, user=users["pser"], human_task_id=approve.id,
                               data={"decision": "approve"})
    services.complete_task(session, wf_engine, user=users["ser"], human_task_id=approve.id,
                           data={"decision": "approve"})
    assert session.get(ProcessInstance, result.instance_id).status == "completed"


def test_four_eyes_the_preparer_cannot_approve(session, wf_engine, users, version):
    from app.auth.services import create_user
    both = create_user(session, "both", password="x", roles=["staff", "ser"], organisation="Us")
    result = start(session, wf_engine, users)
    (row,) = ready_rows(session, result.instance_id)
    services.complete_task(session, wf_engine, user=both, human_task_id=row.id, data={"plan": "mine"})
    (approve,) = ready_rows(session, result.instance_id)
    approve.approval_gate = True  # the lifecycle's gates carry approvalGate=true; this fixture's does not
    session.commit()
    with pytest.raises(Forbidden, match="four eyes"):
        services.complete_task(session, wf_engine, user=both, human_task_id=approve.id, data={"decision": "approve"})
    services.complete_task(session, wf_engine, user=users["ser"], human_task_id=approve.id,
                           data={"decision": "approve"})


def test_completing_a_done_task_is_refused(session, wf_engine, users, version):
    result = start(session, wf_engine, users)
    (row,) = ready_rows(session, result.instance_id)
    services.complete_task(session, wf_engine, user=users["staff"], human_task_id=row.id, data={"plan": "x"})
    with pytest.raises(TaskNotReady):
        services.complete_task(session, wf_engine, user=users["staff"], human_task_id=row.id, data={"plan": "y"})


def test_stale_revision_is_a_conflict_and_nothing_is_written(session, wf_engine, users, version):
    result = start(session, wf_engine, users)
    (row,) = ready_rows(session, result.instance_id)
    with pytest.raises(Conflict):
        services.complete_task(session, wf_engine, user=users["staff"], human_task_id=row.id, data={"plan": "x"},
                               expected_revision=0)
    session.expire_all()
    assert session.get(HumanTask, row.id).state == "ready"
    assert session.get(ProcessInstance, result.instance_id).revision == 1


def test_fire_due_timers_loads_only_due_instances(session, wf_engine, users, version):
    due = start(session, wf_engine, users, process_id="timers", data={"limit": "P5D"})
    later = start(session, wf_engine, users, process_id="timers", data={"limit": "P30D"})
    rows = {row.instance_id: row.due_at for row in session.execute(select(Timer.instance_id, Timer.due_at))}
    assert rows == {due.instance_id: T0 + timedelta(days=5), later.instance_id: T0 + timedelta(days=30)}
    fired = services.fire_due_timers(session, wf_engine, now=T0 + timedelta(days=6))
    assert [r.instance_id for r in fired] == [due.instance_id]
    assert [r.name for r in ready_rows(session, due.instance_id)] == ["Resolve at level 2"]
    assert ("timer.fired", "scheduler") in actions(session, due.instance_id)
    assert session.get(HumanTask, ready_rows(session, later.instance_id)[0].id).name == "Resolve at level 1"
    assert services.fire_due_timers(session, wf_engine, now=T0 + timedelta(days=6)) == []


def test_linked_instances_are_rows_with_a_parent(session, wf_engine, users, version):
    parent = start(session, wf_engine, users, process_id="parent")
    child = session.scalar(select(ProcessInstance).where(ProcessInstance.parent_id == parent.instance_id))
    assert child.process_id == "child" and child.status == "running"
    assert session.scalar(select(Timer.due_at).where(Timer.instance_id == child.id)).month == 4
    services.send_signal(session, wf_engine, user=users["jmt"], instance_id=parent.instance_id,
                         name="exit_trigger", payload={"reason": "insolvency"})
    assert [r.name for r in ready_rows(session, parent.instance_id)] == ["Review the exit trigger"]
    assert ("signal.received", "jmt") in actions(session, parent.instance_id)


def test_migrate_with_dry_run_record_and_undo(session, wf_engine, users, version):
    from app.processes import versioning
    from app.processes.models import InstanceMove
    from tests.support.versions import version_2
    fresh = start(session, wf_engine, users)                 # both on version 1
    later = start(session, wf_engine, users)
    (row,) = ready_rows(session, later.instance_id)
    services.complete_task(session, wf_engine, user=users["staff"], human_task_id=row.id, data={"plan": "p"})
    files, forms = read_test_bundle()
    v2, _, _ = services.deploy_version(session, wf_engine, version_2(files), forms, user=users["owner"], now=T0)

    with pytest.raises(Forbidden):
        versioning.dry_run(session, wf_engine, user=users["staff"], to_version_id=v2.id)
    rows = {r.instance_id: r.verdict for r in versioning.dry_run(session, wf_engine, user=users["owner"],
                                                                  to_version_id=v2.id)}
    assert rows[fresh.instance_id].can_migrate and rows[later.instance_id].can_migrate

    seen = []
    outcome = versioning.migrate(session, wf_engine, user=users["owner"], instance_ids=[fresh.instance_id],
                                 to_version_id=v2.id, now=T0, progress=lambda d, t: seen.append((d, t)))
    assert outcome == {fresh.instance_id: None} and seen == [(1, 1)]
    session.expire_all()
    assert session.get(ProcessInstance, fresh.instance_id).version_id == v2.id
    assert ("instance.migrated", "owner") in actions(session, fresh.instance_id)

    move = session.scalar(select(InstanceMove).where(InstanceMove.instance_id == fresh.instance_id))
    versioning.undo(session, wf_engine, user=users["owner"], move_id=move.id, now=T0)
    session.expire_all()
    assert session.get(ProcessInstance, fresh.instance_id).version_id == version.id
    assert ("instance.restored", "owner") in actions(session, fresh.instance_id)


def test_roll_back_redeploys_an_old_version_as_a_new_one(session, wf_engine, users, version):
    from app.processes import versioning
    from tests.support.versions import version_2
    files, forms = read_test_bundle()
    v2, _, _ = services.deploy_version(session, wf_engine, version_2(files), forms, user=users["owner"], now=T0)
    assert not versioning.compare(session, wf_engine, version.id, v2.id).empty
    v3 = versioning.roll_back(session, wf_engine, user=users["owner"], version_id=version.id,
                              message="version 2 was a mistake", now=T0)
    assert v3.id > v2.id and v3.content_hash == version.content_hash
    assert versioning.compare(session, wf_engine, version.id, v3.id).empty


def test_deploy_refuses_unmapped_lanes_and_unknown_requirement_ids(session, wf_engine, users, version):
    files, forms = read_test_bundle()
    bad = files["approval.bpmn"].replace(b'name="SER"', b'name="Board"').replace(b"S1.02,S1.03", b"S1.02,S9.99")
    with pytest.raises(ValidationFailed) as refused:
        services.deploy_version(session, wf_engine, {**files, "approval.bpmn": bad}, forms, user=users["owner"])
    messages = {(p.element_id, p.message) for p in refused.value.problems}
    assert ("approve", "the lane 'Board' is not mapped to a role: map it when deploying (lanes known: Staff, SER, "
                       "Joint management team, Joint operational team, Partner SER, Top management)") in messages
    assert ("prepare", "requirement id 'S9.99' is not in the requirements catalogue") in messages
    assert all(p.file == "approval.bpmn" and p.line for p in refused.value.problems if p.severity == "error")
    assert session.scalar(select(func.count()).select_from(ProcessVersion)) == 1


def test_a_lane_mapped_when_deploying_routes_its_tasks_and_the_next_version_keeps_it(session, wf_engine, users,
                                                                                      version):
    files, forms = read_test_bundle()
    boarded = {**files, "approval.bpmn": files["approval.bpmn"].replace(b'name="SER"', b'name="Board"')}
    with pytest.raises(BadRequest, match="'Board' is mapped to 'chair', which is not a role"):
        services.deploy_version(session, wf_engine, boarded, forms, user=users["owner"], lane_roles={"Board": "chair"})
    mapped, _, _ = services.deploy_version(session, wf_engine, boarded, forms, user=users["owner"],
                                           lane_roles={"Board": "top_management"}, now=T0)
    assert mapped.lane_roles == {"Board": {"role": "top_management", "partner_side": False}}
    again, _, _ = services.deploy_version(session, wf_engine, boarded, forms, user=users["owner"], now=T0)
    assert again.lane_roles == mapped.lane_roles, "a new version keeps the mapping it builds on"

    started = services.start_instance(session, wf_engine, user=users["staff"], process_id="approval", now=T0)
    prepare = session.scalars(select(HumanTask).where(HumanTask.instance_id == started.instance_id)).one()
    services.complete_task(session, wf_engine, user=users["staff"], human_task_id=prepare.id,
                           data=fill_form(form_schema(session, again.id, prepare.form_key), {}), now=T0)
    session.expire_all()
    gate = session.scalars(select(HumanTask).where(HumanTask.instance_id == started.instance_id,
                                                   HumanTask.state == "ready")).one()
    assert (gate.lane, gate.role) == ("Board", "top_management")
