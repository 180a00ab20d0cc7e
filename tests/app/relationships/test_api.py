"""Relationships through the API: start, list, filter and show; issues and exit triggers (stages 5-7 only)."""

from __future__ import annotations

from tests.support.api import ERROR_KEYS, snapshot
from tests.support.api import start_relationship as start


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
