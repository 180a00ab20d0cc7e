"""Diagrams from other tools name their own lanes: the process owner maps them to roles when importing (the upload's
mapping step, or `lane_roles` in the API), the verdict is checked again with the mapping, the version keeps it, and
the reference models that are executable once their lanes are mapped run to their end."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.modeler.models import Upload
from app.processes import services
from app.processes.models import HumanTask, ProcessInstance, ProcessVersion
from tests.support.bundles import MIWG, T0, read_test_bundle

BOARD = read_test_bundle()[0]["approval.bpmn"].replace(b'name="SER"', b'name="Board"')


def test_inspect_lists_the_lanes_and_a_mapping_makes_the_diagram_runnable(api, version):
    owner = api("owner")
    plain = owner.post("processes/inspect", {"filename": "approval.bpmn", "content": BOARD.decode()}).get_json()
    assert {"lane": "Board", "role": None, "partner_side": False} in plain["lanes"] and not plain["runnable"]
    assert any("'Board' is not mapped" in p["message"] for p in plain["problems"])

    mapped = owner.post("processes/inspect", {"filename": "approval.bpmn", "content": BOARD.decode(),
                                              "lane_roles": {"Board": "top_management"}}).get_json()
    assert {"lane": "Board", "role": "top_management", "partner_side": False} in mapped["lanes"]
    assert not any("lane" in p["message"] and p["severity"] == "error" for p in mapped["problems"])
    wrong = owner.post("processes/inspect", {"filename": "approval.bpmn", "content": BOARD.decode(),
                                             "lane_roles": {"Board": "chairman"}})
    assert wrong.status_code == 400 and "'Board' is mapped to 'chairman'" in wrong.get_json()["message"]


def test_the_api_deploys_with_a_lane_mapping_and_the_next_version_keeps_it(api, session, lifecycle):
    files, forms = read_test_bundle()
    bundle = {"files": {**{k: v.decode() for k, v in files.items()}, "approval.bpmn": BOARD.decode()},
              "forms": {k: v.decode() for k, v in forms.items()}}
    owner = api("owner")
    refused = owner.post("processes/deploy", {**bundle, "message": "board approves"})
    assert refused.status_code == 422
    deployed = owner.post("processes/deploy", {**bundle, "message": "board approves",
                                               "lane_roles": {"Board": {"role": "ser", "partner_side": True}}})
    assert deployed.status_code == 201, deployed.get_json()
    version = session.get(ProcessVersion, deployed.get_json()["version"]["id"])
    assert version.lane_roles == {"Board": {"role": "ser", "partner_side": True}}
    checked = owner.post("processes/validate", bundle).get_json()
    assert checked["valid"], "validation uses the mapping the latest version keeps"


def test_the_upload_page_maps_lanes_checks_again_and_deploys(session, version, signed_in):
    owner = signed_in("owner")
    response = owner.client.post("/processes/upload", data={"csrf_token": _token(owner), "file": (_file(BOARD), "approval.bpmn")})
    assert response.status_code == 302
    upload_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    page = owner.get(f"/processes/uploads/{upload_id}").get_data(as_text=True)
    assert 'data-lane="Board"' in page and "not mapped" in page and 'id="deploy-upload"' not in page
    lanes = re.findall(r'<tr data-lane="([^"]+)">', page)
    form = {f"lane-{i}": ("top_management" if lane == "Board" else "") for i, lane in enumerate(lanes)}
    assert owner.post(f"/processes/uploads/{upload_id}/lanes", form, page=f"/processes/uploads/{upload_id}").status_code == 302
    session.expire_all()
    assert session.get(Upload, upload_id).runnable
    page = owner.get(f"/processes/uploads/{upload_id}").get_data(as_text=True)
    assert 'id="deploy-upload"' in page
    before = session.scalar(select(ProcessVersion.id).order_by(ProcessVersion.id.desc()).limit(1))
    done = owner.post(f"/processes/uploads/{upload_id}/deploy", {"message": "Board approval"}, page=f"/processes/uploads/{upload_id}")
    assert done.status_code == 302, re.findall(r'<td[^>]*>([^<]{10,})<', done.get_data(as_text=True))[:12]
    session.expire_all()
    latest = session.scalars(select(ProcessVersion).order_by(ProcessVersion.id.desc()).limit(1)).one()
    assert latest.id > before and latest.lane_roles == {"Board": {"role": "top_management", "partner_side": False}}
    assert {f.name: f.content for f in latest.files}["approval.bpmn"] == BOARD, "the upload replaced its file"


def _token(browser):
    from tests.support.web import token
    return token(browser.get("/processes/upload").get_data(as_text=True))


def _file(content):
    import io
    return io.BytesIO(content)


# ---------------------------------------------------------------------------- the MIWG reference models
FILES = sorted(MIWG.glob("*.bpmn")) if MIWG.is_dir() else []


def executable(content: bytes) -> bytes:
    """The owner's one edit a reference model needs before anything else: mark its processes executable."""
    return re.sub(rb'isExecutable="false"', b'isExecutable="true"', content)


@pytest.mark.skipif(len(FILES) != 21, reason="shared/conformance/miwg is not beside the repository")
def test_reference_models_executable_once_their_lanes_are_mapped_run_to_their_end(api, session, wf_engine, users,
                                                                                  lifecycle):
    owner, ran = api("owner"), []
    for path in FILES:
        content = executable(path.read_bytes()).decode("iso-8859-1" if b"ISO-8859-1" in path.read_bytes()[:100]
                                                       else "utf-8")
        first = owner.post("processes/inspect", {"filename": path.name, "content": content}).get_json()
        lanes = {lane["lane"]: "staff" for lane in first["lanes"] if lane["role"] is None}
        verdict = owner.post("processes/inspect", {"filename": path.name, "content": content,
                                                   "lane_roles": lanes}).get_json()
        if not verdict["runnable"]:
            continue
        files, forms = read_test_bundle()
        version, _, _ = services.deploy_version(session, wf_engine, {**files, path.name: content.encode()}, forms,
                                                user=users["owner"], now=T0, lane_roles=lanes)
        for process in verdict["processes"]:
            instance = services.start_instance(session, wf_engine, user=users["admin"],
                                               process_id=process["process_id"], version_id=version.id, now=T0)
            for _ in range(50):
                session.expire_all()
                ready = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.instance_id,
                                                                HumanTask.state == "ready")).all()
                if not ready:
                    break
                services.complete_task(session, wf_engine, user=users["staff"], human_task_id=ready[0].id,
                                       data={}, now=T0)
            session.expire_all()
            assert session.get(ProcessInstance, instance.instance_id).status == "completed", path.name
            ran.append(path.name)
    # A.4.0's two processes with their expanded sub-processes; the others need more than lanes (conditions, data
    # stores, called processes)
    assert ran == ["A.1.0.bpmn", "A.4.0.bpmn", "A.4.0.bpmn"], ran
