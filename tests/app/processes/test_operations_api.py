"""The operations console's API: listed in the OpenAPI document; administrators skip a failed script task, suspend
and resume, and move a token after a dry run with a second administrator's approval; everyone else is refused with
403 and changes nothing; bad input is refused in the one error shape and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.processes import services as process_services
from app.processes.models import HumanTask, ProcessInstance, TokenMove
from tests.support.api import ERROR_KEYS, events, snapshot
from tests.support.failing_timer import failing_timer

PATHS = [("/api/v1/operations", "get"), ("/api/v1/operations/instances/{instance_id}", "get"),
         ("/api/v1/operations/instances/{instance_id}/retry", "post"),
         ("/api/v1/operations/instances/{instance_id}/skip", "post"),
         ("/api/v1/operations/instances/{instance_id}/cancel", "post"),
         ("/api/v1/operations/instances/{instance_id}/suspend", "post"),
         ("/api/v1/operations/instances/{instance_id}/resume", "post"),
         ("/api/v1/operations/instances/{instance_id}/moves/dry-run", "post"),
         ("/api/v1/operations/instances/{instance_id}/moves", "post"), ("/api/v1/operations/moves", "get"),
         ("/api/v1/operations/moves/{move_id}/approve", "post"),
         ("/api/v1/operations/moves/{move_id}/reject", "post")]


@pytest.fixture
def admin2(session, users):
    from app.auth.services import create_user
    users["admin2"] = create_user(session, "admin2", password=None, roles=["admin"], organisation="Us",
                                  organisation_kind="own")
    return users["admin2"]


@pytest.fixture
def prepared(session, wf_engine, users, version):
    """The approval process with its plan prepared -> (instance id, the waiting 'Approve the plan' task's id)."""
    started = process_services.start_instance(session, wf_engine, user=users["staff"], process_id="approval")
    prepare = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == started.instance_id))
    process_services.complete_task(session, wf_engine, user=users["staff"], human_task_id=prepare,
                                   data={"plan": "grow"})
    approve = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == started.instance_id,
                                                        HumanTask.state == "ready"))
    return started.instance_id, approve


def _unchanged(session):
    state = snapshot(session)
    state["held"] = sorted(session.execute(select(ProcessInstance.id, ProcessInstance.suspended_at)).all())
    state["moves"] = sorted(session.execute(select(TokenMove.id, TokenMove.status)).all())
    return state


def test_the_openapi_document_lists_the_operations(api):
    paths = api("admin").get("openapi.json").get_json()["paths"]
    for path, method in PATHS:
        assert method in paths[path], path


@pytest.mark.parametrize("role", ["staff", "ser", "owner", "assessor", "top"])
def test_everyone_but_administrators_is_refused_and_nothing_changes(api, session, prepared, role):
    instance_id, task_id = prepared
    client = api(role)
    before, refusals = _unchanged(session), events(session, "api.forbidden")
    calls = [("GET", "operations", None), ("GET", f"operations/instances/{instance_id}", None),
             ("POST", f"operations/instances/{instance_id}/suspend", {"reason": "x"}),
             ("POST", f"operations/instances/{instance_id}/resume", {}),
             ("POST", f"operations/instances/{instance_id}/skip", {"reason": "x"}),
             ("POST", f"operations/instances/{instance_id}/cancel", {"reason": "x"}),
             ("POST", f"operations/instances/{instance_id}/retry", {}),
             ("POST", f"operations/instances/{instance_id}/moves/dry-run", {"task_id": task_id, "to_element": "prepare"}),
             ("POST", f"operations/instances/{instance_id}/moves",
              {"task_id": task_id, "to_element": "prepare", "reason": "x"}),
             ("GET", "operations/moves", None), ("POST", "operations/moves/1/approve", {}),
             ("POST", "operations/moves/1/reject", {"reason": "x"})]
    for method, path, body in calls:
        response = client.call(method, path, body)
        assert response.status_code == 403, (path, response.get_json())
        assert set(response.get_json()) == ERROR_KEYS
    assert _unchanged(session) == before
    assert events(session, "api.forbidden") == refusals + len(calls)


def test_a_move_through_the_api_needs_a_second_administrator(api, session, prepared, admin2):
    instance_id, task_id = prepared
    admin = api("admin")
    detail = admin.get(f"operations/instances/{instance_id}").get_json()
    assert [t["id"] for t in detail["waiting_tasks"]] == [task_id]
    assert [d["bpmn_id"] for d in detail["done_elements"]] == ["prepare"]
    before = _unchanged(session)

    dry = admin.post(f"operations/instances/{instance_id}/moves/dry-run", {"task_id": task_id, "to_element": "prepare"})
    assert dry.status_code == 200 and dry.get_json()["withdrawn"] == ["Approve the plan"]
    bad = [({"task_id": task_id, "to_element": "prepare"}, 422),  # no reason
           ({"task_id": task_id, "to_element": "prepare", "reason": ""}, 422),
           ({"task_id": task_id, "to_element": "prepare", "reason": "x", "extra": 1}, 422),
           ({"task_id": task_id, "to_element": "record", "reason": "x"}, 409),  # not done before
           ({"task_id": task_id, "to_element": None, "reason": "x"}, 409),  # the gateway after it needs data
           ({"task_id": 999_999, "to_element": "prepare", "reason": "x"}, 404)]
    for body, status in bad:
        response = admin.post(f"operations/instances/{instance_id}/moves", body)
        assert response.status_code == status, (body, response.get_json())
        assert set(response.get_json()) == ERROR_KEYS
    assert _unchanged(session) == before

    proposed = admin.post(f"operations/instances/{instance_id}/moves",
                          {"task_id": task_id, "to_element": "prepare", "reason": "budget missing"})
    assert proposed.status_code == 201, proposed.get_json()
    move = proposed.get_json()
    assert move["status"] == "pending" and move["proposed_by"] == "admin"
    assert move["preview"]["ready"][0]["name"] == "Prepare the plan"
    assert [m["id"] for m in admin.get("operations/moves").get_json()] == [move["id"]]
    four_eyes = admin.post(f"operations/moves/{move['id']}/approve", {})
    assert four_eyes.status_code == 403 and "four eyes" in four_eyes.get_json()["message"]
    applied = api("admin2").post(f"operations/moves/{move['id']}/approve", {"note": "agreed"})
    assert applied.status_code == 200, applied.get_json()
    assert applied.get_json()["status"] == "applied" and applied.get_json()["decided_by"] == "admin2"
    session.expire_all()
    assert session.scalar(select(HumanTask.name).where(HumanTask.instance_id == instance_id,
                                                       HumanTask.state == "ready")) == "Prepare the plan"
    assert admin.get("operations/moves").get_json() == []
    assert [m["status"] for m in admin.get("operations/moves?status=all").get_json()] == ["applied"]
    again = api("admin2").post(f"operations/moves/{move['id']}/reject", {"reason": "too late"})
    assert again.status_code == 400


def test_suspend_and_resume_through_the_api(api, session, prepared):
    instance_id, task_id = prepared
    admin = api("admin")
    assert admin.post(f"operations/instances/{instance_id}/suspend", {}).status_code == 422
    held = admin.post(f"operations/instances/{instance_id}/suspend", {"reason": "legal hold"})
    assert held.status_code == 200 and held.get_json()["suspended"]["reason"] == "legal hold"
    assert [i["id"] for i in admin.get("operations").get_json()["suspended"]] == [instance_id]
    refused = api("ser").post(f"tasks/{task_id}/complete", {"data": {"decision": "approve"}})
    assert refused.status_code == 409 and refused.get_json()["code"] == "instance_suspended"
    assert "legal hold" in refused.get_json()["message"]
    dry = admin.post(f"operations/instances/{instance_id}/moves/dry-run", {"task_id": task_id, "to_element": "prepare"})
    assert dry.status_code == 409 and "resumed" in dry.get_json()["message"]
    resumed = admin.post(f"operations/instances/{instance_id}/resume", {"reason": "hold lifted"})
    assert resumed.status_code == 200 and resumed.get_json()["instance_id"] == instance_id
    assert admin.post(f"operations/instances/{instance_id}/resume", {}).status_code == 400
    done = api("ser").post(f"tasks/{task_id}/complete", {"data": {"decision": "approve"}})
    assert done.status_code == 200, done.get_json()


def test_a_failed_script_task_is_skipped_through_the_api(api, session, wf_engine, users, version):
    files = {f.name: f.content for f in version.files if f.kind == "bpmn"}
    forms = {f.name: f.content for f in version.files if f.kind == "form"}
    files["failing_timer.bpmn"] = failing_timer("figure = missing_name + 1")
    process_services.deploy_version(session, wf_engine, files, forms, user=users["owner"], message="broken")
    started = process_services.start_instance(session, wf_engine, user=users["staff"], process_id="failing_timer")
    process_services.fire_due_timers(session, wf_engine, now=utcnow() + timedelta(seconds=1))
    admin = api("admin")
    [failed] = admin.get("operations").get_json()["failed"]
    assert failed["id"] == started.instance_id and failed["failure"]["element_id"] == "compute"
    assert admin.post(f"operations/instances/{started.instance_id}/skip", {"reason": ""}).status_code == 422
    skipped = admin.post(f"operations/instances/{started.instance_id}/skip", {"reason": "entered by hand"})
    assert skipped.status_code == 200 and skipped.get_json()["went_on"] is True
    assert admin.get("operations").get_json()["failed"] == []
    assert admin.post(f"operations/instances/{started.instance_id}/skip", {"reason": "again"}).status_code == 400
    cancelled = admin.post(f"operations/instances/{started.instance_id}/cancel", {"reason": "test over"})
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert admin.get("operations/instances/999999").status_code == 404
