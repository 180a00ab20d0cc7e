"""A calendar feed in a real browser: a person makes their feed on the account page, sees its address once,
copies it, a calendar app fetches it with no session, and after "Revoke" the address answers 404."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

from icalendar import Calendar
from playwright.sync_api import expect

from tests.support.browser import sign_in
from tests.support.calendar import path_of


def _status(url: str) -> tuple[int, bytes, str]:
    """A calendar app's GET: its own HTTP client, no cookie."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        return error.code, b"", error.headers.get("Content-Type", "")


def test_a_person_makes_their_calendar_feed_sees_it_once_and_revokes_it(live_server, page, session, users):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    sign_in(page, live_server, session, users["staff"])
    page.locator("#account-link").click()
    expect(page.locator("#calendar-feed-state")).to_have_text("You have no calendar feed.")
    page.get_by_role("button", name="Make a calendar feed").click()

    address = page.locator("#new-feed-url")
    expect(address).to_have_value(re.compile(r"/calendar/cal_[\w-]+\.ics$"))
    url = live_server + path_of(address.input_value())
    expect(page.locator("#new-feed-webcal")).to_have_attribute("href", re.compile(r"^webcal://.*\.ics$"))
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert path_of(page.evaluate("navigator.clipboard.readText()")) == path_of(address.input_value())

    status, body, kind = _status(url)
    assert status == 200 and kind == "text/calendar; charset=utf-8"
    assert str(Calendar.from_ical(body)["X-WR-CALNAME"]).startswith("collabflow: ")

    page.goto(live_server + "/account")  # shown once: the address is not on the page any more
    expect(page.locator("#new-feed-url")).to_have_count(0)
    expect(page.locator("#calendar-feed-state")).to_contain_text("was made")
    expect(page.locator("#calendar-feed-state")).to_contain_text("last fetched")

    page.get_by_role("button", name="Revoke the feed").click()
    expect(page.locator("#calendar-feed-state")).to_have_text("You have no calendar feed.")
    assert _status(url)[0] == 404
