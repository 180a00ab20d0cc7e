"""The operations console: an instance whose timer script failed is listed with where it failed; an administrator
deploys a fix, moves it to the fixed version and retries, and it goes on; a retry without a fix fails again and
says so; stuck instances are listed; everyone else is refused."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import utcnow
from app.processes import operations
from app.processes import services as process_services
from app.processes.models import HumanTask, ProcessInstance, TokenMove
from tests.support.failing_timer import failing_timer

BROKEN, FIXED = "figure = missing_name + 1", "figure = 41 + 1"


def _deploy(session, wf_engine, users, version, script):
    files = {f.name: f.content for f in version.files if f.kind == "bpmn"}
    forms = {f.name: f.content for f in version.files if f.kind == "form"}
    files["failing_timer.bpmn"] = failing_timer(script)
    deployed, _warnings, _ = process_services.deploy_version(session, wf_engine, files, forms, user=users["owner"],
                                                             message=f"failing timer: {script}")
    return deployed


def test_a_failed_instance_is_fixed_moved_and_retried_from_the_console(session, wf_engine, users, version,
                                                                       signed_in):
    first = _deploy(session, wf_engine, users, version, BROKEN)
    started = process_services.start_instance(session, wf_engine, user=users["staff"], process_id="failing_timer",
                                              title="Figure run")
    process_services.fire_due_timers(session, wf_engine, now=utcnow() + timedelta(seconds=1))
    [failed] = operations.failed_instances(session)
    assert (failed.instance.id, failed.task, failed.element_id) == (started.instance_id, "Compute the figure",
                                                                     "compute")
    assert "missing_name" in failed.instance.error and failed.newer_version_id is None
    assert operations.counts(session)["failed"] == 1

    admin = signed_in("admin")
    page = admin.get("/operations").get_data(as_text=True)
    assert f'data-instance="{started.instance_id}"' in page and "Compute the figure" in page
    assert signed_in("staff").get("/operations").status_code == 403
    assert 'data-figure="failed-instances"' in admin.get("/dashboard").get_data(as_text=True)

    admin.post(f"/operations/{started.instance_id}/retry", {}, page="/operations")
    again = admin.get("/operations")
    assert "failed again" in again.get_data(as_text=True)
    session.expire_all()
    assert session.get(ProcessInstance, started.instance_id).error is not None

    fixed = _deploy(session, wf_engine, users, first, FIXED)
    assert operations.failed_instances(session)[0].newer_version_id == fixed.id
    went = admin.post(f"/operations/{started.instance_id}/retry", {"to_version": str(fixed.id)}, page="/operations",
                      follow_redirects=True)
    assert "went on" in went.get_data(as_text=True)
    session.expire_all()
    instance = session.get(ProcessInstance, started.instance_id)
    assert instance.error is None and instance.version_id == fixed.id
    assert session.scalar(select(HumanTask.name).where(HumanTask.instance_id == instance.id,
                                                       HumanTask.state == "ready")) == "Check the figure"
    assert operations.failed_instances(session) == []
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == instance.id)).all()
    assert actions.count("instance.retried") == 2 and actions.count("instance.error") == 2


def test_a_stuck_instance_is_listed_and_cancelled_with_a_reason(session, wf_engine, users, version, signed_in):
    started = process_services.start_instance(session, wf_engine, user=users["staff"], process_id="approval")
    session.expire_all()
    session.query(HumanTask).filter(HumanTask.instance_id == started.instance_id).delete()  # a lost task row
    session.commit()
    assert [i.id for i in operations.stuck_instances(session)] == [started.instance_id]
    admin = signed_in("admin")
    assert admin.post(f"/operations/{started.instance_id}/cancel", {"reason": ""}, page="/operations") \
        .status_code == 400
    done = admin.post(f"/operations/{started.instance_id}/cancel", {"reason": "task row lost in a restore"},
                      page="/operations")
    assert done.status_code == 302
    session.expire_all()
    assert session.get(ProcessInstance, started.instance_id).status == "cancelled"
    assert operations.stuck_instances(session) == []


def _admin2(session, users):
    from app.auth.services import create_user
    users["admin2"] = create_user(session, "admin2", password=None, roles=["admin"], organisation="Us",
                                  organisation_kind="own")
    return users["admin2"]


def test_the_console_skips_a_failed_script_task_with_a_reason(session, wf_engine, users, version, signed_in):
    _deploy(session, wf_engine, users, version, BROKEN)
    started = process_services.start_instance(session, wf_engine, user=users["staff"], process_id="failing_timer",
                                              title="Figure run")
    process_services.fire_due_timers(session, wf_engine, now=utcnow() + timedelta(seconds=1))
    admin = signed_in("admin")
    page = admin.get("/operations").get_data(as_text=True)
    assert "Skip Compute the figure" in page
    url = f"/operations/{started.instance_id}/skip"
    assert admin.post(url, {"reason": " "}, page="/operations").status_code == 400
    assert signed_in("staff").post(url, {"reason": "hurry"}, page="/inbox").status_code == 403
    session.expire_all()
    assert session.get(ProcessInstance, started.instance_id).error is not None
    went = admin.post(url, {"reason": "figure entered by hand"}, page="/operations", follow_redirects=True)
    assert "skipped and the instance went on" in went.get_data(as_text=True)
    session.expire_all()
    assert session.get(ProcessInstance, started.instance_id).error is None
    assert session.scalar(select(HumanTask.name).where(HumanTask.instance_id == started.instance_id,
                                                       HumanTask.state == "ready")) == "Check the figure"


def test_the_console_suspends_and_resumes_an_instance(session, wf_engine, users, version, signed_in):
    started = process_services.start_instance(session, wf_engine, user=users["staff"], process_id="approval")
    admin = signed_in("admin")
    panel = admin.get(f"/operations?instance={started.instance_id}").get_data(as_text=True)
    assert 'id="suspend-form"' in panel and "Prepare the plan" in panel
    assert "There is no instance #999999" in admin.get("/operations?instance=999999").get_data(as_text=True)
    url = f"/operations/{started.instance_id}/suspend"
    assert admin.post(url, {"reason": ""}, page="/operations").status_code == 400
    done = admin.post(url, {"reason": "waiting for legal"}, page="/operations", follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "is suspended" in page and 'id="suspended"' in page and "waiting for legal" in page
    task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == started.instance_id))
    staff = signed_in("staff")
    shown = staff.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'id="refusal"' in shown and "waiting for legal" in shown
    refused = staff.post(f"/tasks/{task_id}", {"f.plan": "grow"}, page=f"/tasks/{task_id}")
    assert refused.status_code == 409 and "suspended" in refused.get_data(as_text=True)
    again = admin.post(f"/operations/{started.instance_id}/resume", {"reason": ""}, page="/operations",
                       follow_redirects=True)
    assert "is resumed" in again.get_data(as_text=True)
    session.expire_all()
    assert session.get(ProcessInstance, started.instance_id).suspended_at is None


def test_the_console_proposes_a_move_on_a_dry_run_and_another_administrator_approves_it(
        session, wf_engine, users, version, signed_in):
    _admin2(session, users)
    started = process_services.start_instance(session, wf_engine, user=users["staff"], process_id="approval")
    instance_id = started.instance_id
    prepare = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
    process_services.complete_task(session, wf_engine, user=users["staff"], human_task_id=prepare.id,
                                   data={"plan": "grow"})
    approve = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.state == "ready"))
    revision = session.get(ProcessInstance, instance_id).revision
    admin = signed_in("admin")
    panel = f"/operations?instance={instance_id}"
    form = {"task": str(approve.id), "to": "prepare", "reason": "the budget is missing"}
    dry = admin.post(f"/operations/{instance_id}/moves/dry-run", form, page=panel)
    html = dry.get_data(as_text=True)
    assert dry.status_code == 200 and 'id="dry-run"' in html and "nothing was changed" in html
    assert "Withdrawn</dt><dd>Approve the plan" in html and "the budget is missing" in html
    assert admin.post(f"/operations/{instance_id}/moves/dry-run", {**form, "to": "record"},
                      page=panel).status_code == 409
    assert admin.post(f"/operations/{instance_id}/moves", {**form, "task": "x"}, page=panel).status_code == 400
    session.expire_all()
    assert session.get(ProcessInstance, instance_id).revision == revision

    proposed = admin.post(f"/operations/{instance_id}/moves", form, page=panel, follow_redirects=True)
    html = proposed.get_data(as_text=True)
    assert "another administrator must approve it" in html and "You proposed it" in html
    move_id = session.scalar(select(TokenMove.id))
    assert admin.post(f"/operations/moves/{move_id}/approve", {}, page="/operations").status_code == 403
    other = signed_in("admin2")
    assert f"Approve move {move_id}" in other.get("/operations").get_data(as_text=True)
    applied = other.post(f"/operations/moves/{move_id}/approve", {"note": "ok"}, page="/operations",
                         follow_redirects=True)
    assert "approved and made" in applied.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(HumanTask.name).where(HumanTask.instance_id == instance_id,
                                                       HumanTask.state == "ready")) == "Prepare the plan"
    assert session.get(TokenMove, move_id).status == "applied"
