"""Notifications through the API: list (unread only) and mark read, never someone else's."""

from __future__ import annotations

from tests.support.api import start_relationship as start


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
