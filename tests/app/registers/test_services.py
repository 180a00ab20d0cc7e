"""Registers: fed by the lifecycle's tasks, edited through forms with a kept history, partner visibility."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.errors import BadRequest, Forbidden, NotFound
from app.lifecycle.services import current_stage
from app.registers import services as registers
from app.registers.models import RegisterChange
from tests.support.driver import START_TIME, until_ready
from workflows import Conflict


@pytest.fixture
def rel(start):
    driver = start()
    driver.drive(until=lambda d: (current_stage(d.session, d.instance_id) or 0) >= 6)
    return driver


def test_lifecycle_tasks_feed_the_registers_once(rel, session, users):
    now = START_TIME + timedelta(days=400)
    risks = registers.entries(session, users["staff"], rel.instance_id, "risks", now=now)
    assert risks, "the stage 1, 2 and 5 risk tasks feed the risk register"
    assert all(r.data["owner"] and 1 <= r.data["likelihood"] <= 5 for r in risks)
    knowledge = registers.entries(session, users["staff"], rel.instance_id, "knowledge", now=now)
    assert knowledge and {k.data["sharing"] for k in knowledge} <= {"share", "share_on_request", "withhold"}
    assert registers.entries(session, users["staff"], rel.instance_id, "exit-triggers", now=now)
    assert registers.entries(session, users["staff"], rel.instance_id, "actions", now=now)
    changes = session.scalar(select(RegisterChange.id).order_by(RegisterChange.id.desc()).limit(1))
    assert registers.sync(session, rel.instance_id, now=now) == 0  # every task is read once
    assert session.scalar(select(RegisterChange.id).order_by(RegisterChange.id.desc()).limit(1)) == changes


def test_edits_keep_every_version_and_refuse_a_stale_one(rel, session, users):
    now = START_TIME + timedelta(days=400)
    entry = registers.create(session, users["staff"], rel.instance_id, "risks", {
        "risk": "Key supplier fails", "owner": "Sam", "likelihood": 2, "impact": 5, "review_date": "2025-01-31"},
        joint=True, now=now)
    view = registers.entry(session, users["staff"], entry.id, now=now)[1]
    assert view.flags == ["review overdue"]
    registers.update(session, users["ser"], entry.id, {**view.data, "likelihood": 4}, joint=True,
                     expected_version=1, now=now)
    with pytest.raises(Conflict):
        registers.update(session, users["staff"], entry.id, {**view.data, "impact": 1}, joint=True,
                         expected_version=1, now=now)
    session.rollback()
    history = registers.history(session, users["assessor"], entry.id, now=now)
    assert [(c.version, c.change, c.data["likelihood"], c.by) for c in history] == [
        (1, "created", 2, "staff"), (2, "updated", 4, "ser")]


def test_bad_entries_name_the_field_and_change_nothing(rel, session, users):
    now = START_TIME + timedelta(days=400)
    before = len(registers.entries(session, users["staff"], rel.instance_id, "risks", now=now))
    with pytest.raises(BadRequest) as refused:
        registers.create(session, users["staff"], rel.instance_id, "risks",
                         {"risk": "x", "owner": "", "likelihood": 9, "impact": 1}, joint=False, now=now)
    session.rollback()
    assert set(refused.value.errors) == {"owner", "likelihood"}
    assert len(registers.entries(session, users["staff"], rel.instance_id, "risks", now=now)) == before


def test_assessors_and_process_owners_read_but_never_change(rel, session, users):
    now = START_TIME + timedelta(days=400)
    for who in ("assessor", "owner"):
        assert registers.entries(session, users[who], rel.instance_id, "risks", now=now)
        with pytest.raises(Forbidden):
            registers.create(session, users[who], rel.instance_id, "risks",
                             {"risk": "r", "owner": "o", "likelihood": 1, "impact": 1}, joint=False, now=now)
        session.rollback()


def test_partners_see_joint_entries_and_only_shared_knowledge(rel, session, users):
    now = START_TIME + timedelta(days=400)
    staff, partner = users["staff"], users["pser"]
    internal = registers.create(session, staff, rel.instance_id, "risks", {
        "risk": "Our margin is thin", "owner": "CFO", "likelihood": 3, "impact": 3}, joint=False, now=now)
    for asset, sharing in (("Open design", "share"), ("Price model", "share_on_request"),
                           ("Secret recipe", "withhold")):
        registers.create(session, staff, rel.instance_id, "knowledge", {
            "asset": asset, "owner": "R&D", "sharing": sharing, "details": f"{asset} details"}, joint=True, now=now)
    seen = registers.entries(session, partner, rel.instance_id, "knowledge", now=now)
    names = {k.data["asset"]: k.data for k in seen}
    assert "Secret recipe" not in names and "Open design" in names
    assert "details" not in names["Price model"] and names["Open design"]["details"] == "Open design details"
    assert internal.id not in {r.id for r in registers.entries(session, partner, rel.instance_id, "risks", now=now)}
    with pytest.raises(NotFound):
        registers.entry(session, partner, internal.id, now=now)
    with pytest.raises(Forbidden):
        registers.create(session, partner, rel.instance_id, "knowledge",
                         {"asset": "a", "owner": "o", "sharing": "share"}, joint=True, now=now)


@pytest.mark.parametrize("covered", [False, True])
def test_knowledge_shared_under_an_nda_reaches_the_partner_in_full_only_once_the_agreement_covers_it(
        start, session, users, covered):
    driver = start()
    driver.drive(until=until_ready("s4_select_partner"))
    driver.complete("s4_select_partner", {"contracting_checklist": {"confidentiality": {
        "covered": covered, "where": "Clause 12" if covered else "To be agreed"}}})
    now = driver.now
    registers.create(session, users["staff"], driver.instance_id, "knowledge", {
        "asset": "Price model", "owner": "R&D", "sharing": "share_under_nda", "details": "Margins by product"},
        joint=True, now=now)

    def price_model(user):
        (found,) = [e for e in registers.entries(session, user, driver.instance_id, "knowledge", now=now)
                    if e.data["asset"] == "Price model"]
        return found

    ours = price_model(users["staff"])
    assert ours.data["details"] == "Margins by product" and ours.data["sharing"] == "share_under_nda"
    theirs = price_model(users["pser"])
    assert theirs.data["asset"] == "Price model"  # the partner always knows it exists
    assert ("details" in theirs.data) is covered
    assert ("details" in registers.history(session, users["pser"], theirs.id, now=now)[-1].data) is covered


def test_the_issue_log_shows_each_issue_with_its_escalation_history(rel, session, users):
    issue = rel.raise_issue("Late drawings")
    issue.complete("ir_log_issue")
    issue.complete("ir_level1", {"l1_resolution": "escalate", "l1_escalation_reason": "Needs budget."})
    (logged,) = registers.issue_log(session, users["pser"], rel.instance_id)  # joint: the partner reads it too
    assert (logged.title, logged.status, logged.level, logged.raised_by) == ("Late drawings", "running", "Level 2",
                                                                              "jmt")
    steps = [s.what for s in logged.steps]
    assert steps[0].startswith("Log the issue") or "log" in steps[0].lower()
    assert any(s.endswith(": escalate") for s in steps) and steps[-1].endswith("(waiting)")


def test_one_pass_takes_in_every_relationship_once(start, session, services, users):
    """`sync(None)` (the dashboard): the new completed tasks of every relationship found by one statement,
    each fed to its own relationship's registers, and none read twice."""
    from sqlalchemy import event, func

    from app.processes.models import HumanTask, ProcessInstance

    drivers = [start(), start()]
    for driver in drivers:
        driver.drive(until=lambda d: "s2_ser_gate" in d.ready_names())  # stage 2 done, its risks among it
    now = START_TIME + timedelta(days=40)
    completed = session.scalar(select(func.count()).select_from(HumanTask).join(
        ProcessInstance, ProcessInstance.id == HumanTask.instance_id).where(
        HumanTask.state == "completed", ProcessInstance.root_id.in_([d.instance_id for d in drivers])))
    statements = []
    listener = lambda *args: statements.append(" ".join(args[2].split()))  # noqa: E731
    event.listen(services.db_engine, "before_cursor_execute", listener)
    try:
        assert registers.sync(session, None, now=now) == completed > 0
    finally:
        event.remove(services.db_engine, "before_cursor_execute", listener)
    assert len([s for s in statements if s.startswith("SELECT") and "register_feeds" in s]) == 1
    from app.registers.models import RegisterEntry, RegisterFeed
    fed = session.execute(select(RegisterFeed.relationship_id, ProcessInstance.root_id)
                          .join(HumanTask, HumanTask.id == RegisterFeed.human_task_id)
                          .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)).all()
    assert len(fed) == completed and all(feed == root for feed, root in fed)  # each to its own relationship
    for driver in drivers:
        assert registers.sync(session, driver.instance_id, now=now) == 0
        assert registers.entries(session, users["staff"], driver.instance_id, "risks", now=now)
    assert set(session.scalars(select(RegisterEntry.relationship_id).distinct())) == {d.instance_id for d in drivers}
    assert registers.sync(session, None, now=now) == 0
