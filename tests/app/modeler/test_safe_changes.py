"""Safe changes through the workbench's pages: a roll back that asks for a reason and says who cannot follow, a
dry run that says where each instance is and what it will meet, Undo offered only while it can work, the diff with
old → new values and the forms, and an upload that replaces the diagram holding the same process."""

from __future__ import annotations

import re

from markupsafe import escape
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.processes import services as processes
from app.processes.models import HumanTask, InstanceMove, ProcessInstance, ProcessVersion
from tests.support.bundles import T0, read_test_bundle
from tests.support.driver import Driver
from tests.support.modeler import json_post
from tests.support.versions import stage5_with_check, version_2


def _approval(session, services, users, version_id):
    return processes.start_instance(session, services.workflows, user=users["staff"], process_id="approval",
                                    title="Approval at check", version_id=version_id, now=T0)


def _row(page, instance_id):
    found = re.search(rf'<tr data-instance="{instance_id}"[^>]*>(.*?)</tr>', page, re.S)
    assert found, page
    return re.sub(r"\s+", " ", found.group(1))


def test_roll_back_confirms_with_a_reason_and_names_who_cannot_follow(session, services, users, signed_in, version):
    files, forms = read_test_bundle()
    v2, _, _ = processes.deploy_version(session, services.workflows, version_2(files), forms, user=users["owner"],
                                        message="a check step", now=T0)
    at_prepare = _approval(session, services, users, v2.id)
    at_check = _approval(session, services, users, v2.id)
    driver = Driver(session, services, users, at_check.instance_id, T0)
    driver.complete("prepare")
    assert driver.ready_names() == ["check"]
    owner = signed_in("owner")

    history = owner.get("/processes").get_data(as_text=True)
    confirm = f"/processes/versions/{version.id}/roll-back"
    assert f'href="{confirm}"' in history and f'action="{confirm}"' not in history, "no roll back on one click"
    page = owner.get(confirm).get_data(as_text=True)
    assert 'id="blocked"' in page, page
    blocked = re.search(r'<table class="list small" id="blocked">(.*?)</table>', page, re.S).group(1)
    assert f'data-instance="{at_check.instance_id}"' in blocked and "check (Check the plan) is ready here" in blocked
    follow = re.search(r'<table class="list small" id="follow">(.*?)</table>', page, re.S).group(1)
    assert f'data-instance="{at_prepare.instance_id}"' in follow and "Prepare the plan" in follow

    refused = owner.post(confirm, {"message": ""}, page=confirm)
    assert refused.status_code == 400 and 'id="roll-back-error"' in refused.get_data(as_text=True)
    assert session.scalar(select(ProcessVersion).where(ProcessVersion.id > v2.id)) is None

    done = owner.post(confirm, {"message": "the check step slows approvals down"}, page=confirm)
    assert done.status_code == 302
    rolled = session.scalar(select(ProcessVersion).where(ProcessVersion.id > v2.id))
    assert rolled.message == f"roll back to version {version.id}: the check step slows approvals down"
    assert rolled.content_hash == version.content_hash
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "version.rolled_back"))
    assert event.payload["message"] == "the check step slows approvals down"
    assert [b["instance_id"] for b in event.payload["cannot_follow"]] == [at_check.instance_id]
    assert "check (Check the plan)" in event.payload["cannot_follow"][0]["reasons"][0]
    assert "the check step slows approvals down" in owner.get("/processes").get_data(as_text=True)


def test_the_dry_run_says_each_relationships_stage_tasks_and_the_new_task_ahead(session, services, users,
                                                                                 signed_in, bundled):
    from app.config import ROOT
    from workflows import read_directory
    relationship = Driver.start(session, services, users, "lifecycle", {"relationship_name": "ACME joint bid"},
                                now=T0, title="ACME joint bid")
    relationship.drive(until=lambda d: any(n.startswith("s2_") for n in d.ready_names()))
    files, forms = read_directory(ROOT / "bpmn", ROOT / "forms")
    new, _, _ = processes.deploy_version(session, services.workflows, stage5_with_check(files), forms,
                                         user=users["owner"], message="check the plan", now=T0)
    owner = signed_in("owner")
    row = _row(owner.get(f"/processes/migrate?to={new.id}").get_data(as_text=True), relationship.instance_id)
    assert "ACME joint bid" in row and '<td class="stage">2 · Knowledge</td>' in row, row
    names = session.scalars(select(HumanTask.name).where(HumanTask.instance_id == relationship.instance_id,
                                                         HumanTask.state == "ready")).all()
    assert names and all(escape(name) in row for name in names), "its ready tasks, by name"
    assert "will reach the new task &#39;Check the plan&#39; in stage 5" in row, row
    assert "is there, with the same form" in row
    assert '<span class="badge ok">yes</span>' in row


def test_undo_is_disabled_with_the_reason_once_the_instance_moved_on(session, services, users, signed_in,
                                                                       version):
    files, forms = read_test_bundle()
    v2, _, _ = processes.deploy_version(session, services.workflows, version_2(files), forms, user=users["owner"],
                                        message="a check step", now=T0)
    fresh = _approval(session, services, users, version.id)
    stale = _approval(session, services, users, version.id)
    owner = signed_in("owner")
    moved = json_post(owner, "/processes/migrate", {"to": v2.id, "instances": [fresh.instance_id,
                                                                              stale.instance_id]})
    assert sorted(moved.get_json()["moved"]) == sorted([fresh.instance_id, stale.instance_id])
    from datetime import timedelta

    from app.db import utcnow
    Driver(session, services, users, stale.instance_id, utcnow() + timedelta(minutes=1)).complete("prepare")
    moves = {m.instance_id: m.id for m in session.scalars(select(InstanceMove))}

    page = owner.get(f"/processes/migrate?to={v2.id}").get_data(as_text=True)
    stale_row = re.search(rf'<tr data-move="{moves[stale.instance_id]}">(.*?)</tr>', page, re.S).group(1)
    assert re.search(r'<button type="button" class="secondary small undo" disabled', stale_row)
    assert "Cannot undo: the relationship has moved on since: 1 task completed" in stale_row
    fresh_row = re.search(rf'<tr data-move="{moves[fresh.instance_id]}">(.*?)</tr>', page, re.S).group(1)
    assert "disabled" not in fresh_row and 'type="submit" class="secondary small undo"' in fresh_row

    # a stale undo sent anyway is refused in words, 409 to the page's JSON, never a 500
    refused = json_post(owner, f"/processes/moves/{moves[stale.instance_id]}/undo", {})
    assert refused.status_code == 409
    assert refused.get_json()["reason"] == "the relationship has moved on since: 1 task completed"
    session.expire_all()
    assert session.get(ProcessInstance, stale.instance_id).version_id == v2.id
    undone = json_post(owner, f"/processes/moves/{moves[fresh.instance_id]}/undo", {})
    assert undone.status_code == 200 and undone.get_json()["undone"] is True
    session.expire_all()
    assert session.get(ProcessInstance, fresh.instance_id).version_id == version.id
    again = json_post(owner, f"/processes/moves/{moves[fresh.instance_id]}/undo", {})
    assert again.status_code == 409 and "already undone" in again.get_json()["message"]


def _upload(owner, name, content):
    from tests.support.web import token
    csrf = token(owner.get("/processes/upload").get_data(as_text=True))
    import io
    return owner.client.post("/processes/upload", data={"csrf_token": csrf, "file": (io.BytesIO(content), name)},
                             content_type="multipart/form-data")


def test_an_upload_of_an_edited_copy_replaces_the_deployed_diagram_by_choice(owner, lifecycle, session):
    from app.modeler.models import Draft
    from tests.support.modeler import stage1
    edited = stage1(name="Write the policy (edited in Camunda Modeler)").encode()
    response = _upload(owner, "stage1 from camunda.bpmn", edited)
    upload_page = response.headers["Location"]
    upload_id = int(upload_page.rsplit("/", 1)[1])
    page = owner.get(upload_page).get_data(as_text=True)
    assert 'id="replace-why"' in page and "web_stage1.bpmn" in page
    assert 'value="replace:web_stage1.bpmn"' in page and 'value="new"' in page

    # no choice: refused with the reason, nothing saved
    refused = owner.post(f"/processes/uploads/{upload_id}/draft", {}, page=upload_page)
    assert refused.status_code == 400 and "choose whether it replaces that diagram" in refused.get_data(as_text=True)
    assert session.scalars(select(Draft)).all() == []
    odd = owner.post(f"/processes/uploads/{upload_id}/draft", {"target": "replace:web_lifecycle.bpmn"},
                     page=upload_page)
    assert odd.status_code == 400 and session.scalars(select(Draft)).all() == []

    made = owner.post(f"/processes/uploads/{upload_id}/draft", {"target": "replace:web_stage1.bpmn"},
                      page=upload_page)
    assert made.status_code == 302 and made.headers["Location"].endswith("/processes/diagrams/web_stage1.bpmn")
    (draft,) = session.scalars(select(Draft)).all()
    assert (draft.name, draft.content, draft.base_version_id) == ("web_stage1.bpmn", edited, lifecycle.id)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "modeler.draft_saved")).one()
    assert event.payload["replaces"] == "web_stage1.bpmn" and event.payload["upload_id"] == upload_id
    # the draft deploys as the one stage 1 diagram: no second file with the same process id
    deployed = json_post(owner, "/processes/diagrams/web_stage1.bpmn/deploy", {"xml": edited.decode(),
                                                                               "message": "edited elsewhere"})
    assert deployed.status_code == 200, deployed.get_json()
    names = [f.name for f in session.get(ProcessVersion, deployed.get_json()["version_id"]).files if f.kind == "bpmn"]
    assert "web_stage1.bpmn" in names and "stage1 from camunda.bpmn" not in names


def test_an_upload_with_new_processes_is_offered_no_replacement(owner, lifecycle, session):
    from tests.support.modeler import stage1
    other = stage1().replace('id="stage1_awareness"', 'id="stage1_elsewhere"').encode()
    page = owner.get(_upload(owner, "elsewhere.bpmn", other).headers["Location"]).get_data(as_text=True)
    assert 'id="replace-why"' not in page and 'value="replace:' not in page


def test_the_diff_page_shows_old_and_new_values_a_script_line_diff_and_the_forms(owner, session, services, users,
                                                                                   version):
    import json
    files, forms = read_test_bundle()
    files = version_2(files)
    files["approval.bpmn"] = files["approval.bpmn"].replace(b"words = len(", b"word_count = len(")
    forms = dict(forms)
    schema = json.loads(forms["note.schema.json"])
    schema["properties"]["urgency"] = {"type": "string", "title": "Urgency", "enum": ["low", "high"]}
    forms["note.schema.json"] = json.dumps(schema).encode()
    v2, _, _ = processes.deploy_version(session, services.workflows, files, forms, user=users["owner"],
                                        message="a check step", now=T0)
    page = owner.get(f"/processes/versions/{version.id}/diff/{v2.id}").get_data(as_text=True)
    approve = re.search(r'<tr class="changed" data-element="approve">(.*?)</tr>', page, re.S).group(1)
    assert re.search(r'data-attribute="name">.*?<span class="old">Approve the plan</span> → '
                     r'<span class="new">Approve the checked plan</span>', approve, re.S)
    assert re.search(r'<tr class="added" data-element="check">.*?Check the plan', page, re.S)
    record = re.search(r'<tr class="changed" data-element="record">(.*?)</tr>', page, re.S).group(1)
    assert '<span class="minus">- words = len(' in record and '<span class="plus">+ word_count = len(' in record
    assert '<span class="same">  outcome = &#34;approved: &#34; + plan.upper()</span>' in record, record
    note = re.search(r'<tr class="changed" data-form="note.schema.json">(.*?)</tr>', page, re.S).group(1)
    assert re.search(r'data-field="urgency"><code>urgency</code> added:\s*“Urgency”, string, optional '
                     r'\(low, high\)', note), note
