"""The compliance matrix an assessor asks for: every requirement id of the catalogue -> its status for a
relationship -> the evidence (completed tasks carrying the id, with who, when and what they submitted).

Read from task rows (the `requirements` property each human task carries), never by loading workflows.
The matrix is our own organisation's record: `matrix_for` and `organisation_matrix` refuse partner users.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from workflows import add_period

from ..access import services as access
from ..auth.models import User
from ..processes.models import HumanTask, ProcessInstance
from ..requirements import RELATIONSHIP, Requirement, catalogue
from ..stages import LIFECYCLE

STATUSES = ("not_started", "in_progress", "evidenced", "review_overdue")
REVIEW_GRACE = timedelta(days=14)
ORGANISATION_PROCESSES = ("nonconformity",)  # the organisation's, wherever an instance hangs  # a review is overdue this long after its interval ran out


@dataclass(frozen=True)
class Evidence:
    human_task_id: int
    instance_id: int
    name: str
    completed_at: datetime
    completed_by: str | None
    submitted: dict


@dataclass
class MatrixRow:
    requirement: Requirement
    status: str
    evidence: list[Evidence] = field(default_factory=list)
    open_tasks: list[str] = field(default_factory=list)


def _carried(row_properties: dict) -> list[str]:
    return [p.strip() for p in (row_properties or {}).get("requirements", "").split(",") if p.strip()]


def matrix(session: Session, relationship_id: int, *, now: datetime, scope: str = RELATIONSHIP) -> list[MatrixRow]:
    """Every requirement of the catalogue in `scope` with its status and evidence under one root instance: a
    relationship (its relationship-scoped ids), or the organisation's management system (`scope="organisation"`).
    Once the root has ended, its periodic reviews can no longer fall overdue: there is nothing left to review."""
    requirements = [r for r in catalogue() if r.scope == scope]
    # the organisation's nonconformities count wherever they were raised (by hand, or by a relationship's audit)
    under = ProcessInstance.root_id == relationship_id if scope == RELATIONSHIP else or_(
        ProcessInstance.root_id == relationship_id, ProcessInstance.process_id.in_(ORGANISATION_PROCESSES))
    running = session.scalar(select(ProcessInstance.status).where(ProcessInstance.id == relationship_id)) == "running"
    rows = session.execute(
        select(HumanTask, User.display_name)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .outerjoin(User, User.id == HumanTask.completed_by_id)
        .where(under, HumanTask.state.in_(("ready", "completed")))
        .order_by(HumanTask.completed_at, HumanTask.id)).all()
    evidence: dict[str, list[Evidence]] = {}
    open_tasks: dict[str, list[HumanTask]] = {}
    for task, completed_by in rows:
        for rid in _carried(task.properties):
            if task.state == "completed":
                evidence.setdefault(rid, []).append(Evidence(task.id, task.instance_id, task.name, task.completed_at,
                                                             completed_by, task.submitted or {}))
            else:
                open_tasks.setdefault(rid, []).append(task)
    result = []
    for requirement in requirements:
        done, pending = evidence.get(requirement.id, []), open_tasks.get(requirement.id, [])
        if done and ((running and _review_lapsed(requirement, done, now)) or any(_overdue(t, now) for t in pending)):
            status = "review_overdue"
        elif done:
            status = "evidenced"
        elif pending:
            status = "review_overdue" if any(_overdue(t, now) for t in pending) else "in_progress"
        else:
            status = "not_started"
        result.append(MatrixRow(requirement, status, done, [t.name for t in pending]))
    return result


def _overdue(task: HumanTask, now: datetime) -> bool:
    return task.due_at is not None and task.due_at < now


def _review_lapsed(requirement: Requirement, evidence: list[Evidence], now: datetime) -> bool:
    if not requirement.review_cycle:
        return False
    latest = max(e.completed_at for e in evidence)
    return add_period(latest, requirement.review_cycle) + REVIEW_GRACE < now


def summary(rows: list[MatrixRow]) -> dict[str, int]:
    counts = Counter(row.status for row in rows)
    return {status: counts.get(status, 0) for status in STATUSES}


def gaps(rows: list[MatrixRow]) -> dict[str, list[MatrixRow]]:
    """What is missing or not current, stage by stage (the gap analysis)."""
    missing: dict[str, list[MatrixRow]] = {}
    for row in rows:
        if row.status != "evidenced":
            missing.setdefault(f"{row.requirement.stage} {row.requirement.stage_name}", []).append(row)
    return missing


# ---- with the reader's rights (pages, API and exports go through these) ---------------------------------------

def relationship_for(session: Session, user: User, relationship_id: int, what: str) -> ProcessInstance:
    """The relationship whose compliance records `user` asks for: NotFound when it does not exist or the user may
    not see it, Forbidden for partner organisations (the matrix is our own organisation's record)."""
    relationship = access.relationship_or_404(session, relationship_id, user)
    access.require_own_organisation(user, what)
    return relationship


def matrix_for(session: Session, user: User, relationship_id: int, *, now: datetime) -> list[MatrixRow]:
    """`matrix` for our own organisation's users only (Forbidden for partners, NotFound when unknown)."""
    relationship_for(session, user, relationship_id, "the compliance matrix")
    return matrix(session, relationship_id, now=now)


@dataclass
class OrganisationMatrix:
    relationships: list[ProcessInstance]
    requirements: tuple[Requirement, ...]
    status: dict[str, dict[int, str]]  # requirement id -> relationship id -> status
    by_requirement: dict[str, dict[str, int]]  # requirement id -> status -> count of relationships
    by_relationship: dict[int, dict[str, int]]  # relationship id -> status -> count of requirements
    totals: dict[str, int]


def organisation_matrix(session: Session, user: User, *, now: datetime) -> OrganisationMatrix:
    """Every requirement x every relationship's status, with counts. Our own organisation only (Forbidden)."""
    access.require_own_organisation(user, "the organisation's compliance matrix")
    relationships = list(session.scalars(select(ProcessInstance).where(
        ProcessInstance.parent_id.is_(None), ProcessInstance.process_id == LIFECYCLE)
        .order_by(ProcessInstance.created_at, ProcessInstance.id)))
    requirements = tuple(r for r in catalogue() if r.scope == RELATIONSHIP)
    status: dict[str, dict[int, str]] = {r.id: {} for r in requirements}
    by_relationship = {}
    for relationship in relationships:
        rows = matrix(session, relationship.id, now=now)
        for row in rows:
            status[row.requirement.id][relationship.id] = row.status
        by_relationship[relationship.id] = summary(rows)
    by_requirement = {rid: {s: sum(1 for v in cells.values() if v == s) for s in STATUSES}
                      for rid, cells in status.items()}
    totals = {s: sum(counts[s] for counts in by_relationship.values()) for s in STATUSES}
    return OrganisationMatrix(relationships, requirements, status, by_requirement, by_relationship, totals)
