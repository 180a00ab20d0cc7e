"""An opened feed as an iCalendar document (RFC 5545, written by the `icalendar` library).

Each event's UID is derived from what falls due, never from when: a review or timer is its instance and the
diagram's timer element, a deadline its task row. A rescheduled review therefore moves in the subscriber's calendar
(same UID, new DTSTART) instead of appearing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event, vDuration

from ..agenda.services import AgendaEntry
from .services import Feed

LENGTH = timedelta(minutes=30)  # what falls due is a moment; calendars draw it as a short event
REFRESH = timedelta(hours=1)  # how often a calendar app is asked to fetch the feed again
KIND_WORDS = {"review": "Review", "timer": "Due", "deadline": "Task due"}


@dataclass(frozen=True)
class Links:
    """Where an event's URL points: absolute addresses built by the page that serves the feed."""
    host: str  # the UIDs' domain part (the site's host name), so they are unique across installations
    task: Callable[[int], str]
    relationship: Callable[[int], str]


def uid(entry: AgendaEntry, host: str) -> str:
    """The event's stable identity: what falls due, not when."""
    if entry.task_id is not None:
        return f"task-{entry.task_id}@{host}"
    return f"timer-{entry.instance_id}-{entry.element or 'timer'}@{host}"


def summary(entry: AgendaEntry) -> str:
    """The relationship and what falls due, in words: 'Review: Review of the joint risk register (ACME)'."""
    kind = "Gate due" if entry.gate else KIND_WORDS.get(entry.kind, "Due")
    where = entry.relationship or f"Relationship #{entry.relationship_id}"
    overdue = " (overdue)" if entry.overdue else ""
    return f"{kind}{overdue}: {entry.title} — {where}"


def document(feed: Feed, links: Links, *, now: datetime) -> bytes:
    """The feed as text/calendar bytes (UTF-8, CRLF lines)."""
    calendar = Calendar()
    calendar.add("prodid", "-//collabflow//calendar feeds//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", feed.name)
    calendar.add("x-wr-calname", feed.name)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))  # older Outlook reads this one
    stamp = now.astimezone(UTC).replace(microsecond=0)
    for entry in feed.entries:
        start = entry.when.astimezone(UTC).replace(microsecond=0)
        event = Event()
        event.add("uid", uid(entry, links.host))
        event.add("dtstamp", stamp)
        changed = feed.changed.get(entry.instance_id)
        if changed is not None:
            event.add("last-modified", changed.astimezone(UTC).replace(microsecond=0))
        event.add("dtstart", start)
        event.add("dtend", start + LENGTH)
        event.add("summary", summary(entry))
        url = links.task(entry.task_id) if entry.task_id is not None else links.relationship(entry.relationship_id)
        event.add("url", url)
        event.add("description", _description(entry, url))
        event.add("categories", ["Gate" if entry.gate else KIND_WORDS.get(entry.kind, "Due")])
        event.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy
        calendar.add_component(event)
    return calendar.to_ical()


def _description(entry: AgendaEntry, url: str) -> str:
    what = {"review": "A periodic review falls due.", "timer": "A timer of the process falls due.",
            "deadline": "An SER gate falls due." if entry.gate else "A task falls due."}
    lines = [what.get(entry.kind, "Something falls due."),
             f"Relationship: {entry.relationship or f'#{entry.relationship_id}'}"]
    if entry.overdue:
        lines.append("It is overdue.")
    lines.append(f"Open it: {url}")
    return "\n".join(lines)
