"""Each endpoint's happy path, and the validation and conflict answers of the task endpoints."""

from __future__ import annotations

from sqlalchemy import select

from app.audit.models import AuditEvent
from tests.api.conftest import events, snapshot
from tests.web.conftest import read_web_bundle

VALID_POLICY = {
    "policy_text": "We collaborate openly and fairly.", "approved_on": "2026-01-15", "scope": "division",
    "channels": ["email"], "improvement": True,
    "communications": [{"audience": "All staff", "channel": "briefing"}],
}
ERROR_KEYS = {"code", "status", "message", "errors"}


def start(client, title="ACME"):
    response = client.post("relationships", {"title": title, "partner": f"{title} Ltd"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_relationships_start_list_filter_and_show(api, lifecycle):
    staff = api("staff")
    made = start(staff)
    assert made["title"] == "ACME" and made["partner"] == "ACME Ltd" and made["status"] == "running"
    assert made["progress"]["stage"] == 1 and [t["name"] for t in made["tasks"]] == ["Write the policy"]
    start(staff, "Beta")
    listed = staff.get("relationships").get_json()
    assert listed["total"] == 2 and [r["title"] for r in listed["items"]] == ["Beta", "ACME"]
    assert staff.get("relationships?stage=1&status=running").get_json()["total"] == 2
    assert staff.get("relationships?stage=2").get_json()["total"] == 0
    assert staff.get("relationships?status=completed").get_json()["total"] == 0
    paged = staff.get("relationships?per_page=1&page=2").get_json()
    assert paged["pages"] == 2 and [r["title"] for r in paged["items"]] == ["ACME"]
    shown = staff.get(f"relationships/{made['id']}").get_json()
    assert shown["id"] == made["id"] and shown["open_tasks"] == 1 and shown["event_count"] >= 1
    missing = staff.get("relationships/999999")
    assert missing.status_code == 404 and set(missing.get_json()) == ERROR_KEYS


def test_inbox_filters_and_pagination(api, lifecycle):
    staff = api("staff")
    for i in range(21):
        start(staff, f"Rel {i:02d}")
    inbox = staff.get("tasks").get_json()
    assert inbox["total"] == 21 and inbox["pages"] == 2 and inbox["per_page"] == 20 and len(inbox["items"]) == 20
    assert inbox["counts"] == {"mine": 0, "claimable": 21, "overdue": 0, "all": 21}
    assert len(staff.get("tasks?page=2").get_json()["items"]) == 1
    first = inbox["items"][0]
    assert staff.post(f"tasks/{first['id']}/claim").get_json()["assignee_id"] is not None
    mine = staff.get("tasks?scope=mine").get_json()
    assert [t["id"] for t in mine["items"]] == [first["id"]]
    assert staff.get(f"tasks?relationship={first['relationship_id']}").get_json()["total"] == 1
    assert staff.get("tasks?stage=stage1&role=staff&sort=name").get_json()["total"] == 21
    assert staff.get("tasks?stage=stage2").get_json()["total"] == 0
    assert staff.get("tasks?overdue=true").get_json()["total"] == 0
    assert api("ser").get("tasks").get_json()["total"] == 0  # the policy is staff work


def test_task_detail_claim_release_draft_complete(api, session, lifecycle):
    staff, ser = api("staff"), api("ser")
    rel = start(staff)
    task_id = rel["tasks"][0]["id"]
    detail = staff.get(f"tasks/{task_id}").get_json()
    assert detail["schema"]["title"] == "Collaborative working policy" and "ui:order" in detail["ui_schema"]
    assert detail["may_complete"] is True and detail["refusal"] is None and detail["state"] == "ready"
    assert detail["instructions"] and detail["draft"] is None and detail["data"] == {}

    claimed = staff.post(f"tasks/{task_id}/claim")
    assert claimed.status_code == 200 and claimed.get_json()["assignee_name"] == "staff"
    released = staff.post(f"tasks/{task_id}/release")
    assert released.status_code == 200 and released.get_json()["assignee_id"] is None

    draft = staff.put(f"tasks/{task_id}/draft", {"data": {"policy_text": "half done"}})
    assert draft.status_code == 200 and draft.get_json()["data"] == {"policy_text": "half done"}
    detail = staff.get(f"tasks/{task_id}").get_json()
    assert detail["data"] == {"policy_text": "half done"} and detail["draft"]["data"] == {"policy_text": "half done"}

    done = staff.post(f"tasks/{task_id}/complete", {"data": VALID_POLICY})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["completed"] == task_id and body["relationship_id"] == rel["id"] and body["status"] == "running"
    assert [t["name"] for t in body["next_tasks"]] == ["SER approval: Awareness"]
    assert body["next_for_you"] is None  # the gate is an SER's
    assert staff.get(f"tasks/{task_id}").get_json()["state"] == "completed"

    gate = body["next_tasks"][0]["id"]
    gate_detail = ser.get(f"tasks/{gate}").get_json()
    assert gate_detail["approval_gate"] is True and gate_detail["may_complete"] is True
    again = staff.post(f"tasks/{task_id}/complete", {"data": VALID_POLICY})
    assert again.status_code == 409 and again.get_json()["code"] == "task_not_ready"


def test_complete_with_invalid_data_is_422_per_field_and_changes_nothing(api, session, lifecycle):
    staff = api("staff")
    task_id = start(staff)["tasks"][0]["id"]
    before = snapshot(session)
    events_before = events(session)
    response = staff.post(f"tasks/{task_id}/complete", {"data": {
        **VALID_POLICY, "scope": "galaxy", "review_months": 99, "policy_text": "", "surprise": 1}})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert {"scope", "review_months", "policy_text", "surprise"} <= set(errors), errors
    missing = staff.post(f"tasks/{task_id}/complete", {"data": {}}).get_json()["errors"]
    assert missing["policy_text"] == "this field is required"
    assert snapshot(session) == before and events(session) == events_before


def test_four_eyes_and_lane_refusals_are_403(app, api, session, lifecycle, users):
    from app.auth.services import create_user
    from app.db import utcnow
    from app.tokens.services import create_token
    from tests.api.conftest import Api
    both = create_user(session, "both", password=None, roles=["staff", "ser"], organisation="Us")
    preparer = Api(app.test_client(), create_token(session, both, name="t", days=1, now=utcnow()).secret)
    staff = api("staff")
    task_id = start(staff)["tasks"][0]["id"]
    assert api("ser").put(f"tasks/{task_id}/draft", {"data": {}}).status_code == 403  # not an SER's lane
    done = preparer.post(f"tasks/{task_id}/complete", {"data": VALID_POLICY}).get_json()
    gate = done["next_tasks"][0]["id"]
    assert done["next_for_you"] is None  # four eyes: the gate is not for the one who prepared the stage
    before = snapshot(session)
    refused = preparer.post(f"tasks/{gate}/complete", {"data": {"decision": "approve"}})
    assert refused.status_code == 403 and "four eyes" in refused.get_json()["message"]
    assert snapshot(session) == before
    assert events(session, "api.forbidden") == 2


def test_issue_and_exit_trigger_in_stage_5(api, session, in_stage5):
    jmt = api("jmt")
    issue = jmt.post(f"relationships/{in_stage5}/issues", {"title": "Late deliveries", "description": "Twice"})
    assert issue.status_code == 201, issue.get_json()
    body = issue.get_json()
    assert body["relationship_id"] == in_stage5 and body["instance_id"] != in_stage5 and body["stage"]["number"] == 5
    shown = jmt.get(f"relationships/{in_stage5}").get_json()
    assert [i["id"] for i in shown["issues"]] == [body["instance_id"]]
    trigger = jmt.post(f"relationships/{in_stage5}/exit-triggers", {"reason": "Partner acquired"})
    assert trigger.status_code == 201, trigger.get_json()
    again = jmt.post(f"relationships/{in_stage5}/exit-triggers", {"reason": "Again"})
    assert again.status_code == 400 and "already open" in again.get_json()["message"]


def test_issue_outside_stages_5_to_7_is_400(api, lifecycle, session):
    staff = api("staff")
    rel = start(staff)
    before = snapshot(session)
    response = staff.post(f"relationships/{rel['id']}/issues", {"title": "Too early"})
    assert response.status_code == 400 and response.get_json()["errors"] == {"stage": 1}
    assert snapshot(session) == before


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


def test_notifications_list_and_mark_read(api, session, lifecycle):
    staff = api("staff")
    start(staff)
    start(staff, "Beta")
    listed = staff.get("notifications").get_json()
    assert listed["unread"] == 2 and {n["kind"] for n in listed["items"]} == {"task"}
    first = listed["items"][0]["id"]
    assert staff.post("notifications/read", {"ids": [first]}).get_json() == {"marked": 1, "unread": 1}
    assert len(staff.get("notifications?unread=true").get_json()["items"]) == 1
    # the SER's own (two partners without an SER yet), never someone else's
    assert api("ser").post("notifications/read", {}).get_json()["marked"] == 2
    assert staff.get("notifications").get_json()["unread"] == 1
    assert staff.post("notifications/read", {}).get_json() == {"marked": 1, "unread": 0}


def test_agenda_lists_reviews_of_a_relationship(api, in_stage5):
    staff = api("staff")
    entries = staff.get("agenda?horizon=12m").get_json()
    assert entries and all(e["relationship_id"] == in_stage5 for e in entries)
    assert {"when", "kind", "title", "relationship", "overdue"} <= set(entries[0])
    assert staff.get(f"agenda?relationship={in_stage5}&horizon=12m").get_json() == entries
    assert staff.get("agenda?relationship=999999").get_json() == []


def test_audit_events_of_a_relationship(api, session, lifecycle):
    staff = api("staff")
    rel = start(staff)
    trail = staff.get(f"relationships/{rel['id']}/events").get_json()
    actions = [e["action"] for e in trail["items"]]
    assert "instance.started" in actions and "relationship.described" in actions and trail["total"] == len(actions)
    only = staff.get(f"relationships/{rel['id']}/events?action=task.created").get_json()
    assert {e["action"] for e in only["items"]} == {"task.created"}
    paged = staff.get(f"relationships/{rel['id']}/events?per_page=1&page=2").get_json()
    assert len(paged["items"]) == 1 and paged["pages"] == trail["total"]
    total = session.scalar(select(AuditEvent.id).where(AuditEvent.instance_id == rel["id"]).limit(1))
    assert total is not None
    assert staff.get("relationships/999999/events").status_code == 404
