"""Calendar feeds as a calendar app reads them: fetched over HTTP with no session, parsed with `icalendar`."""

from __future__ import annotations

import re

from icalendar import Calendar

FEED_URL = re.compile(r'id="new-feed-url" type="text" readonly value="([^"]+)"')


def feed_url_in(html: str) -> str:
    """The feed address a page shows once after making it."""
    found = FEED_URL.search(html)
    assert found, "no new feed address on the page"
    return found.group(1)


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def fetch(client, url: str) -> Calendar:
    """GET the feed as a calendar app would (its own client: no cookie) and parse it; asserts a 200 text/calendar."""
    response = client.get(path_of(url))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.get_data())


def events(calendar: Calendar) -> dict[str, object]:
    """{UID: VEVENT}; asserts no UID appears twice."""
    found = [event for event in calendar.walk("VEVENT")]
    uids = [str(event["UID"]) for event in found]
    assert len(uids) == len(set(uids)), f"duplicate UIDs: {uids}"
    return dict(zip(uids, found, strict=True))
