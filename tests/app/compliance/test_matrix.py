"""The compliance matrix through the real lifecycle: all 82 requirements evidenced after the happy path, with
who and when; a relationship stopped after stage 3 shows exactly the stage 4-8 ids as not started."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.compliance.services import catalogue, gaps, matrix, summary
from app.processes import services
from tests.support.driver import live_a_year_in_stage_7, until_ready
from workflows import add_period


def test_the_happy_path_evidences_every_requirement(start, session):
    rel = start()
    live_a_year_in_stage_7(rel)
    rel.drive()
    assert rel.completed
    rows = matrix(session, rel.instance_id, now=rel.now)
    assert len(rows) == 82 and summary(rows)["evidenced"] == 82
    policy = next(r for r in rows if r.requirement.id == "S1.02")
    (evidence,) = policy.evidence
    assert evidence.name == "Write the collaborative working policy" and evidence.completed_by == "staff"
    assert evidence.submitted.get("policy_text")
    assert gaps(rows) == {}
    later = matrix(session, rel.instance_id, now=rel.now + timedelta(days=3 * 365))
    assert summary(later)["evidenced"] == 82, "an ended relationship's reviews never fall overdue"


def test_a_relationship_stopped_after_stage_3_shows_stages_4_to_8_not_started(start, session, wf_engine, users):
    rel = start()
    rel.drive(until=until_ready("s4_nominate_candidates"))
    services.cancel_instance(session, wf_engine, user=users["admin"], instance_id=rel.instance_id,
                             reason="stopped after stage 3", now=rel.now)
    rows = matrix(session, rel.instance_id, now=rel.now)
    by_status = {}
    for row in rows:
        by_status.setdefault(row.status, set()).add(row.requirement.id)
    later = {r.id for r in catalogue() if r.stage in ("S4", "S5", "S6", "S7", "S8")}
    assert by_status["not_started"] == later
    assert "S4 Partner selection" in gaps(rows) and "S3 Internal assessment" not in gaps(rows)


def test_reviews_not_done_on_time_are_flagged_overdue(start, session):
    rel = start()
    rel.drive(until=until_ready("s4_nominate_candidates"))

    def status(now):
        return {r.requirement.id: r.status for r in matrix(session, rel.instance_id, now=now)}["S3.07"]

    assert status(rel.now) == "evidenced", "the SER reviewed the management system at the stage 3 gate"
    rel.wake(at=add_period(rel.now, "P6M") + timedelta(minutes=1))     # the six-monthly review falls due
    assert status(rel.now) == "evidenced", "due, and still within its two weeks"
    assert status(rel.now + timedelta(days=15)) == "review_overdue", "not done within two weeks of falling due"


@pytest.mark.slow
def test_every_approved_stage_is_a_controlled_version_of_the_plan(start, session):
    from app.compliance import rmp
    rel = start()
    rel.drive({"s1_policy": {"policy_text": "We collaborate openly."}}, until=until_ready("s1_ser_gate"))
    rel.complete("s1_ser_gate", {"decision": "rework", "comments": "Name the channels."})
    rel.drive({"s1_policy": {"policy_text": "We collaborate openly, monthly."}}, until=until_ready("s1_ser_gate"))
    rel.complete("s1_ser_gate", {"decision": "approve"})
    live_a_year_in_stage_7(rel)
    rel.drive()
    plans = rmp.versions(session, rel.instance_id)
    assert [(v.number, v.kind, v.stage) for v in plans] == [
        (1, "CRMP", 1), (2, "CRMP", 2), (3, "CRMP", 3), (4, "PRMP", 4),
        (5, "JRMP", 5), (6, "JRMP", 6), (7, "JRMP", 7), (8, "JRMP", 8)]
    assert plans[0].approvers == ["ser"] and sorted(plans[4].approvers) == ["pser", "ser"]
    assert plans[0].changes == ["first version of the plan"]
    assert any(c.startswith("Stage 2: Knowledge: added") for c in plans[1].changes)
    markdown = rmp.to_markdown(plans[-1], "ACME joint bid")
    for number, stage in enumerate(("Awareness", "Knowledge", "Internal assessment", "Partner selection",
                                    "Working together", "Value creation", "Staying together", "Exit strategy"), 1):
        assert f"## Stage {number}: {stage}" in markdown
    assert "We collaborate openly, monthly." in markdown and "We collaborate openly." not in markdown.replace(
        "We collaborate openly, monthly.", "")
