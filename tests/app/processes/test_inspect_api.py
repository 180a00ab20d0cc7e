"""POST /api/v1/processes/inspect, and one checker: inspect (the engine function, the upload service, the API),
validate and deploy give the same answer with the same functions; timer values as modelling tools write them
are accepted by validate and deploy."""

from __future__ import annotations

import pytest

from app.db import utcnow
from app.modeler import services as workbench
from tests.support.api import events, snapshot
from tests.support.bpmn import HEAD, condition_process
from workflows.inspect import inspect

NOTE_FORM = '{"type": "object", "properties": {"note": {"type": "string"}}}'


def timer_diagram(kind: str, value: str) -> str:
    """start -> user task with an interrupting boundary timer (`kind`, `value` as written) -> ends."""
    return HEAD + f'''  <bpmn:process id="timed" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="work" name="Do the work">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="note.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="limit" name="Time limit" attachedToRef="work" cancelActivity="{str(kind != "timeCycle").lower()}">
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:{kind}>{value}</bpmn:{kind}></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="late"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />
    <bpmn:sequenceFlow id="f3" sourceRef="limit" targetRef="late" />
  </bpmn:process>
</bpmn:definitions>'''


@pytest.mark.parametrize("kind, value", [("timeDuration", "P7D"), ("timeDuration", "\n   PT2H\n  "),
                                         ("timeCycle", "R6/P1D"), ("timeDate", "2026-03-01T09:00:00Z")])
def test_validate_and_deploy_accept_timer_values_as_modelling_tools_write_them(api, kind, value):
    owner = api("owner")
    bundle = {"files": {"timed.bpmn": timer_diagram(kind, value)}, "forms": {"note.schema.json": NOTE_FORM}}
    checked = owner.post("processes/validate", bundle).get_json()
    assert checked["valid"] is True and checked["process_ids"] == ["timed"], checked
    deployed = owner.post("processes/deploy", {**bundle, "message": f"{kind} {value.strip()}"})
    assert deployed.status_code == 201, deployed.get_json()
    inspected = owner.post("processes/inspect", {"filename": "timed.bpmn", "content": timer_diagram(kind, value)})
    assert inspected.get_json()["runnable"] is True, inspected.get_json()


def test_a_timer_value_that_only_looks_like_iso_is_refused_by_validate_deploy_and_inspect(api):
    owner = api("owner")
    xml = timer_diagram("timeDuration", "P7X")
    bundle = {"files": {"timed.bpmn": xml}, "forms": {"note.schema.json": NOTE_FORM}}
    (problem,) = owner.post("processes/validate", bundle).get_json()["problems"]
    assert (problem["element_id"], problem["element_name"], problem["line"]) == ("limit", "Time limit", 11)
    assert "P7X is not valid ISO 8601" in problem["message"] and "P7D" in problem["message"]
    refused = owner.post("processes/deploy", {**bundle, "message": "typo"})
    assert refused.status_code == 422 and refused.get_json()["errors"] == [problem]
    inspected = owner.post("processes/inspect", {"filename": "timed.bpmn", "content": xml}).get_json()
    assert problem in inspected["problems"]  # (with the form missing: inspect checks against the latest version)


def verdicts(api, session, services, users, xml: str) -> dict[str, tuple[bool, list[str]]]:
    """(accepted, error messages) from each door: engine inspect, upload service, inspect API, validate, deploy."""
    owner = api("owner")
    errors = lambda problems: [p["message"] for p in problems if p["severity"] == "error"]  # noqa: E731
    found = {}
    report = inspect("cond.bpmn", xml.encode())
    found["inspect()"] = (report.runnable, [p.message for p in report.problems if p.severity == "error"])
    row = workbench.upload(session, services.workflows, users["owner"], "cond.bpmn", xml.encode(),
                           max_bytes=10**6, now=utcnow())
    found["upload"] = (row.runnable, errors(row.verdict["problems"]))
    answer = owner.post("processes/inspect", {"filename": "cond.bpmn", "content": xml}).get_json()
    found["API inspect"] = (answer["runnable"], errors(answer["problems"]))
    answer = owner.post("processes/validate", {"files": {"cond.bpmn": xml}}).get_json()
    found["API validate"] = (answer["valid"], errors(answer["problems"]))
    deployed = owner.post("processes/deploy", {"files": {"cond.bpmn": xml}, "message": "condition"})
    found["API deploy"] = (deployed.status_code == 201,
                           [] if deployed.status_code == 201 else errors(deployed.get_json()["errors"]))
    return found


def test_a_condition_using_add_period_is_accepted_everywhere(api, session, services, users):
    xml = condition_process("add_period(started_on, 'P3M') > now()").decode()
    found = verdicts(api, session, services, users, xml)
    assert found == dict.fromkeys(found, (True, [])), found


def test_an_unknown_function_is_refused_everywhere_with_the_same_message(api, session, services, users):
    xml = condition_process("frobnicate(started_on) > now()").decode()
    found = verdicts(api, session, services, users, xml)
    messages = {door: verdict[1] for door, verdict in found.items()}
    assert not any(accepted for accepted, _ in found.values()), found
    assert len({tuple(m) for m in messages.values()}) == 1, messages
    (message,) = messages["API validate"]
    assert "function 'frobnicate' is not available" in message and "add_period" in message


def test_inspect_answers_the_upload_verdict_and_stores_nothing(api, session):
    owner = api("owner")
    before = snapshot(session)
    xml = condition_process("x > 1").decode().replace('isExecutable="true"', 'isExecutable="false"')
    answer = owner.post("processes/inspect", {"filename": "elsewhere.xml", "content": xml})
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["filename"] == "elsewhere.xml" and body["well_formed"] is True and body["runnable"] is False
    assert body["processes"] == [{"process_id": "cond", "name": None, "executable": False, "line": 3}]
    (problem,) = body["problems"]
    assert problem == {"message": problem["message"], "file": "elsewhere.xml", "element_id": "cond",
                       "element_name": None, "line": 3, "severity": "error"}
    assert "not marked executable" in problem["message"]
    assert snapshot(session) == before


def test_inspect_reports_a_broken_file_with_its_line(api):
    answer = api("admin").post("processes/inspect", {"filename": "broken.bpmn",
                                                     "content": HEAD + "  <bpmn:process id='p'>\n"})
    body = answer.get_json()
    assert answer.status_code == 200 and body["well_formed"] is False and body["runnable"] is False
    assert body["processes"] == [] and body["problems"][0]["line"] in (3, 4)


@pytest.mark.parametrize("body, field", [
    ({"filename": "a.bpmn"}, "content"),
    ({"filename": "a.bpmn", "content": ""}, "content"),
    ({"filename": "../a.bpmn", "content": "<x/>"}, "filename"),
    ({"filename": "a.exe", "content": "<x/>"}, "filename"),
    ({"filename": "a.bpmn", "content": "<x/>", "extra": 1}, "extra"),
])
def test_inspect_refuses_malformed_requests(api, body, field):
    answer = api("owner").post("processes/inspect", body)
    assert answer.status_code == 422 and field in str(answer.get_json()["errors"])


@pytest.mark.parametrize("role", ["staff", "ser", "jmt", "assessor", "pser"])
def test_only_process_owners_and_administrators_may_inspect(api, session, role):
    refusals = events(session, "api.forbidden")
    answer = api(role).post("processes/inspect", {"filename": "a.bpmn", "content": condition_process("x").decode()})
    assert answer.status_code == 403 and answer.get_json()["code"] == "forbidden"
    assert events(session, "api.forbidden") == refusals + 1
    assert api().post("processes/inspect", {"filename": "a.bpmn", "content": "<x/>"}).status_code == 401


def test_inspect_is_in_the_openapi_document(api):
    doc = api("owner").get("openapi.json").get_json()
    operation = doc["paths"]["/api/v1/processes/inspect"]["post"]
    assert "200" in operation["responses"] and "requestBody" in operation


def test_event_sub_processes_get_the_same_verdict_from_validate_deploy_and_inspect(api):
    from tests.support.bpmn import LOOP_FORM, SIGNAL_PING, definitions, event_subprocess, work_process
    owner = api("owner")

    def verdicts(interrupting):
        xml = definitions(work_process("main", event_subprocess(SIGNAL_PING, interrupting=interrupting))).decode()
        bundle = {"files": {"esp.bpmn": xml}, "forms": {"loop.schema.json": LOOP_FORM.decode()}}
        return (owner.post("processes/validate", bundle).get_json(),
                owner.post("processes/deploy", {**bundle, "message": "event sub-process"}),
                owner.post("processes/inspect", {"filename": "esp.bpmn", "content": xml}).get_json())

    checked, deployed, inspected = verdicts(interrupting=False)  # (inspect then reads this version's forms)
    assert checked["valid"] is True and checked["process_ids"] == ["main"], checked
    assert deployed.status_code == 201 and inspected["runnable"] is True, inspected

    checked, deployed, inspected = verdicts(interrupting=True)
    assert checked["valid"] is False and deployed.status_code == 422 and inspected["runnable"] is False
    (problem,) = checked["problems"]
    assert problem["element_id"] == "esp" and "it is interrupting" in problem["message"]
    assert inspected["problems"] == checked["problems"] == deployed.get_json()["errors"]
