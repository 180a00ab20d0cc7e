"""The workbench pages through the real app, database and engine: who may use them, history and downloads,
the modeller's draft / validate / deploy, uploads, diffs and roll back, forms."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.modeler.models import Draft, Upload
from app.processes.models import ProcessVersion
from tests.support.modeler import NON_OWNERS, json_post, stage1
from tests.support.web import WEB_DATA, token


def versions(session) -> int:
    session.expire_all()
    count = session.scalar(select(func.count()).select_from(ProcessVersion))
    session.commit()  # end the read (nothing to write) before the app writes; a rollback here would also undo,
    # in the rolled-back test transaction, what the app committed since this session began (SAVEPOINT nesting)
    return count


# ------------------------------------------------------------------------------------------------ who
def _routes(session, lifecycle, users):
    """Every workbench route with real ids: (method, url, form or json body)."""
    upload = Upload(filename="x.bpmn", content=b"<x/>", size=4, sha256="0" * 64, well_formed=True, runnable=False,
                    verdict={"processes": [], "problems": []}, uploaded_by_id=users["owner"].id)
    session.add(upload)
    session.commit()
    v = lifecycle.id
    return [
        ("GET", "/processes", None),
        ("GET", f"/processes/versions/{v}/files/bpmn/web_stage1.bpmn", None),
        ("GET", f"/processes/versions/{v}/files/form/policy.schema.json", None),
        ("GET", f"/processes/versions/{v}/xml/web_stage1.bpmn", None),
        ("GET", "/processes/diagrams/web_stage1.bpmn", None),
        ("GET", "/processes/diagrams/web_stage1.bpmn/xml", None),
        ("POST", "/processes/diagrams/web_stage1.bpmn/draft", {"xml": stage1()}),
        ("POST", "/processes/diagrams/web_stage1.bpmn/validate", {"xml": stage1()}),
        ("POST", "/processes/diagrams/web_stage1.bpmn/deploy", {"xml": stage1(), "message": "m"}),
        ("POST", "/processes/drafts/bpmn/web_stage1.bpmn/discard", {}),
        ("GET", "/processes/decisions/rules.dmn", None),
        ("GET", "/processes/decisions/rules.dmn/xml", None),
        ("POST", "/processes/decisions/rules.dmn/draft", {"xml": "<definitions/>"}),
        ("POST", "/processes/decisions/rules.dmn/validate", {"xml": "<definitions/>"}),
        ("POST", "/processes/decisions/rules.dmn/deploy", {"xml": "<definitions/>", "message": "m"}),
        ("POST", "/processes/drafts/dmn/rules.dmn/discard", {}),
        ("GET", "/processes/upload", None),
        ("POST", "/processes/upload", {}),
        ("GET", f"/processes/uploads/{upload.id}", None),
        ("GET", f"/processes/uploads/{upload.id}/download", None),
        ("GET", f"/processes/uploads/{upload.id}/xml", None),
        ("POST", f"/processes/uploads/{upload.id}/draft", {}),
        ("GET", f"/processes/versions/{v}/diff/{v}", None),
        ("GET", f"/processes/versions/{v}/roll-back", None),
        ("POST", f"/processes/versions/{v}/roll-back", {"message": "m"}),
        ("GET", f"/processes/migrate?to={v}", None),
        ("POST", "/processes/migrate", {"to": v, "instances": [1]}),
        ("POST", "/processes/moves/1/undo", {}),
        ("GET", "/processes/forms/policy", None),
        ("POST", "/processes/forms/policy/preview", {"schema": "{}", "ui": "{}"}),
        ("POST", "/processes/forms/policy", {"schema": "{}", "ui": "{}"}),
    ]


@pytest.mark.parametrize("who", NON_OWNERS)
def test_every_workbench_route_is_forbidden_to_everyone_but_process_owners(who, session, lifecycle, users,
                                                                          signed_in):
    client = signed_in(who)
    before = versions(session)
    csrf = token(client.get("/inbox").get_data(as_text=True))
    for method, url, body in _routes(session, lifecycle, users):
        if method == "GET":
            response = client.get(url)
        else:
            response = client.client.post(url, json=body, headers={"X-CSRFToken": csrf, "Accept": "application/json"})
        assert response.status_code == 403, (who, method, url, response.status_code)
    assert "Processes" not in client.get("/inbox").get_data(as_text=True)
    assert versions(session) == before
    assert session.scalar(select(func.count()).select_from(Draft)) == 0


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_process_owners_and_admins_get_in(who, lifecycle, signed_in):
    client = signed_in(who)
    page = client.get("/inbox").get_data(as_text=True)
    assert re.search(r'<a href="/processes"[^>]*>Processes</a>', page)
    assert client.get("/processes").status_code == 200


# ------------------------------------------------------------------------------------------------ 1. history
def test_history_and_latest_files_download_byte_for_byte(owner, lifecycle):
    page = owner.get("/processes").get_data(as_text=True)
    assert f'data-version="{lifecycle.id}"' in page
    assert "owner" in page and "web test bundle" in page and lifecycle.content_hash[:12] in page
    assert "lifecycle" in page and "stage1_awareness" in page
    for kind, path in (("bpmn", WEB_DATA / "web_stage1.bpmn"), ("form", WEB_DATA / "forms" / "gate.uischema.json")):
        url = f"/processes/versions/{lifecycle.id}/files/{kind}/{path.name}"
        assert f'href="{url}"' in page
        response = owner.get(url)
        assert response.status_code == 200
        assert response.data == path.read_bytes()
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert path.name in response.headers["Content-Disposition"]
    assert owner.get(f"/processes/versions/{lifecycle.id}/files/bpmn/nope.bpmn").status_code == 404
    assert owner.get("/processes/versions/999/files/bpmn/web_stage1.bpmn").status_code == 404


# ------------------------------------------------------------------------------------------------ 2. modeller
def test_modeller_page_offers_the_versions_forms(owner, lifecycle):
    page = owner.get("/processes/diagrams/web_stage1.bpmn").get_data(as_text=True)
    forms = json.loads(re.search(r"data-forms='([^']*)'", page).group(1))
    assert "policy.schema.json" in forms and "gate.uischema.json" in forms
    assert "bpmn-modeler.production.min.js" in page
    xml = owner.get("/processes/diagrams/web_stage1.bpmn/xml")
    assert xml.data == (WEB_DATA / "web_stage1.bpmn").read_bytes()
    assert owner.get("/processes/diagrams/missing.bpmn").status_code == 404
    assert owner.get("/processes/diagrams/web_stage1.bpmn?version=99").status_code == 404
    assert owner.get("/processes/diagrams/..%2Fsecret.bpmn").status_code in (400, 404)


def test_draft_validate_and_deploy(owner, lifecycle, session, users):
    url = "/processes/diagrams/web_stage1.bpmn"
    saved = json_post(owner, url + "/draft", {"xml": stage1(name="Write the policy (v2)")})
    assert saved.status_code == 200 and saved.get_json()["saved"]
    assert b"(v2)" in owner.get(url + "/xml").data  # the draft is what the modeller opens now
    assert owner.get(url + f"/xml?version={lifecycle.id}").data == (WEB_DATA / "web_stage1.bpmn").read_bytes()

    bad = json_post(owner, url + "/validate", {"xml": stage1(form="missing.schema.json")}).get_json()
    assert bad["ok"] is False
    problem = next(p for p in bad["problems"] if p["element_id"] == "s1_policy")
    assert problem["file"] == "web_stage1.bpmn" and problem["line"] and "missing.schema.json" in problem["message"]
    broken = json_post(owner, url + "/validate", {"xml": "<bpmn:definitions"}).get_json()
    assert broken["ok"] is False and broken["problems"][0]["file"] == "web_stage1.bpmn"
    assert json_post(owner, url + "/validate", {"xml": stage1(name="ok")}).get_json()["ok"] is True

    before = versions(session)
    refused = json_post(owner, url + "/deploy", {"xml": stage1(form="missing.schema.json"), "message": "oops"})
    assert refused.status_code == 422 and refused.get_json()["problems"]
    assert versions(session) == before
    assert session.scalar(select(func.count()).select_from(Draft)) == 1  # a refusal keeps the drafts
    assert json_post(owner, url + "/deploy", {"xml": stage1(), "message": ""}).status_code == 400

    done = json_post(owner, url + "/deploy", {"xml": stage1(name="Write the policy, v3"), "message": "rename"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["version_id"] == lifecycle.id + 1 and versions(session) == before + 1
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Draft)) == 0
    new = session.get(ProcessVersion, lifecycle.id + 1)
    assert new.message == "rename" and new.author == "owner"
    assert {f.name for f in new.files} == {f.name for f in lifecycle.files}
    page = owner.get("/processes").get_data(as_text=True)
    assert f'data-version="{new.id}"' in page and "rename" in page
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"modeler.draft_saved", "version.deployed"} <= actions


def test_an_autosave_is_marked_as_such_in_the_audit_trail(owner, lifecycle, session):
    url = "/processes/diagrams/web_stage1.bpmn/draft"
    assert json_post(owner, url, {"xml": stage1(name="typed"), "auto": True}).status_code == 200
    assert json_post(owner, url, {"xml": stage1(name="saved"), "auto": False}).status_code == 200
    session.expire_all()
    saves = session.scalars(select(AuditEvent).where(AuditEvent.action == "modeler.draft_saved")
                            .order_by(AuditEvent.id)).all()
    assert [e.payload.get("automatic", False) for e in saves] == [True, False]


def test_discarding_a_draft(owner, lifecycle, session):
    json_post(owner, "/processes/diagrams/web_stage1.bpmn/draft", {"xml": stage1(name="draft")})
    assert "Your drafts" in owner.get("/processes").get_data(as_text=True)
    response = owner.post("/processes/drafts/bpmn/web_stage1.bpmn/discard", page="/processes")
    assert response.status_code == 302
    assert session.scalar(select(func.count()).select_from(Draft)) == 0


# ------------------------------------------------------------------------------------------------ 3. uploads
def _upload(client, name, content, page="/processes/upload"):
    import io
    return client.post("/processes/upload", {"file": (io.BytesIO(content), name)}, page=page,
                       content_type="multipart/form-data")


def test_upload_is_kept_byte_for_byte_with_its_verdict(owner, lifecycle, session):
    content = (WEB_DATA / "web_stage2.bpmn").read_bytes().replace(b"UTF-8", b"utf-8") + b"\n<!-- from elsewhere -->\n"
    response = _upload(owner, "elsewhere.bpmn", content)
    assert response.status_code == 302
    page = owner.get(response.headers["Location"]).get_data(as_text=True)
    assert "elsewhere.bpmn" in page and 'id="verdict"' in page and "data-markers" in page
    row = session.scalars(select(Upload)).one()
    assert row.content == content and row.well_formed
    download = owner.get(f"/processes/uploads/{row.id}/download")
    assert download.data == content and download.headers["Content-Disposition"].startswith("attachment")
    assert owner.get(f"/processes/uploads/{row.id}/xml").data == content
    assert "elsewhere.bpmn" in owner.get("/processes/upload").get_data(as_text=True)


def test_an_upload_with_problems_is_located(owner, lifecycle, session):
    xml = stage1(form="missing.schema.json").encode()
    page = owner.get(_upload(owner, "stage1.bpmn", xml).headers["Location"]).get_data(as_text=True)
    assert "cannot run here as it is" in page
    assert "s1_policy" in page and "Write the policy" in page and "missing.schema.json" in page
    markers = json.loads(re.search(r"data-markers='([^']*)'", page).group(1))
    assert markers == {"s1_policy": "cf-problem"}


def test_broken_xml_gives_a_located_error_and_deploys_nothing(owner, lifecycle, session):
    before = versions(session)
    broken = b'<?xml version="1.0"?>\n<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">\n  <process id="p">\n</definitions>\n'
    response = _upload(owner, "broken.bpmn", broken)
    page = owner.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="located-error"' in page and "line 4" in page and "not well-formed XML" in page
    assert versions(session) == before


@pytest.mark.parametrize("name, content, why", [
    ("notes.txt", b"<x/>", "only .bpmn and .xml"),
    ("empty.bpmn", b"", "is empty"),
    ("big.bpmn", b"<x>" + b"a" * 2000 + b"</x>", "the limit is 1,000"),
])
def test_upload_limits_are_refused_politely(name, content, why, app, owner, lifecycle, session):
    app.config["UPLOAD_MAX_BYTES"] = 1000
    response = _upload(owner, name, content)
    assert response.status_code == 400 and why in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Upload)) == 0
    assert owner.post("/processes/upload", {}, page="/processes/upload").status_code == 400


def test_an_upload_becomes_a_draft_in_the_modeller(owner, lifecycle, session):
    response = _upload(owner, "other tool.xml", (WEB_DATA / "web_stage2.bpmn").read_bytes())
    upload_id = int(response.headers["Location"].rsplit("/", 1)[1])
    made = owner.post(f"/processes/uploads/{upload_id}/draft", {"name": "web_stage2.bpmn"},
                      page=f"/processes/uploads/{upload_id}")
    assert made.status_code == 302 and made.headers["Location"].endswith("/processes/diagrams/web_stage2.bpmn")
    draft = session.scalars(select(Draft)).one()
    assert draft.content == (WEB_DATA / "web_stage2.bpmn").read_bytes()


# ------------------------------------------------------------------------------------------------ 4. diff
def test_diff_lists_and_marks_changes_and_rolls_back(owner, lifecycle, session):
    json_post(owner, "/processes/diagrams/web_stage1.bpmn/deploy", {"xml": stage1(name="Renamed"), "message": "v2"})
    new_id = lifecycle.id + 1
    page = owner.get(f"/processes/versions/{lifecycle.id}/diff/{new_id}").get_data(as_text=True)
    assert 'data-element="s1_policy"' in page and "changed" in page
    markers = json.loads(re.search(r"data-markers='([^']*)'", page).group(1))
    assert markers.get("s1_policy") == "cf-changed"
    assert f"/processes/versions/{new_id}/xml/web_stage1.bpmn" in page
    assert owner.get(f"/processes/versions/{lifecycle.id}/diff/999").status_code == 404

    confirm = f"/processes/versions/{lifecycle.id}/roll-back"
    assert f'href="{confirm}"' in page, "the diff's roll back opens the confirmation, it does not act"
    refused = owner.post(confirm, {"message": "  "}, page=confirm)
    assert refused.status_code == 400 and "say why you roll back" in refused.get_data(as_text=True)
    assert session.get(ProcessVersion, new_id + 1) is None, "no reason, no roll back"
    response = owner.post(confirm, {"message": "the new wording confused people"}, page=confirm)
    assert response.status_code == 302
    rolled = session.get(ProcessVersion, new_id + 1)
    assert rolled.message == f"roll back to version {lifecycle.id}: the new wording confused people"
    assert rolled.content_hash == lifecycle.content_hash


# ------------------------------------------------------------------------------------------------ 6. forms
def test_form_editor_checks_json_and_previews_the_task_form(owner, lifecycle, session):
    page = owner.get("/processes/forms/policy").get_data(as_text=True)
    assert "policy.schema.json" in page and 'id="form-preview-fields"' in page and 'name="f.' in page
    csrf = token(page)

    def preview(schema, ui="{}"):
        return owner.client.post("/processes/forms/policy/preview", data={"schema": schema, "ui": ui},
                                 headers={"X-CSRFToken": csrf}).get_data(as_text=True)

    assert "line 3, column 1" in preview('{\n  "type": "object",\n}')
    assert "not a valid JSON Schema" in preview('{"type": "object", "properties": {"a": {"type": "nope"}}}')
    shown = preview('{"type": "object", "properties": {"budget": {"type": "integer", "title": "Budget"}}}')
    assert "Budget" in shown and 'name="f.budget"' in shown

    bad = owner.post("/processes/forms/policy", {"schema": "{", "ui": "{}"}, page="/processes/forms/policy")
    assert bad.status_code == 400 and session.scalar(select(func.count()).select_from(Draft)) == 0
    schema = '{"type": "object", "properties": {"policy": {"type": "string"}}, "required": ["policy"]}'
    saved = owner.post("/processes/forms/policy", {"schema": schema, "ui": "{}"}, page="/processes/forms/policy")
    assert saved.status_code == 302
    assert {d.name for d in session.scalars(select(Draft))} == {"policy.schema.json", "policy.uischema.json"}
    done = json_post(owner, "/processes/diagrams/web_stage1.bpmn/deploy", {"xml": stage1(), "message": "forms"})
    assert done.status_code == 200, done.get_json()
    new = session.get(ProcessVersion, done.get_json()["version_id"])
    assert next(f.content for f in new.files if f.name == "policy.schema.json") == schema.encode()
