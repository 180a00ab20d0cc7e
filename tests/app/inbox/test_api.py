"""The task endpoints through the API: the inbox and its filters, a task's detail, claim, release, draft and complete,
and their validation and conflict answers (four eyes, lanes)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.inbox.models import TaskDraft
from tests.support.api import events, snapshot
from tests.support.api import start_relationship as start

VALID_POLICY = {
    "policy_text": "We collaborate openly and fairly.", "approved_on": "2026-01-15", "scope": "division",
    "channels": ["email"], "improvement": True,
    "communications": [{"audience": "All staff", "channel": "briefing"}],
}


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
    assert session.scalar(select(func.count()).select_from(TaskDraft).where(TaskDraft.human_task_id == task_id)) == 0

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
    from tests.support.api import Api
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


