"""A plain `bpmn:task` and a `bpmn:manualTask` (as other modelling tools draw them) are tasks a person marks done:
no form needed; they deploy, appear in the inbox of their lane, and completing them with no data moves on."""

from __future__ import annotations

import pytest

from app.processes import services as process_services
from app.processes.models import HumanTask

MARKED = b'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs_marked"
                  targetNamespace="http://collabflow.test">
  <bpmn:process id="marked" name="Call, then sign" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_staff" name="Staff"><bpmn:flowNodeRef>call</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>sign</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:task id="call" name="Call the partner"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:task>
    <bpmn:manualTask id="sign" name="Sign the contract"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:manualTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call" />
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="sign" />
    <bpmn:sequenceFlow id="f3" sourceRef="sign" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>'''


@pytest.fixture
def deploy_with(api, version):
    """deploy_with(name, xml): the test bundle plus one diagram, validated and deployed through the API."""
    def deploy(name: str, xml: bytes):
        bundle = {"files": {**{f.name: f.content.decode() for f in version.files if f.kind == "bpmn"},
                            name: xml.decode()},
                  "forms": {f.name: f.content.decode() for f in version.files if f.kind == "form"}}
        checked = api("owner").post("processes/validate", bundle)
        assert checked.get_json()["valid"] is True, checked.get_json()
        deployed = api("owner").post("processes/deploy", {**bundle, "message": name})
        assert deployed.status_code == 201, deployed.get_json()
    return deploy


def test_plain_and_manual_tasks_are_marked_done_by_a_person(api, session, wf_engine, users, deploy_with):
    deploy_with("marked.bpmn", MARKED)
    started = process_services.start_instance(session, wf_engine, user=users["staff"], process_id="marked")
    staff = api("staff")
    for name in ("Call the partner", "Sign the contract"):
        [task] = [t for t in staff.get("tasks").get_json()["items"] if t["relationship_id"] == started.instance_id]
        assert task["name"] == name
        shown = staff.get(f"tasks/{task['id']}").get_json()
        assert shown["schema"] is None and shown["may_complete"] is True
        assert staff.post(f"tasks/{task['id']}/complete", {"data": {}}).status_code == 200
    session.expire_all()
    assert session.query(HumanTask).filter_by(instance_id=started.instance_id, state="completed").count() == 2


SPLIT = b'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs_split"
                  targetNamespace="http://collabflow.test">
  <bpmn:process id="split" name="Brief, then two things at once" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_staff" name="Staff"><bpmn:flowNodeRef>brief</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>legal</bpmn:flowNodeRef><bpmn:flowNodeRef>finance</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:task id="brief" name="Brief the team"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:task>
    <bpmn:task id="legal" name="Legal review"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:task>
    <bpmn:task id="finance" name="Finance review"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:task>
    <bpmn:parallelGateway id="join"><bpmn:incoming>f4</bpmn:incoming><bpmn:incoming>f5</bpmn:incoming>
      <bpmn:outgoing>f6</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:endEvent id="end"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="brief" />
    <bpmn:sequenceFlow id="f2" sourceRef="brief" targetRef="legal" />
    <bpmn:sequenceFlow id="f3" sourceRef="brief" targetRef="finance" />
    <bpmn:sequenceFlow id="f4" sourceRef="legal" targetRef="join" />
    <bpmn:sequenceFlow id="f5" sourceRef="finance" targetRef="join" />
    <bpmn:sequenceFlow id="f6" sourceRef="join" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>'''


def test_a_task_with_two_outgoing_flows_starts_both(api, session, wf_engine, users, deploy_with):
    deploy_with("split.bpmn", SPLIT)
    started = process_services.start_instance(session, wf_engine, user=users["staff"], process_id="split")
    staff = api("staff")

    def ready():
        return sorted((t["name"], t["id"]) for t in staff.get("tasks").get_json()["items"]
                      if t["relationship_id"] == started.instance_id)
    [(name, brief)] = ready()
    assert name == "Brief the team"
    staff.post(f"tasks/{brief}/complete", {"data": {}})
    both = ready()
    assert [n for n, _ in both] == ["Finance review", "Legal review"], "both branches at once"
    for _name, task_id in both:
        assert staff.post(f"tasks/{task_id}/complete", {"data": {}}).status_code == 200
    session.expire_all()
    from app.processes.models import ProcessInstance
    assert session.get(ProcessInstance, started.instance_id).status == "completed"
