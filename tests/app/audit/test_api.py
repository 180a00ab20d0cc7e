"""A relationship's audit trail through the API: filtered by action, paged."""

from __future__ import annotations

from sqlalchemy import select

from app.audit.models import AuditEvent
from tests.support.api import start_relationship as start


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
