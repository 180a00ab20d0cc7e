"""Stages 1 and 3 are the organisation's, done once in its management system; a relationship starts at stage 2,
shows what it relies on, and enters stage 4 only while the organisation's internal assessment is approved and
current: it waits (its page says why, the SERs are told) and goes on by itself once the assessment is renewed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.lifecycle.services import current_stage
from app.management import services as management
from app.management.models import RelationshipFoundation
from app.notifications.models import Notification
from app.processes.models import HumanTask, ProcessInstance
from app.relationships import services as relationships
from tests.support.driver import START_TIME, Driver, approve_organisation


def _start(session, services, users, now, title="Tailspin partnership"):
    started = relationships.start(session, services.workflows, users["staff"], title=title, partner="Partner Ltd",
                                  now=now)
    return Driver(session, services, users, started.instance_id, now, organisation=False)


def _stage(session, driver):
    session.commit()
    return current_stage(session, driver.instance_id)


def test_a_relationship_starts_at_stage_2_relies_on_the_organisation_and_redoes_none_of_it(
        session, services, users, bundled, signed_in):
    organisation = approve_organisation(session, services, users, START_TIME)
    rel = _start(session, services, users, organisation.now + timedelta(days=1))
    assert _stage(session, rel) == 2
    assert not [r for r in rel.ready() if r.process_id.startswith(("stage1", "stage3"))]
    relied = session.get(RelationshipFoundation, rel.instance_id).relied_on
    assert relied["management_system_id"] == organisation.instance_id
    assert {"policy", "ser", "competence", "set_up_approved_at"} <= set(relied)

    rel.drive(until=lambda d: _stage(session, d) == 4)  # the organisation is ready: straight on
    assert session.get(RelationshipFoundation, rel.instance_id).assessment["gate_task_id"] is not None
    client = signed_in("staff")
    page = client.get(f"/relationships/{rel.instance_id}").get_data(as_text=True)
    assert 'id="relies-on"' in page and 'id="waits-for-organisation"' not in page
    home = client.get("/management").get_data(as_text=True)
    crmp = client.get(f"/relationships/{organisation.instance_id}/rmp")
    assert 'id="crmp-link"' in home and crmp.status_code == 200
    assert crmp.get_data(as_text=True).count('data-kind="CRMP"') == 2, "one version per approved organisation gate"
    # two relationships, one policy and one SER appointment
    _start(session, services, users, rel.now, title="Second bid")
    for bpmn_id in ("s1_policy", "s1_appoint_ser"):
        assert session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.bpmn_id == bpmn_id)) == 1


def test_stage_4_waits_while_the_assessment_is_due_for_renewal_and_goes_on_once_it_is_renewed(
        session, services, users, bundled, signed_in):
    organisation = approve_organisation(session, services, users, START_TIME)
    approved = management.readiness(session, organisation.now)
    assert approved.ready and approved.renewal_due_at is not None
    late = management.readiness(session, approved.renewal_due_at + timedelta(seconds=1))
    assert not late.ready and "fell due for renewal" in late.reason, "past its cycle before the scheduler fires"
    # the cycle runs out: the management system starts its reassessment, and the assessment is no longer current
    organisation.wake(at=approved.renewal_due_at + timedelta(minutes=1))
    session.commit()
    lapsed = management.readiness(session, organisation.now)
    assert not lapsed.ready and "renewal" in lapsed.reason

    rel = _start(session, services, users, organisation.now)
    rel.drive()  # stage 2 done; it stops before stage 4
    assert _stage(session, rel) == 2 and rel.instance().status == "running" and rel.ready() == []
    waiting = session.get(RelationshipFoundation, rel.instance_id)
    assert waiting.waiting_since is not None and waiting.released_at is None
    told = session.scalars(select(Notification.user_id).where(Notification.kind == "not_ready",
                                                              Notification.instance_id == rel.instance_id)).all()
    assert told == [users["ser"].id, users["ser2"].id] or sorted(told) == sorted([users["ser"].id, users["ser2"].id])
    page = signed_in("staff").get(f"/relationships/{rel.instance_id}").get_data(as_text=True)
    assert 'id="waits-for-organisation"' in page and "renewal" in page

    # the organisation renews its assessment: the gate's approval releases the relationship in the same step
    organisation.drive(until=lambda d: management.readiness(session, d.now).ready)
    session.commit()
    assert _stage(session, rel) == 4
    released = session.get(RelationshipFoundation, rel.instance_id)
    assert released.released_at is not None and released.assessment["gate_task_id"] != approved.gate_task_id
    data = rel.task_data(rel.ready()[0])
    assert data["selection_criteria"] and data["organisation_assessment"]["approved_at"]


def test_without_a_management_system_a_relationship_waits_and_the_page_says_why(
        session, services, users, bundled, signed_in):
    rel = _start(session, services, users, START_TIME)
    rel.drive()
    assert _stage(session, rel) == 2 and rel.ready() == []
    page = signed_in("ser").get(f"/relationships/{rel.instance_id}").get_data(as_text=True)
    assert "no management system yet" in page
    approve_organisation(session, services, users, START_TIME + timedelta(days=2))
    session.commit()
    assert _stage(session, rel) == 4


def test_the_management_system_is_set_up_once_from_its_page_and_partners_never_see_it(
        session, services, users, bundled, signed_in):
    top = signed_in("top")
    empty = top.get("/management")
    assert empty.status_code == 200 and 'id="not-set-up"' in empty.get_data(as_text=True)
    assert signed_in("pser").get("/management").status_code == 403
    assert signed_in("staff").post("/management/start", {}, page="/management").status_code == 403
    assert top.post("/management/start", {}, page="/management").status_code == 302
    again = top.post("/management/start", {}, page="/management")
    assert again.status_code == 409 and "already running" in again.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(ProcessInstance).where(
        ProcessInstance.process_id == "management_system")) == 1
    home = top.get("/management").get_data(as_text=True)
    assert 'id="clauses"' in home and 'data-requirement="M5.1"' in home and 'id="open-tasks"' in home


def test_a_relationship_started_from_its_portfolio_entry_stays_linked_to_it(session, services, users, bundled,
                                                                              signed_in):
    entry = {"name": "Fabrikam Components", "relationship_type": "partner", "value": 4, "risk": 2,
             "complexity": 2, "strategic_fit": 5, "collaboration_fits": True, "market": "Components",
             "customer_type": "OEM", "geography": "UK",
             "implementation_steps": [{"step": "Approach Fabrikam", "owner": "SER", "due": "2027-03-01"}]}
    organisation = approve_organisation(session, services, users, START_TIME, {"s1_relationships": {
        "criteria_weights": {"value": 1, "risk": 1, "complexity": 1, "strategic_fit": 1}, "relationships": [entry]}})
    rel = _start(session, services, users, organisation.now, title="  fabrikam   components ")
    relied = session.get(RelationshipFoundation, rel.instance_id).relied_on
    assert relied["portfolio_entry"]["name"] == "Fabrikam Components" and relied["portfolio_entry"]["rank"] == 1
    session.get(ProcessInstance, rel.instance_id).title = "Fabrikam: joint design programme"  # renamed later
    _start(session, services, users, organisation.now, title="Unlisted opportunity")
    session.commit()
    (listed,) = management.portfolio(session)
    assert listed.relationship_id == rel.instance_id, "linked by the entry it started from, not by its title"
    page = signed_in("staff").get(f"/relationships/{rel.instance_id}").get_data(as_text=True)
    assert 'id="portfolio-entry"' in page and "ranked 1" in page
