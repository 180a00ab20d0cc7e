"""Migration through the workbench on the bundled lifecycle: an instance in stage 3 moves to a version that
changed stage 5; an instance whose current task the new version removed is reported with the reason."""

from __future__ import annotations

import re

from lxml import etree
from sqlalchemy import select

from app.processes.models import InstanceMove, ProcessInstance
from app.processes.services import deploy_version
from tests.support.bundles import ROOT
from tests.support.driver import Driver
from tests.support.modeler import json_post
from workflows import read_directory

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN, "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}


def _without_task(content: bytes, task_id: str) -> bytes:
    """Remove a task and splice its incoming flow onto its successor (shape, edge and lane reference too)."""
    tree = etree.fromstring(content)
    task = tree.find(f".//bpmn:*[@id='{task_id}']", NS)
    out_flow = tree.find(f".//bpmn:sequenceFlow[@sourceRef='{task_id}']", NS)
    successor = out_flow.get("targetRef")
    for flow in tree.findall(f".//bpmn:sequenceFlow[@targetRef='{task_id}']", NS):
        flow.set("targetRef", successor)
    target = tree.find(f".//bpmn:*[@id='{successor}']", NS)
    for incoming in target.findall("bpmn:incoming", NS):
        if incoming.text == out_flow.get("id"):
            target.remove(incoming)
    for flow in tree.findall(f".//bpmn:sequenceFlow[@targetRef='{successor}']", NS):
        if flow.get("id") != out_flow.get("id") and not any(
                i.text == flow.get("id") for i in target.findall("bpmn:incoming", NS)):
            element = etree.Element(f"{{{BPMN}}}incoming")
            element.text = flow.get("id")
            first_out = target.find("bpmn:outgoing", NS)
            if first_out is not None:
                first_out.addprevious(element)
            else:
                target.append(element)
    for node in [task, out_flow] + tree.findall(f".//bpmndi:*[@bpmnElement='{task_id}']", NS) + \
            tree.findall(f".//bpmndi:*[@bpmnElement='{out_flow.get('id')}']", NS):
        node.getparent().remove(node)
    for ref in tree.findall(".//bpmn:flowNodeRef", NS):
        if ref.text == task_id:
            ref.getparent().remove(ref)
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def _renamed(content: bytes, element_id: str, name: str) -> bytes:
    tree = etree.fromstring(content)
    tree.find(f".//bpmn:*[@id='{element_id}']", NS).set("name", name)
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def test_dry_run_migrate_and_undo_on_the_bundled_lifecycle(session, services, users, signed_in):
    from datetime import UTC, datetime
    now = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    files, forms = read_directory(ROOT / "bpmn", ROOT / "forms")
    old, _warnings, _ = deploy_version(session, services.workflows, files, forms, user=users["owner"],
                                       message="the bundled lifecycle", now=now)
    start = {"relationship_name": "ACME joint bid"}
    in_stage3 = Driver.start(session, services, users, "lifecycle", start, now=now, title="In stage 2")
    in_stage3.drive(until=lambda d: any(n.startswith("s2_") for n in d.ready_names()))
    # stage 1 is the organisation's: its management system is the instance working on it
    in_stage1 = Driver.start(session, services, users, "management_system", {}, now=now, title="Management system")
    assert in_stage1.ready_names() == ["s1_appoint_ser"]

    stage5 = dict(files)
    stage5["stage5_working_together.bpmn"] = _renamed(files["stage5_working_together.bpmn"], "s5_identify_sers",
                                                      "Identify both organisations' SERs")
    new, _warnings, _ = deploy_version(session, services.workflows, stage5, forms, user=users["owner"],
                                       message="stage 5 wording", now=now)
    stage1 = dict(stage5)
    stage1["stage1_awareness.bpmn"] = _without_task(files["stage1_awareness.bpmn"], "s1_appoint_ser")
    newer, _warnings, _ = deploy_version(session, services.workflows, stage1, forms, user=users["owner"],
                                         message="stage 1 without appointing the SER", now=now)

    owner = signed_in("owner")
    diff = owner.get(f"/processes/versions/{old.id}/diff/{new.id}").get_data(as_text=True)
    assert 'data-element="s5_identify_sers"' in diff and 'data-element="s1_appoint_ser"' not in diff
    diff = owner.get(f"/processes/versions/{new.id}/diff/{newer.id}").get_data(as_text=True)
    assert re.search(r'<tr class="removed" data-element="s1_appoint_ser">', diff)

    # to the version that changed stage 5: the stage 2 relationship can move, and so can the stage 1 one
    page = owner.get(f"/processes/migrate?to={new.id}").get_data(as_text=True)
    row3 = re.search(rf'<tr data-instance="{in_stage3.instance_id}" class="(\w+)">(.*?)</tr>', page, re.S)
    assert row3.group(1) == "movable" and f'value="{in_stage3.instance_id}"' in row3.group(2)
    # to the version without the stage 1 instance's current task: reported, with the reason, and not offered
    page = owner.get(f"/processes/migrate?to={newer.id}").get_data(as_text=True)
    row1 = re.search(rf'<tr data-instance="{in_stage1.instance_id}" class="(\w+)">(.*?)</tr>', page, re.S)
    assert row1.group(1) == "blocked" and 'name="instance"' not in row1.group(2)
    assert "s1_appoint_ser (Appoint the SER) is ready here but does not exist in the new version" in row1.group(2)
    refused = json_post(owner, "/processes/migrate", {"to": newer.id, "instances": [in_stage1.instance_id]})
    assert "s1_appoint_ser" in refused.get_json()["refused"][str(in_stage1.instance_id)]

    # the page's script migrates in batches through the JSON endpoint
    moved = json_post(owner, "/processes/migrate", {"to": new.id, "instances": [in_stage3.instance_id]})
    assert moved.status_code == 200 and moved.get_json() == {"moved": [in_stage3.instance_id], "refused": {}}
    session.expire_all()
    assert session.get(ProcessInstance, in_stage3.instance_id).version_id == new.id
    assert session.get(ProcessInstance, in_stage1.instance_id).version_id == old.id

    # the moved instance carries on in stage 2 on the new version
    ready = in_stage3.ready_names()
    assert any(n.startswith("s2_") for n in ready)
    in_stage3.complete(ready[0])

    move = session.scalars(select(InstanceMove)).one()
    page = owner.get(f"/processes/migrate?to={new.id}").get_data(as_text=True)
    assert f'data-move="{move.id}"' in page
    refused = owner.post(f"/processes/moves/{move.id}/undo", page="/processes/migrate")
    assert refused.status_code == 302  # it moved on since: the undo is refused and said so
    assert "Cannot undo" in owner.get(refused.headers["Location"]).get_data(as_text=True)
    session.expire_all()
    assert session.get(ProcessInstance, in_stage3.instance_id).version_id == new.id


def test_undo_puts_an_instance_back(session, services, users, signed_in, lifecycle):
    from app.db import utcnow
    from app.relationships import services as relationships
    from tests.support.modeler import stage1
    owner = signed_in("owner")
    started = relationships.start(session, services.workflows, users["staff"], title="T", partner="P", now=utcnow())
    done = json_post(owner, "/processes/diagrams/web_stage1.bpmn/deploy", {"xml": stage1(name="New"), "message": "n"})
    new_id = done.get_json()["version_id"]
    form = owner.get(f"/processes/migrate?to={new_id}").get_data(as_text=True)
    assert f'value="{started.instance_id}"' in form
    response = owner.post("/processes/migrate", {"to": str(new_id), "instance": str(started.instance_id)},
                          page=f"/processes/migrate?to={new_id}")
    assert response.status_code == 302
    assert "Moved 1 of 1" in owner.get(response.headers["Location"]).get_data(as_text=True)
    session.expire_all()
    assert session.get(ProcessInstance, started.instance_id).version_id == new_id
    move = session.scalars(select(InstanceMove)).one()
    owner.post(f"/processes/moves/{move.id}/undo", page="/processes/migrate")
    session.expire_all()
    assert session.get(ProcessInstance, started.instance_id).version_id == lifecycle.id
    assert session.get(InstanceMove, move.id).undone_at is not None
