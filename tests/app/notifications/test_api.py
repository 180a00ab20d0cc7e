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


def test_notification_preferences_through_the_api_and_the_account_page(api, session, users, signed_in):
    staff = api("staff")
    assert staff.get("notifications/preferences").get_json() == {"email": "each", "muted_kinds": [],
                                                                 "digest_hour": 7}
    refused = staff.put("notifications/preferences", {"email": "weekly", "muted_kinds": [], "digest_hour": 7})
    assert refused.status_code == 400 and "email" in refused.get_json()["errors"]
    saved = staff.put("notifications/preferences", {"email": "digest", "muted_kinds": ["due_soon"], "digest_hour": 18})
    assert saved.status_code == 200 and saved.get_json()["email"] == "digest"
    page = signed_in("staff").get("/account").get_data(as_text=True)
    assert 'value="digest" checked' in page and 'value="due_soon" checked' in page and 'value="18" selected' in page
    browser = signed_in("ser")
    posted = browser.post("/account/notifications", {"email": "none", "digest_hour": "7", "muted": ["overdue"]},
                          page="/account")
    assert posted.status_code == 302
    assert api("ser").get("notifications/preferences").get_json() == {"email": "none", "muted_kinds": ["overdue"],
                                                                      "digest_hour": 7}
    bad = browser.post("/account/notifications", {"email": "each", "digest_hour": "99"}, page="/account")
    assert bad.status_code == 400 and "an hour from 0 to 23" in bad.get_data(as_text=True)
