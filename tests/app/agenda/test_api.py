"""The agenda through the API: a relationship's upcoming reviews, filtered by relationship."""

from __future__ import annotations


def test_agenda_lists_reviews_of_a_relationship(api, in_stage5):
    staff = api("staff")
    entries = staff.get("agenda?horizon=12m").get_json()
    assert entries and all(e["relationship_id"] == in_stage5 for e in entries)
    assert {"when", "kind", "title", "relationship", "overdue"} <= set(entries[0])
    assert staff.get(f"agenda?relationship={in_stage5}&horizon=12m").get_json() == entries
    assert staff.get("agenda?relationship=999999").get_json() == []
