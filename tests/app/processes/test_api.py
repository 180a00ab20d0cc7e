"""Process versions through the API: list, validate, deploy (never twice), diff and the migration dry run."""

from __future__ import annotations

from tests.support.api import start_relationship as start
from tests.support.web import read_web_bundle


def _bundle_json():
    files, forms = read_web_bundle()
    return {"files": {k: v.decode() for k, v in files.items()}, "forms": {k: v.decode() for k, v in forms.items()}}


def test_processes_versions_validate_deploy_diff_dry_run(api, session, lifecycle):
    owner = api("owner")
    versions = owner.get("processes/versions").get_json()
    assert [v["id"] for v in versions] == [lifecycle.id] and "web_lifecycle.bpmn" in versions[0]["files"]
    checked = owner.post("processes/validate", _bundle_json())
    assert checked.status_code == 200 and checked.get_json()["valid"] is True
    assert "lifecycle" in checked.get_json()["process_ids"]
    broken = _bundle_json()
    broken["files"]["web_stage1.bpmn"] = broken["files"]["web_stage1.bpmn"].replace("</bpmn:definitions>", "")
    result = owner.post("processes/validate", broken).get_json()
    assert result["valid"] is False and result["problems"][0]["file"] == "web_stage1.bpmn"

    same = owner.post("processes/deploy", {**_bundle_json(), "message": "again"})
    assert same.status_code == 201 and same.get_json()["created"] is False  # unchanged: not deployed twice
    start(api("staff"))  # runs on the first version
    changed = _bundle_json()
    changed["files"]["web_stage1.bpmn"] = changed["files"]["web_stage1.bpmn"].replace(
        'name="Write the policy"', 'name="Write the collaboration policy"')
    deployed = owner.post("processes/deploy", {**changed, "message": "renamed"})
    assert deployed.status_code == 201, deployed.get_json()
    new_id = deployed.get_json()["version"]["id"]
    assert deployed.get_json()["created"] is True and deployed.get_json()["version"]["message"] == "renamed"
    refused = owner.post("processes/deploy", broken)
    assert refused.status_code == 422 and refused.get_json()["code"] == "validation_failed"
    assert refused.get_json()["errors"][0]["file"] == "web_stage1.bpmn"

    diff = owner.get(f"processes/diff?from={lifecycle.id}&to={new_id}").get_json()
    assert any(c["element_id"] == "s1_policy" for c in diff["changed"]), diff
    rows = owner.get(f"processes/migrations/dry-run?to={new_id}").get_json()
    assert len(rows) == 1 and rows[0]["from_version_id"] == lifecycle.id and "can_migrate" in rows[0]
    assert owner.get("processes/diff?from=1&to=999").status_code == 404
