"""Starting any deployed process a diagram lets people start: the start event names the roles and the start form;
the API lists what you may start and starts it; the process then runs to its end through the real stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.processes.services import deploy_version
from workflows import read_directory

STARTABLE = Path(__file__).parent / "data" / "startable"


@pytest.fixture
def with_incident(session, wf_engine, users, lifecycle):
    """The web test lifecycle plus a process people may start (`incident`), deployed as the latest version."""
    files, forms = read_directory(STARTABLE, STARTABLE / "forms")
    base = {f.name: f.content for f in lifecycle.files if f.kind == "bpmn"}
    base_forms = {f.name: f.content for f in lifecycle.files if f.kind == "form"}
    version, _warnings, _ = deploy_version(session, wf_engine, {**base, **files}, {**base_forms, **forms},
                                           user=users["owner"], message="with incident")
    return version


def test_the_api_lists_startable_processes_and_one_runs_to_the_end(api, with_incident):
    staff = api("staff")
    listed = staff.get("processes/startable").get_json()
    assert [(p["process_id"], p["name"], p["roles"]) for p in listed] == [("incident", "Report an incident",
                                                                          ["staff", "ser"])]
    assert listed[0]["schema"]["required"] == ["title", "severity"]
    assert api("owner").get("processes/startable").get_json() == [], "not one of its roles"
    assert api("pser").get("processes/startable").get_json() == [], "partners start nothing of ours"
    assert api("staff").get("processes/startable").get_json() == listed

    refused = staff.post("processes/incident/start", {"data": {"title": "Spill"}})
    assert refused.status_code == 422 and "severity" in refused.get_json()["errors"]
    assert api("owner").post("processes/incident/start", {"data": {"title": "x", "severity": "minor"}}) \
        .status_code == 403
    assert staff.post("processes/lifecycle/start", {"data": {}}).status_code == 404, "relationships start elsewhere"

    started = staff.post("processes/incident/start", {"data": {"title": "Spill in bay 3", "severity": "major"}})
    assert started.status_code == 201, started.get_json()
    body = started.get_json()
    assert (body["process_id"], body["title"], body["status"]) == ("incident", "Spill in bay 3", "running")
    [task] = body["next_tasks"]
    assert task["name"] == "Investigate the incident" and body["next_for_you"] == task["id"]
    done = staff.post(f"tasks/{task['id']}/complete", {"data": {"cause": "worn seal"}})
    assert done.status_code == 200 and done.get_json()["status"] == "completed"


def test_the_openapi_document_lists_the_start_endpoints(api):
    paths = api("staff").get("openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/processes/startable"]
    assert "post" in paths["/api/v1/processes/{process_id}/start"]



def test_a_start_naming_unknown_roles_or_a_missing_form_is_refused_with_the_element(api, lifecycle):
    text = (STARTABLE / "incident.bpmn").read_text()
    broken = text.replace('value="staff, ser"', 'value="staff, boss"').replace(
        'value="incident.schema.json"', 'value="missing.schema.json"')
    forms = {p.name: p.read_text() for p in (STARTABLE / "forms").iterdir()}
    base = {f.name: f.content.decode() for f in lifecycle.files if f.kind == "bpmn"}
    base_forms = {f.name: f.content.decode() for f in lifecycle.files if f.kind == "form"}
    refused = api("owner").post("processes/validate", {"files": {**base, "incident.bpmn": broken},
                                                       "forms": {**base_forms, **forms}})
    body = refused.get_json()
    messages = " | ".join(p["message"] for p in body["problems"] if p.get("element_id") == "start")
    assert body["valid"] is False and "boss" in messages and "missing.schema.json" in messages, body


def test_the_start_page_keeps_what_was_typed_and_opens_the_first_task(signed_in, with_incident):
    staff = signed_in("staff")
    listing = staff.get("/start").get_data(as_text=True)
    assert 'href="/start/incident"' in listing and "Report an incident" in listing
    assert signed_in("owner").get("/start/incident").status_code == 404, "not one of its roles"
    refused = staff.post("/start/incident", {"f.title": "Spill in bay 3"})
    assert refused.status_code == 422
    assert 'value="Spill in bay 3"' in refused.get_data(as_text=True), "what was typed is kept"
    started = staff.post("/start/incident", {"f.title": "Spill in bay 3", "f.severity": "major"})
    assert started.status_code == 302 and "/tasks/" in started.headers["Location"]
    assert "Investigate the incident" in staff.get(started.headers["Location"]).get_data(as_text=True)
