"""The organisation's management system as the relationships see it.

One `management_system` instance runs per organisation: stage 1 (set-up) and stage 3 (internal assessment,
renewed on its cycle) are done there once, and every relationship relies on them. A relationship reaching stage 4
waits at the signal `organisation_ready` until the organisation's latest stage 3 is approved and not yet due for
renewal; `on_action` (run in the same transaction as every engine action) sends it the moment that holds, with the
organisation's current facts (its partner selection criteria among them) as payload.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import Result, WorkflowEngine, add_period

from ..audit.services import record
from ..auth.models import Organisation, User, UserRole
from ..auth.permissions import Permission
from ..errors import BadRequest
from ..notifications.services import MailSettings, notify_people
from ..processes.models import HumanTask, ProcessInstance, Timer
from ..processes.services import start_instance
from ..processes.store import bound
from ..registers import services as registers
from ..registers.kinds import PORTFOLIO
from ..stages import LIFECYCLE, MANAGEMENT_SYSTEM, NONCONFORMITY
from .models import RelationshipFoundation

READY_SIGNAL = "organisation_ready"
REASSESSMENT_TIMER = "ms_reassessment_due"
SET_UP_GATE, ASSESSMENT_GATE = "s1_ser_gate", "s3_ser_gate"
ASSESSMENT_PROCESS = "stage3_internal_assessment"
LEGACY_CYCLE = "P12M"  # how long an assessment made inside a relationship (before the upgrade) keeps counting


@dataclass(frozen=True)
class Readiness:
    """Whether relationships may enter stage 4 now, and why not."""

    ready: bool
    reason: str
    management_system_id: int | None = None
    approved_at: datetime | None = None
    gate_task_id: int | None = None
    renewal_due_at: datetime | None = None


def management_system(session: Session) -> ProcessInstance | None:
    """The organisation's management system: the running one, else the newest."""
    return session.scalar(select(ProcessInstance).where(
        ProcessInstance.process_id == MANAGEMENT_SYSTEM, ProcessInstance.parent_id.is_(None))
        .order_by((ProcessInstance.status == "running").desc(), ProcessInstance.id.desc()).limit(1))


def start(session: Session, engine: WorkflowEngine, user: User, *, now: datetime,
          mail: MailSettings | None = None) -> Result:
    """Set up the organisation's management system (once: a second running one is refused)."""
    running = management_system(session)
    if running is not None and running.status == "running":
        raise BadRequest("the organisation's management system is already running",
                         {"(form)": f"management system #{running.id} is running"})
    session.rollback()
    return start_instance(session, engine, user=user, process_id=MANAGEMENT_SYSTEM, title="Management system",
                          data={"title": "Management system"}, now=now, mail=mail,
                          permission=Permission.SET_UP_MANAGEMENT_SYSTEM)


def latest_completed(session: Session, root_id: int, bpmn_id: str, *, approved: bool = False) -> HumanTask | None:
    """The newest completed task `bpmn_id` under the root instance (approved gates only, when asked)."""
    query = (select(HumanTask).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
             .where(ProcessInstance.root_id == root_id, HumanTask.bpmn_id == bpmn_id,
                    HumanTask.state == "completed")
             .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc())
             # rows read earlier in this session may be stale: the engine's store writes them with Core statements
             .execution_options(populate_existing=True))
    for row in session.scalars(query.limit(20)):
        if not approved or (row.submitted or {}).get("decision") == "approve":
            return row
    return None


def legacy_assessment(session: Session) -> HumanTask | None:
    """The newest stage-3 gate approved inside a relationship: how installations made before the management system
    assessed the organisation. After the upgrade it counts until the organisation's own assessment is approved."""
    return legacy_gate(session, ASSESSMENT_GATE)


def legacy_gate(session: Session, bpmn_id: str) -> HumanTask | None:
    """The newest gate `bpmn_id` approved inside a relationship (stages 1 and 3 as relationships ran them)."""
    for row in session.scalars(select(HumanTask).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                               .where(ProcessInstance.process_id == LIFECYCLE, HumanTask.bpmn_id == bpmn_id,
                                      HumanTask.state == "completed")
                               .order_by(HumanTask.completed_at.desc()).limit(20)
                               .execution_options(populate_existing=True)):
        if (row.submitted or {}).get("decision") == "approve":
            return row
    return None


def readiness(session: Session, now: datetime) -> Readiness:
    ms = management_system(session)
    if ms is None:
        return Readiness(False, "The organisation has no management system yet: top management sets it up "
                                "on the Management system page.")
    gate = latest_completed(session, ms.id, ASSESSMENT_GATE, approved=True)
    if gate is None:
        legacy = legacy_assessment(session)
        if legacy is not None and add_period(legacy.completed_at, LEGACY_CYCLE) > now:
            return Readiness(True, f"The internal assessment approved on {legacy.completed_at:%d %b %Y} before the "
                                   "management system existed counts until the organisation's own is approved (at "
                                   f"most until {add_period(legacy.completed_at, LEGACY_CYCLE):%d %b %Y}).",
                             ms.id, legacy.completed_at, legacy.id, add_period(legacy.completed_at, LEGACY_CYCLE))
        return Readiness(False, "The organisation's internal assessment (stage 3) is not approved yet.", ms.id)
    renewing = session.scalar(select(HumanTask.created_at).join(
        ProcessInstance, ProcessInstance.id == HumanTask.instance_id).where(
        ProcessInstance.root_id == ms.id, HumanTask.process_id == ASSESSMENT_PROCESS,
        HumanTask.created_at > gate.completed_at).order_by(HumanTask.created_at).limit(1))
    if renewing is not None:
        return Readiness(False, f"The organisation's internal assessment approved on {gate.completed_at:%d %b %Y} "
                                f"fell due for renewal on {renewing:%d %b %Y}; the renewal is not approved yet.",
                         ms.id, gate.completed_at, gate.id)
    due = session.scalar(select(Timer.due_at).where(Timer.instance_id == ms.id,
                                                    Timer.bpmn_id == REASSESSMENT_TIMER))
    if ms.status != "running":
        return Readiness(False, "The organisation's management system is no longer running.", ms.id,
                         gate.completed_at, gate.id)
    if due is not None and due <= now:  # past its cycle, even before the scheduler has fired the renewal
        return Readiness(False, f"The organisation's internal assessment approved on {gate.completed_at:%d %b %Y} "
                                f"fell due for renewal on {due:%d %b %Y}; the renewal is not approved yet.",
                         ms.id, gate.completed_at, gate.id, due)
    return Readiness(True, f"The organisation's internal assessment was approved on {gate.completed_at:%d %b %Y}"
                           + (f" and is due for renewal on {due:%d %b %Y}." if due else "."),
                     ms.id, gate.completed_at, gate.id, due)


def _submitted(row: HumanTask | None) -> dict:
    return dict(row.submitted or {}) if row is not None else {}


def foundation_facts(session: Session) -> dict:
    """The organisation's items a new relationship relies on: set-up gate, policy, SER, competence framework."""
    ms = management_system(session)
    if ms is None:
        return {}
    facts = {"management_system_id": ms.id}
    gate = latest_completed(session, ms.id, SET_UP_GATE, approved=True)
    if gate is not None:
        facts["set_up_approved_at"] = gate.completed_at.isoformat()
    for key, bpmn_id, fields in (
            ("policy", "s1_policy", ("policy_version", "version", "policy_approved_on", "approved_on")),
            ("ser", "s1_appoint_ser", ("ser_name", "ser_role", "ser_appointed_on", "appointed_on")),
            ("competence", "s1_competencies", ())):
        row = latest_completed(session, ms.id, bpmn_id)
        if row is not None:
            data = _submitted(row)
            facts[key] = {"task_id": row.id, "completed_at": row.completed_at.isoformat(),
                          **{f: data[f] for f in fields if isinstance(data.get(f), str | int | float)}}
    return facts


def assessment_facts(session: Session, ready: Readiness) -> dict:
    """The payload of `organisation_ready`: the approved assessment and the partner selection criteria."""
    criteria = _submitted(latest_completed(session, ready.management_system_id, "s3_selection_criteria"))
    return {"instance_id": ready.management_system_id, "gate_task_id": ready.gate_task_id,
            "approved_at": ready.approved_at.isoformat() if ready.approved_at else None,
            "selection_criteria": list(criteria.get("selection_criteria") or [])}


def record_foundation(session: Session, relationship_id: int, now: datetime) -> RelationshipFoundation:
    facts = foundation_facts(session)
    title = session.scalar(select(ProcessInstance.title).where(ProcessInstance.id == relationship_id))
    entry = next((e for e in portfolio(session) if _same_name(e.name, title)), None)
    if entry is not None:  # started from its portfolio entry: linked by this, not by a title that may change
        facts["portfolio_entry"] = {"name": entry.name, "rank": entry.rank, "score": entry.score}
    row = RelationshipFoundation(relationship_id=relationship_id, management_system_id=facts.get(
        "management_system_id"), relied_on=facts, created_at=now)
    session.add(row)
    return row


def foundation(session: Session, relationship_id: int) -> RelationshipFoundation | None:
    return session.get(RelationshipFoundation, relationship_id)


def on_action(session: Session, *, engine: WorkflowEngine, result: Result, now: datetime, actor,
              mail: MailSettings | None = None) -> list[Result]:
    """After any engine action, in its transaction: note relationships that now wait for the organisation, and
    release every waiting one when the organisation is ready (else tell the SERs once). Returns the results of
    the signals sent, for the caller to audit and notify like its own."""
    parts = list(result.all())
    if not any(part.process_id in (LIFECYCLE, MANAGEMENT_SYSTEM) for part in parts):
        return []  # readiness only turns on in the management system (or a relationship's own stage 3, before it)
    arrived = [part.instance_id for part in parts
               if part.process_id == LIFECYCLE and READY_SIGNAL in part.waiting_signals]
    for relationship_id in arrived:
        row = session.get(RelationshipFoundation, relationship_id) or RelationshipFoundation(
            relationship_id=relationship_id, relied_on={}, created_at=now)
        if row.waiting_since is None or row.released_at is not None:
            row.waiting_since, row.released_at, row.notified_at = now, None, None
        session.add(row)
    if arrived:
        session.flush()
    waiting = list(session.scalars(select(RelationshipFoundation).where(
        RelationshipFoundation.waiting_since.is_not(None), RelationshipFoundation.released_at.is_(None))))
    if not waiting:
        return []
    ready = readiness(session, now)
    if not ready.ready:
        unannounced = [row for row in waiting if row.notified_at is None]
        for row in unannounced:
            title = session.scalar(select(ProcessInstance.title).where(ProcessInstance.id == row.relationship_id))
            notify_people(session, our_sers(session), kind="not_ready", instance_id=row.relationship_id,
                          now=now, title=f"{title or 'A relationship'} waits to enter stage 4: {ready.reason}")
            row.notified_at = now
        return []
    payload = assessment_facts(session, ready)
    user = actor if isinstance(actor, User) else None
    results = []
    for row in waiting:
        running = session.scalar(select(ProcessInstance.status).where(ProcessInstance.id == row.relationship_id))
        row.released_at = now
        row.assessment = {k: payload[k] for k in ("instance_id", "gate_task_id", "approved_at")}
        if running != "running":
            continue
        results.append(bound(engine, session, user, now=now).send_signal(row.relationship_id, READY_SIGNAL,
                                                                          payload, now=now))
        record(session, "relationship.organisation_ready", actor=actor, instance_id=row.relationship_id, at=now,
               payload={"assessment_approved_at": payload["approved_at"], "waited_since": row.waiting_since.isoformat()})
    return results


def our_sers(session: Session) -> list[int]:
    return list(session.scalars(select(User.id).join(UserRole, UserRole.user_id == User.id)
                                .join(Organisation, Organisation.id == User.organisation_id)
                                .where(UserRole.role == "ser", User.is_active.is_(True), Organisation.kind == "own")))


__all__ = ["Readiness", "assessment_facts", "foundation", "foundation_facts", "latest_completed", "management_system",
           "on_action", "our_sers", "readiness", "record_foundation", "start"]


# ---- the organisation's home ("Management system") -----------------------------------------------------------


@dataclass(frozen=True)
class Due:
    name: str
    due_at: datetime
    instance_id: int
    process_id: str


@dataclass(frozen=True)
class OpenItem:
    instance_id: int
    title: str
    step: str | None  # the task waiting, or the timer
    due_at: datetime | None
    created_at: datetime
    reopened: int = 0  # how often its effectiveness check found the action not effective


@dataclass(frozen=True)
class MaturityPoint:
    at: datetime
    score: float
    levels: dict  # criterion -> level


@dataclass
class Overview:
    management_system: ProcessInstance | None
    readiness: Readiness
    set_up_approved_at: datetime | None
    open_tasks: list[HumanTask]
    calendar: list[Due]
    nonconformities: list[OpenItem]
    maturity: list[MaturityPoint]
    waiting_relationships: int


def overview(session: Session, now: datetime) -> Overview:
    ms = management_system(session)
    ready = readiness(session, now)
    waiting = session.scalar(select(func.count()).select_from(RelationshipFoundation).where(
        RelationshipFoundation.waiting_since.is_not(None), RelationshipFoundation.released_at.is_(None))) or 0
    if ms is None:
        return Overview(None, ready, None, [], [], nonconformities(session), [], waiting)
    gate = latest_completed(session, ms.id, SET_UP_GATE, approved=True)
    tasks = list(session.scalars(select(HumanTask).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                                 .where(ProcessInstance.root_id == ms.id, HumanTask.state == "ready")
                                 .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)))
    calendar = [Due("Internal assessment (stage 3) renewal" if process_id == MANAGEMENT_SYSTEM else
                    (title or name or bpmn_id), due_at, instance_id, process_id)
                for name, bpmn_id, due_at, instance_id, process_id, title in session.execute(
                    select(Timer.name, Timer.bpmn_id, Timer.due_at, Timer.instance_id, ProcessInstance.process_id,
                           ProcessInstance.title)
                    .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
                    .where(ProcessInstance.root_id == ms.id, ProcessInstance.status == "running")
                    .order_by(Timer.due_at).limit(50)).all()]
    return Overview(ms, ready, gate.completed_at if gate else None, tasks, calendar, nonconformities(session),
                    maturity_trend(session, ms.id), waiting)


def nonconformities(session: Session, *, include_closed: bool = False) -> list[OpenItem]:
    """Every nonconformity (raised by hand or by a process), newest first, with the step it waits at."""
    query = select(ProcessInstance).where(ProcessInstance.process_id == NONCONFORMITY)
    if not include_closed:
        query = query.where(ProcessInstance.status == "running")
    rows = list(session.scalars(query.order_by(ProcessInstance.created_at.desc(), ProcessInstance.id.desc())
                                .limit(200)))
    ids = [row.id for row in rows]
    steps = {i: (name, due) for i, name, due in session.execute(
        select(HumanTask.instance_id, HumanTask.name, HumanTask.due_at)
        .where(HumanTask.instance_id.in_(ids), HumanTask.state == "ready"))} if ids else {}
    timers = {i: (name, due) for i, name, due in session.execute(
        select(Timer.instance_id, Timer.name, Timer.due_at).where(Timer.instance_id.in_(ids)))} if ids else {}
    reopened: dict[int, int] = {}
    for i, submitted in session.execute(select(HumanTask.instance_id, HumanTask.submitted).where(
            HumanTask.instance_id.in_(ids), HumanTask.bpmn_id == "nc_check_effectiveness",
            HumanTask.state == "completed")) if ids else ():
        if (submitted or {}).get("effective") == "not_effective":
            reopened[i] = reopened.get(i, 0) + 1
    found = []
    for row in rows:
        step, due = steps.get(row.id) or timers.get(row.id) or (None if row.status == "running" else "Closed", None)
        found.append(OpenItem(row.id, row.title or f"Nonconformity #{row.id}", step, due, row.created_at,
                              reopened.get(row.id, 0)))
    return found


def maturity_trend(session: Session, ms_id: int) -> list[MaturityPoint]:
    """Each approved-or-not run of the scored maturity self-assessment (S3.02), oldest first."""
    points = []
    for row in session.scalars(select(HumanTask).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                               .where(ProcessInstance.root_id == ms_id, HumanTask.bpmn_id == "s3_collaborative_profile",
                                      HumanTask.state == "completed").order_by(HumanTask.completed_at)):
        rows = [r for r in (row.submitted or {}).get("maturity_assessment") or [] if isinstance(r, dict)]
        levels = {str(r.get("criterion")): r.get("level") for r in rows if isinstance(r.get("level"), int | float)}
        if levels:
            points.append(MaturityPoint(row.completed_at, round(sum(levels.values()) / len(levels), 1), levels))
    return points


# ---- the relationship portfolio (S1.05) ---------------------------------------------------------------------
@dataclass(frozen=True)
class PortfolioEntry:
    name: str
    relationship_type: str | None
    value: int
    risk: int
    complexity: int
    strategic_fit: int
    score: float
    rank: int
    collaboration_fits: bool
    relationship_id: int | None  # the relationship started from this entry, if any


def portfolio(session: Session) -> list[PortfolioEntry]:
    """The organisation's relationship portfolio (its register: fed by the set-up's portfolio task, changed through
    its form or a spreadsheet import) scored on the criteria the organisation weights (risk and complexity count inversely), highest score first."""
    ms = management_system(session)
    if ms is None:
        return []
    data = _submitted(latest_completed(session, ms.id, "s1_relationships"))
    rows = [r for r in registers.current_data(session, ms.id, PORTFOLIO.name) if r.get("name")]
    if not rows:
        return []
    weights = {k: float((data.get("criteria_weights") or {}).get(k) or 0)
               for k in ("value", "risk", "complexity", "strategic_fit")}
    total = sum(weights.values()) or 4.0
    if not any(weights.values()):
        weights = dict.fromkeys(weights, 1.0)
    started = {}
    for relationship_id, relied_on in session.execute(
            select(RelationshipFoundation.relationship_id, RelationshipFoundation.relied_on)):
        name = ((relied_on or {}).get("portfolio_entry") or {}).get("name")
        if name:
            started.setdefault(_name_key(name), relationship_id)

    def level(row, key):
        value = row.get(key)
        return int(value) if isinstance(value, int | float) else 3

    scored = []
    for row in rows:
        v, r, c, f = (level(row, k) for k in ("value", "risk", "complexity", "strategic_fit"))
        score = round((weights["value"] * v + weights["risk"] * (6 - r) + weights["complexity"] * (6 - c)
                       + weights["strategic_fit"] * f) / total, 2)
        scored.append((score, row, v, r, c, f))
    scored.sort(key=lambda item: (-item[0], str(item[1]["name"])))
    return [PortfolioEntry(str(row["name"]), row.get("relationship_type"), v, r, c, f, score, rank,
                           bool(row.get("collaboration_fits")), started.get(_name_key(row["name"])))
            for rank, (score, row, v, r, c, f) in enumerate(scored, start=1)]


def _name_key(name) -> str:
    return " ".join(str(name or "").lower().split())


def _same_name(a, b) -> bool:
    return bool(_name_key(a)) and _name_key(a) == _name_key(b)
