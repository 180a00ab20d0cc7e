"""The workbench's decision table editor through the real app, database and engine: the bundled partner selection
rules open in dmn-js, are saved as a draft, validated with the same verdicts as a diagram and deployed as a new
version with the rest of the files."""

from __future__ import annotations

import json
import re

from sqlalchemy import func, select

from app.modeler.models import Draft
from app.processes.models import ProcessVersion
from tests.support.decisions import PARTNER_SELECTION, cell, with_cells
from tests.support.modeler import json_post

URL = "/processes/decisions/partner_selection.dmn"


def edited(**cells) -> str:
    return with_cells(PARTNER_SELECTION.read_bytes(), cells).decode()


def test_the_versions_decision_tables_are_listed_and_open_in_the_editor(owner, bundled):
    index = owner.get("/processes").get_data(as_text=True)
    assert 'id="decision-files"' in index and f'href="{URL}"' in index
    assert f'href="/processes/versions/{bundled.id}/files/dmn/partner_selection.dmn"' in index
    page = owner.get(URL).get_data(as_text=True)
    assert "dmn-modeler.production.min.js" in page and "modeler/decisions.js" in page
    assert 'data-validate-url="/processes/decisions/partner_selection.dmn/validate"' in page
    assert owner.get(URL + "/xml").data == PARTNER_SELECTION.read_bytes()
    assert owner.get(f"/processes/versions/{bundled.id}/files/dmn/partner_selection.dmn").data == \
        PARTNER_SELECTION.read_bytes()
    assert owner.get("/processes/decisions/missing.dmn").status_code == 404
    assert owner.get("/processes/decisions/partner_selection.bpmn").status_code == 400
    assert owner.get("/processes/diagrams/partner_selection.dmn").status_code == 400


def test_a_decision_table_is_drafted_validated_and_deployed_like_a_diagram(owner, bundled, session):
    saved = json_post(owner, URL + "/draft", {"xml": edited(rule_culture_factor="2")})
    assert saved.status_code == 200 and saved.get_json()["saved"]
    assert cell(owner.get(URL + "/xml").data, "rule_culture_factor") == "2"  # the editor opens the draft now
    index = owner.get("/processes").get_data(as_text=True)
    assert "Decision table" in index and f'<a href="{URL}">partner_selection.dmn</a>' in index

    bad = json_post(owner, URL + "/validate", {"xml": edited(rule_culture_factor="open('/etc/passwd')")}).get_json()
    assert bad["ok"] is False
    (problem,) = bad["problems"]
    assert (problem["file"], problem["element_id"]) == ("partner_selection.dmn", "rule_culture_factor")
    assert problem["line"] and "function 'open' is not available" in problem["message"]
    refused = json_post(owner, URL + "/deploy", {"xml": edited(rule_culture_factor="[1..5]"), "message": "oops"})
    assert refused.status_code == 422 and refused.get_json()["problems"][0]["element_id"] == "rule_culture_factor"
    assert json_post(owner, URL + "/validate", {"xml": edited(rule_culture_factor="3")}).get_json() == {
        "ok": True, "problems": [], "drafts": ["dmn:partner_selection.dmn"]}

    done = json_post(owner, URL + "/deploy", {"xml": edited(rule_culture_factor="3"), "message": "culture x3"})
    assert done.status_code == 200, done.get_json()
    session.expire_all()
    new = session.get(ProcessVersion, done.get_json()["version_id"])
    assert new.message == "culture x3" and {f.name for f in new.files} == {f.name for f in bundled.files}
    table = next(f for f in new.files if f.name == "partner_selection.dmn")
    assert table.kind == "dmn" and cell(table.content, "rule_culture_factor") == "3"
    assert session.scalar(select(func.count()).select_from(Draft)) == 0
    diff = owner.get(f"/processes/versions/{bundled.id}/diff/{new.id}").get_data(as_text=True)
    assert "s4_weigh_criteria" in diff and "decision_table" in diff  # the task whose table changed
    discard = json_post(owner, URL + "/draft", {"xml": edited(rule_culture_factor="4")})
    assert discard.status_code == 200
    assert owner.post("/processes/drafts/dmn/partner_selection.dmn/discard", page="/processes").status_code == 302
    assert session.scalar(select(func.count()).select_from(Draft)) == 0


def test_the_modeller_offers_the_decisions_a_business_rule_task_may_call(owner, bundled):
    page = owner.get("/processes/diagrams/stage4_partner_selection.bpmn").get_data(as_text=True)
    offered = json.loads(re.search(r"data-decisions='([^']*)'", page).group(1))
    assert offered == [
        {"id": "criterion_weighting", "name": "Weighting of a selection criterion", "file": "partner_selection.dmn"},
        {"id": "escalation_limits", "name": "Escalation time limits by issue impact", "file": "issue_escalation.dmn"},
        {"id": "review_intervals_by_priority", "name": "Review intervals by relationship priority",
         "file": "review_cadence.dmn"}]
    json_post(owner, URL + "/draft", {"xml": edited().replace('id="criterion_weighting"', 'id="criterion_weights"')})
    page = owner.get("/processes/diagrams/stage4_partner_selection.bpmn").get_data(as_text=True)
    offered = json.loads(re.search(r"data-decisions='([^']*)'", page).group(1))
    assert [d["id"] for d in offered if d["file"] == "partner_selection.dmn"] == ["criterion_weights"]  # the owner's
    # draft is what a deploy would hold
