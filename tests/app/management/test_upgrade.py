"""The upgrade of a database made before the management system (each relationship ran stages 1 and 3 itself): the
dry run changes nothing and says, per relationship, whether the new lifecycle can take it; applied, it starts the
organisation's management system and lets the newest stage 3 approved in a relationship count until the
organisation's own is approved. Relationships whose history holds the old stages 1 and 3 keep running on their
version (the engine moves an instance only when every element it went through still exists), and finish there."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from app.config import ROOT
from app.management import services as management
from app.management import upgrade
from app.management.models import RelationshipFoundation
from app.processes.models import ProcessInstance
from app.processes.services import deploy_version
from tests.support.cli import invoke
from tests.support.driver import START_TIME, Driver, until_ready
from workflows import read_directory

BEFORE = Path(__file__).parent / "data" / "lifecycle_before_the_management_system.bpmn"


def _deploy(session, services, users, *, before: bool):
    files, forms = read_directory(ROOT / "bpmn", ROOT / "forms")
    if before:  # the lifecycle as it was: stage 1, 2, 3, 4 ... in every relationship
        files = {**files, "lifecycle.bpmn": BEFORE.read_bytes()}
    version, _warnings, _ = deploy_version(session, services.workflows, files, forms, user=users["owner"],
                                           message="before" if before else "after", now=START_TIME)
    return version


def test_the_upgrade_keeps_every_relationship_running_and_the_organisation_ready(app, session, services, users):
    old = _deploy(session, services, users, before=True)
    ahead = Driver.start(session, services, users, "lifecycle", {"relationship_name": "Ahead"}, now=START_TIME,
                         title="Ahead")
    ahead.drive(until=until_ready("s4_nominate_candidates"))  # its own stages 1 and 3 approved
    behind = Driver.start(session, services, users, "lifecycle", {"relationship_name": "Behind"}, now=START_TIME,
                          title="Behind")
    behind.drive(until=until_ready("s1_policy"))              # still in its own stage 1
    new = _deploy(session, services, users, before=False)

    dry = invoke(app, "upgrade-management-system")
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing changed" in dry.output and "management system: to be started" in dry.output
    assert f"#{ahead.instance_id} Ahead" in dry.output and "lc_stage1 (Stage 1: Awareness) is in this instance's " \
        "history but does not exist in the new version" in dry.output
    assert session.scalar(select(func.count()).select_from(ProcessInstance).where(
        ProcessInstance.process_id == "management_system")) == 0

    found = upgrade.apply(session, services.workflows, now=ahead.now)
    steps = {s.relationship_id: s for s in found.relationships}
    assert not steps[ahead.instance_id].movable and not steps[behind.instance_id].movable
    assert any("lc_stage1" in reason for reason in steps[behind.instance_id].reasons)
    session.expire_all()
    assert {session.get(ProcessInstance, d.instance_id).version_id for d in (ahead, behind)} == {old.id}
    assert session.get(RelationshipFoundation, ahead.instance_id).relied_on["assessment_gate_task_id"]

    # the organisation counts as ready on the assessment made inside "Ahead" until its own is approved
    ready = management.readiness(session, ahead.now)
    assert ready.ready and "before the management system existed" in ready.reason
    # both keep running on their version: one carries on in stage 4, the other finishes its own stage 1
    ahead.complete("s4_nominate_candidates")
    behind.complete("s1_policy")
    assert ahead.instance().status == "running" and behind.instance().status == "running"
    assert any(name.startswith("s1_") for name in behind.ready_names())
    assert new.id != old.id and management.management_system(session).version_id == new.id
    again = invoke(app, "upgrade-management-system")
    assert f"management system: #{found.management_system_id}" in again.output, "it is started once"
