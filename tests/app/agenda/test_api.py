"""The agenda through the API: a relationship's upcoming reviews, filtered by relationship."""

from __future__ import annotations


def test_agenda_lists_reviews_of_a_relationship(api, working_together, session):
    from app.management.services import management_system
    working_together.drive(until=lambda d: d.linked("periodic_review"))  # stage 5 schedules its reviews
    in_stage5 = working_together.instance_id
    staff = api("staff")
    everything = staff.get("agenda?horizon=12m").get_json()
    # the relationship's reviews, and the organisation's own (its management system's audits and reviews)
    assert {e["relationship_id"] for e in everything} == {in_stage5, management_system(session).id}
    entries = [e for e in everything if e["relationship_id"] == in_stage5]
    assert entries
    assert {"when", "kind", "title", "relationship", "overdue"} <= set(entries[0])
    assert staff.get(f"agenda?relationship={in_stage5}&horizon=12m").get_json() == entries
    assert staff.get("agenda?relationship=999999").get_json() == []
