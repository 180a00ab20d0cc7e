"""Calendar feeds through the API: make a feed address (shown once), list, revoke; in the OpenAPI document; bad
input named by its field and changing nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from app.calendar.models import CalendarFeed
from tests.support.api import ERROR_KEYS
from tests.support.calendar import fetch, path_of


def _feeds(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(CalendarFeed))


def test_a_feed_is_made_listed_and_revoked_through_the_api(app, api, session, acme):
    staff = api("staff")
    made = staff.post("calendar-feeds", {})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["relationship_id"] is None and body["url"].startswith("http") and "/calendar/cal_" in body["url"]
    assert body["webcal_url"] == "webcal://" + body["url"].split("://", 1)[1]
    row = session.get(CalendarFeed, body["id"])
    assert row.token_hash not in body["url"] and body["prefix"] == path_of(body["url"]).split("/")[-1][:10]
    fetch(app.test_client(), body["url"])

    of_acme = staff.post("calendar-feeds", {"relationship": acme}).get_json()
    assert of_acme["relationship_id"] == acme and of_acme["relationship"] == "ACME"
    assert fetch(app.test_client(), of_acme["url"])["X-WR-CALNAME"] == "collabflow: ACME"
    listed = staff.get("calendar-feeds").get_json()
    assert [f["id"] for f in listed] == [body["id"], of_acme["id"]]
    assert all("url" not in f for f in listed)

    assert api("ser").delete(f"calendar-feeds/{body['id']}").status_code == 404  # another's is not told to exist
    assert staff.delete(f"calendar-feeds/{body['id']}").status_code == 204
    assert app.test_client().get(path_of(body["url"])).status_code == 404
    assert staff.delete(f"calendar-feeds/{body['id']}").status_code == 204  # twice is harmless
    assert [f["id"] for f in staff.get("calendar-feeds").get_json()] == [of_acme["id"]]
    session.commit()


def test_bad_input_is_named_and_changes_nothing(api, session, users):
    staff = api("staff")
    before = _feeds(session)
    for payload, field in (({"relationship": "x"}, "relationship"), ({"relationship": 0}, "relationship"),
                           ({"colour": "red"}, "colour")):
        refused = staff.post("calendar-feeds", payload)
        assert refused.status_code == 422, refused.get_json()
        assert set(refused.get_json()) == ERROR_KEYS and field in str(refused.get_json()["errors"])
    missing = staff.post("calendar-feeds", {"relationship": 999999})
    assert missing.status_code == 404 and set(missing.get_json()) == ERROR_KEYS
    assert staff.delete("calendar-feeds/999999").status_code == 404
    assert _feeds(session) == before
    session.commit()


def test_the_feed_endpoints_are_in_the_openapi_document(api):
    paths = api("staff").get("openapi.json").get_json()["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/calendar-feeds"])
    assert "delete" in paths["/api/v1/calendar-feeds/{feed_id}"]
