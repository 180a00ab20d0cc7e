"""The upgrade of an installation made before the management system: each relationship ran stages 1 and 3 itself.

`plan` (the dry run) says what would happen; `apply` does it, each step in its own transaction:
1. the organisation's management system is started (its own set-up and assessment then run as tasks);
2. until its own internal assessment is approved, the newest stage 3 approved inside a relationship counts as the
   organisation's for one cycle (`services.legacy_assessment`), so no relationship waits because of the upgrade;
3. every relationship records what it relied on: its own stage-1 and stage-3 gates;
4. running relationships keep running: those the new lifecycle can take are moved to the latest version (the
   engine's migration check), the others stay on their version, which still has its stages 1 and 3, and finish
   there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import WorkflowEngine

from ..processes.models import HumanTask, ProcessInstance
from ..processes.services import latest_version
from ..processes.store import bound
from ..processes.versioning import migrate
from ..stages import LIFECYCLE, MANAGEMENT_SYSTEM
from . import services as management
from .models import RelationshipFoundation


@dataclass
class RelationshipStep:
    relationship_id: int
    title: str
    version_id: int
    movable: bool
    reasons: tuple[str, ...] = ()
    moved: bool | None = None  # after `apply`: moved, or stayed (None: not tried)


@dataclass
class UpgradePlan:
    latest_version_id: int | None
    has_management_system_process: bool
    management_system_id: int | None
    legacy_set_up: HumanTask | None
    legacy_assessment: HumanTask | None
    relationships: list[RelationshipStep] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        found = []
        if self.latest_version_id is None or not self.has_management_system_process:
            found.append("deploy the diagrams that have the management_system process first (collabflow deploy)")
        return found


def plan(session: Session, engine: WorkflowEngine) -> UpgradePlan:
    version = latest_version(session)
    ms = management.management_system(session)
    steps = []
    checker = bound(engine, session)
    for rel in session.scalars(select(ProcessInstance).where(
            ProcessInstance.process_id == LIFECYCLE, ProcessInstance.parent_id.is_(None),
            ProcessInstance.status == "running").order_by(ProcessInstance.id)):
        if version is None or rel.version_id == version.id:
            steps.append(RelationshipStep(rel.id, rel.title or f"#{rel.id}", rel.version_id, False,
                                          ("already on the latest version",)))
            continue
        verdict = checker.check_migration(rel.id, version.id)
        steps.append(RelationshipStep(rel.id, rel.title or f"#{rel.id}", rel.version_id, verdict.can_migrate,
                                      tuple(verdict.reasons)))
    found = UpgradePlan(version.id if version else None, bool(version and MANAGEMENT_SYSTEM in (
        version.process_ids or [])), ms.id if ms else None, management.legacy_gate(session, management.SET_UP_GATE),
        management.legacy_assessment(session), steps)
    session.rollback()
    return found


def apply(session: Session, engine: WorkflowEngine, *, now: datetime) -> UpgradePlan:
    """Carry the plan out as the system itself (the command line). Raises BadRequest when it cannot start."""
    steps = plan(session, engine)
    if steps.problems:
        return steps
    if steps.management_system_id is None:
        steps.management_system_id = management.start(session, engine, None, now=now).instance_id
    for step in steps.relationships:
        if session.get(RelationshipFoundation, step.relationship_id) is None:
            session.add(RelationshipFoundation(
                relationship_id=step.relationship_id, management_system_id=steps.management_system_id, created_at=now,
                relied_on={"legacy": True, **_own_gates(session, step.relationship_id)}))
    session.commit()
    movable = [s.relationship_id for s in steps.relationships if s.movable]
    outcome = migrate(session, engine, user=None, instance_ids=movable, to_version_id=steps.latest_version_id,
                      now=now) if movable else {}
    for step in steps.relationships:
        if step.relationship_id in outcome:
            step.moved = outcome[step.relationship_id] is None
            if not step.moved:
                step.reasons = (outcome[step.relationship_id],)
    return steps



def _own_gates(session: Session, relationship_id: int) -> dict:
    found = {}
    for key, bpmn_id in (("set_up_gate_task_id", management.SET_UP_GATE),
                         ("assessment_gate_task_id", management.ASSESSMENT_GATE)):
        row = session.scalar(select(HumanTask).where(
            HumanTask.instance_id == relationship_id, HumanTask.bpmn_id == bpmn_id, HumanTask.state == "completed")
            .order_by(HumanTask.completed_at.desc()).limit(1))
        if row is not None and (row.submitted or {}).get("decision") == "approve":
            found[key] = row.id
            if key == "set_up_gate_task_id":
                found["set_up_approved_at"] = row.completed_at.isoformat()
    return found
