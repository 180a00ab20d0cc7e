"""The compliance matrix through the real lifecycle, on two levels: a relationship's 70 requirements evidenced after
the happy path (with who and when), the organisation's own in its management system; a relationship stopped before
stage 4 shows exactly the stage 4-8 ids (and the joint exit decision) as not started."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.compliance.services import catalogue, gaps, matrix, summary
from app.processes import services
from app.requirements import ORGANISATION
from tests.support.driver import approve_organisation, live_a_year_in_stage_7, until_ready
from workflows import add_period


def test_the_happy_path_evidences_every_requirement(start, session):
    rel = start()
    live_a_year_in_stage_7(rel)
    rel.raise_exit_trigger("Our partner is being sold.")  # X.01: both SERs decide, each their own side
    rel.complete("exit_review", {"exit_decision": "dismiss"})
    rel.complete("exit_review_partner", {"partner_exit_decision": "dismiss"})
    rel.drive()
    assert rel.completed
    rows = matrix(session, rel.instance_id, now=rel.now)
    assert len(rows) == 70 and summary(rows)["evidenced"] == 70
    assert not [r for r in rows if r.requirement.stage in ("S1", "S3") or r.requirement.stage.startswith("M")]
    case = next(r for r in rows if r.requirement.id == "S2.05")
    (evidence,) = case.evidence
    assert evidence.name == "Develop the business case and market analysis" and evidence.completed_by == "staff"
    assert evidence.submitted.get("business_case")
    assert gaps(rows) == {}
    later = matrix(session, rel.instance_id, now=rel.now + timedelta(days=3 * 365))
    assert summary(later)["evidenced"] == 70, "an ended relationship's reviews never fall overdue"

    # the organisation's level: its policy, written once in its management system
    from app.management.services import management_system
    ms_rows = matrix(session, management_system(session).id, now=rel.now, scope=ORGANISATION)
    assert len(ms_rows) == 36
    (policy,) = next(r for r in ms_rows if r.requirement.id == "S1.02").evidence
    assert policy.name == "Write the collaborative working policy" and policy.submitted.get("policy_text")


def test_a_relationship_stopped_before_stage_4_shows_stages_4_to_8_not_started(start, session, wf_engine, users):
    rel = start()
    rel.drive(until=until_ready("s4_nominate_candidates"))
    services.cancel_instance(session, wf_engine, user=users["admin"], instance_id=rel.instance_id,
                             reason="stopped before partner selection", now=rel.now)
    rows = matrix(session, rel.instance_id, now=rel.now)
    by_status = {}
    for row in rows:
        by_status.setdefault(row.status, set()).add(row.requirement.id)
    later = {r.id for r in catalogue() if r.stage in ("S4", "S5", "S6", "S7", "S8", "X")}
    assert by_status["not_started"] == later
    assert "S4 Partner selection" in gaps(rows) and "S2 Knowledge" not in gaps(rows)


def test_reviews_not_done_on_time_are_flagged_overdue(session, services, users, lifecycle_version):
    from tests.support.driver import START_TIME
    organisation = approve_organisation(session, services, users, START_TIME)

    def status(now):
        return {r.requirement.id: r.status for r in matrix(session, organisation.instance_id, now=now,
                                                           scope=ORGANISATION)}["S3.07"]

    assert status(organisation.now) == "evidenced", "the SER reviewed the management system at the stage 3 gate"
    organisation.wake(at=add_period(organisation.now, "P6M") + timedelta(minutes=1))  # the review falls due
    assert status(organisation.now) == "evidenced", "due, and still within its two weeks"
    assert status(organisation.now + timedelta(days=15)) == "review_overdue", \
        "not done within two weeks of falling due"


@pytest.mark.slow
def test_every_approved_stage_is_a_controlled_version_of_the_plan(start, session):
    from app.compliance import rmp
    rel = start()
    rel.drive({"s2_business_case": {"business_case": {"operating_model": "Joint bids win."}}},
              until=until_ready("s2_ser_gate"))
    rel.complete("s2_ser_gate", {"decision": "rework", "comments": "Say by how much.",
                                 "reopen_tasks": ["s2_business_case"]})
    rel.drive({"s2_business_case": {"business_case": {"operating_model": "Joint bids win twice as often."}}},
              until=until_ready("s2_ser_gate"))
    rel.complete("s2_ser_gate", {"decision": "approve"})
    live_a_year_in_stage_7(rel)
    rel.drive()
    plans = rmp.versions(session, rel.instance_id)
    assert [(v.number, v.kind, v.stage) for v in plans] == [
        (1, "CRMP", 2), (2, "PRMP", 4), (3, "JRMP", 5), (4, "JRMP", 6), (5, "JRMP", 7), (6, "JRMP", 8)]
    assert plans[0].approvers == ["ser"] and sorted(plans[2].approvers) == ["pser", "ser"]
    assert plans[0].changes == ["first version of the plan"]
    assert any(c.startswith("Stage 4: Partner selection: added") for c in plans[1].changes)
    markdown = rmp.to_markdown(plans[-1], "ACME joint bid")
    for number, stage in ((2, "Knowledge"), (4, "Partner selection"), (5, "Working together"),
                          (6, "Value creation"), (7, "Staying together"), (8, "Exit strategy")):
        assert f"## Stage {number}: {stage}" in markdown
    assert "## Stage 1" not in markdown and "## Stage 3" not in markdown
    assert "Joint bids win twice as often." in markdown and "Joint bids win." not in markdown
