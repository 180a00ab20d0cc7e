"""The organisation's reviews and nonconformities through the services and the scheduler, on a controlled clock:
an internal-audit finding becomes a nonconformity whose effectiveness check fires on its timer, a "not effective"
answer reopens it and its owner cannot close it; the management review opens with its inputs read from live data,
and its actions land in the action register."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth.services import create_user
from app.errors import Forbidden
from app.management import services as management
from app.processes import services as processes
from app.processes.models import ProcessInstance
from app.registers import services as registers
from app.relationships import services as relationships
from tests.support.driver import START_TIME, Driver, approve_organisation, fill_form
from workflows import add_period

FINDING = {"finding": "Two key roles have no assessed competence", "severity": "minor", "requirement": "M7.2",
           "evidence": "Competence records"}


def _audit_with_a_finding(session, services, users, organisation):
    """The first planned audit, carried out when it falls due by an auditor from another area, with a finding."""
    (audit,) = organisation.linked("internal_audit")[:1]
    due = session.scalar(select(ProcessInstance.next_due_at).where(ProcessInstance.id == audit.id))
    organisation.wake(at=due + timedelta(minutes=1))
    auditing = organisation.linked_driver(audit.id)
    auditing.now = organisation.now
    area = auditing.task_data("ia_audit")["area"]
    other = next(a for a in ("improvement", "leadership_and_policy") if a != area)
    auditing.complete("ia_audit", {"auditor_area": other, "findings": [FINDING]})
    return auditing


def test_an_audit_finding_becomes_a_nonconformity_checked_on_its_timer_and_reopened_when_not_effective(
        session, services, users, bundled):
    organisation = approve_organisation(session, services, users, START_TIME)
    _audit_with_a_finding(session, services, users, organisation)
    (raised,) = organisation.linked("nonconformity")
    nc = organisation.linked_driver(raised.id)
    nc.now = organisation.now
    assert FINDING["finding"] in raised.title
    assert [n.instance_id for n in management.nonconformities(session)] == [raised.id]

    owner = create_user(session, "owner-of-action", password=None, roles=["staff", "ser"], organisation="Us")
    nc.complete("nc_correction", {"effectiveness_check_after": "P1M"})
    nc.complete("nc_take_action", user=owner)
    done_at = nc.now
    assert nc.ready_names() == [], "the check waits for its period"
    nc.wake(at=add_period(done_at, "P1M") - timedelta(minutes=1))
    assert nc.ready_names() == []
    nc.wake(at=add_period(done_at, "P1M") + timedelta(minutes=1))
    assert nc.ready_names() == ["nc_check_effectiveness"]

    check = nc.task("nc_check_effectiveness")
    data = fill_form(nc.schema_of(check), nc.task_data(check), {"effective": "effective"})
    with pytest.raises(Forbidden, match="four eyes: you prepared what this decision approves"):  # not its owner
        processes.complete_task(session, services.workflows, user=owner, human_task_id=check.id, data=data,
                                now=nc.now)
    nc.complete("nc_check_effectiveness", {"effective": "not_effective", "comments": "Still no records."})
    assert nc.ready_names() == ["nc_correction"], "not effective: reopened"
    assert nc.latest_data()["reopened"] == 1 and nc.latest_data()["nc_state"] == "reopened"
    assert [(n.step, n.reopened) for n in management.nonconformities(session)] == [
        ("Correct it and find the root cause", 1)]


def test_the_management_review_opens_with_its_inputs_from_live_data(session, services, users, bundled, api):
    organisation = approve_organisation(session, services, users, START_TIME)
    started = relationships.start(session, services.workflows, users["staff"], title="Tailspin partnership",
                                  partner="Partner Ltd", now=organisation.now)
    Driver(session, services, users, started.instance_id, organisation.now).drive(
        until=lambda d: "s4_nominate_candidates" in d.ready_names())
    _audit_with_a_finding(session, services, users, organisation)
    (review,) = [r for r in organisation.linked("organisation_review")
                 if "management review" in (r.title or "").lower()]
    due = session.scalar(select(ProcessInstance.next_due_at).where(ProcessInstance.id == review.id))
    organisation.wake(at=due + timedelta(minutes=1))
    meeting = organisation.linked_driver(review.id)
    task = meeting.task("or_management_review")

    shown = api("top").get(f"tasks/{task.id}").get_json()["data"]
    assert [FINDING["finding"] in n["title"] for n in shown["nonconformities"]] == [True]
    assert shown["nonconformities"][0]["source"] == "internal_audit"
    assert [a["findings"] for a in shown["audit_results"]] == [1]
    assert {"relationship": "Tailspin partnership", "stage": "4 · Partner selection", "health": "unknown"} \
        in shown["portfolio"]
    assert any(o["objective"] == "Collaborative maturity" for o in shown["objectives_performance"])
    assert shown["previous_actions"] == [], "the first review has no earlier actions"

    action = {"action": "Assess the two roles' competence", "owner": "HR", "deadline": "2026-03-01",
              "status": "open"}
    meeting.complete(task, {**shown, "management_review_actions": [action], "nonconformities_raised": []},
                     user=users["top"])
    session.commit()
    entries = registers.entries(session, users["staff"], organisation.instance_id, "actions",
                                now=meeting.now)
    assert [(e.data["action"], e.data.get("plan")) for e in entries
            if e.data["action"] == action["action"]] == [(action["action"], "Management review")]


def test_competence_and_training_records_land_in_their_registers_with_the_gaps_flagged(
        session, services, users, bundled):
    competence = {
        "competence_framework": [{"role": "Relationship manager", "competence": "negotiation", "required_level": 4}],
        "people_competence": [
            {"person": "Sam Staff", "role": "relationship manager", "competence": "negotiation", "assessed_level": 2,
             "assessed_on": "2026-01-10", "evidence": "360 review"},
            {"person": "Sam Staff", "role": "Relationship manager", "competence": "trust_building",
             "assessed_level": 3, "assessed_on": "2026-01-10"}],
        "training_records": [
            {"person": "Sam Staff", "training": "Negotiating partnerships", "completed_on": "2026-02-01",
             "effective": "no"},
            {"person": "Sam Staff", "training": "ISO 44001 awareness", "completed_on": "2026-02-02",
             "effective": "yes"}]}
    organisation = approve_organisation(session, services, users, START_TIME, {"s1_competencies": competence})
    records = registers.entries(session, users["ser"], organisation.instance_id, "competence", now=organisation.now)
    by_name = {registers.REGISTERS["competence"].name_of(v.data): v for v in records}
    assert set(by_name) == {"Sam Staff · negotiation", "Sam Staff · trust building"}, "one entry per competence"
    below = by_name["Sam Staff · negotiation"]
    assert below.data["required_level"] == 4 and below.flags == ["below required level"]
    assert "required_level" not in by_name["Sam Staff · trust building"].data, "the framework does not ask for it"
    assert by_name["Sam Staff · trust building"].flags == []
    training = registers.entries(session, users["ser"], organisation.instance_id, "training", now=organisation.now)
    assert {registers.REGISTERS["training"].name_of(v.data): v.flags for v in training} == {
        "Sam Staff · Negotiating partnerships": ["not effective"], "Sam Staff · ISO 44001 awareness": []}
