"""Portfolio figures read from rows across every relationship (never by loading a workflow).

What the SERs and the board look at: relationships by stage, status and outcome; the time each stage took and
the time each SER gate kept people waiting (median and worst); what is overdue; open issues by escalation
level; risks by heat-map cell; the value realised. The stage of a relationship comes from
`relationships.summaries`, so this page and the relationships list never disagree.

A relationship is a root instance of `lifecycle` and what is linked to it (its reviews, issues, stage work).
The organisation's management system (its stages 1 and 3, reviews, internal audits, nonconformities) and
processes started by hand are not relationships: they count in none of the figures above but in the
organisation's own part (`Organisation`: the internal assessment's state, the maturity trend, open
nonconformities, its overdue tasks and reviews; ISO 44001 9.1 and 10.1).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..agenda.services import AgendaEntry, upcoming
from ..management import services as management
from ..management.models import RelationshipFoundation
from ..processes.models import HumanTask, ProcessInstance
from ..registers import services as registers
from ..registers.models import RegisterEntry
from ..relationships import services as relationships
from ..stages import ISSUE_PROCESS, MANAGEMENT_SYSTEM, STAGE_NAMES, stage_of_process

ALL = 1_000_000  # no page limit: the board sees every relationship
STATUSES = ("running", "completed", "cancelled")
LEVELS = ("Being logged", "Level 1", "Level 2", "Level 3")
OLDEST_NONCONFORMITIES = 5  # how many open nonconformities the dashboard lists, oldest first
RENEWAL = "Internal assessment (stage 3) renewal"  # the management system's own timer, as its calendar names it


@dataclass(frozen=True)
class Durations:
    """Median and worst of some durations (None when there are none)."""

    count: int
    median: timedelta | None
    worst: timedelta | None

    @classmethod
    def of(cls, values: list[timedelta]) -> Durations:
        if not values:
            return cls(0, None, None)
        seconds = statistics.median(v.total_seconds() for v in values)
        return cls(len(values), timedelta(seconds=seconds), max(values))


@dataclass(frozen=True)
class StageTime:
    number: int
    name: str
    durations: Durations  # from the stage's first task created to its last gate decided, per relationship


@dataclass(frozen=True)
class GateTime:
    bpmn_id: str
    name: str
    stage: int | None
    durations: Durations  # from the gate task created to it decided
    waiting: int = 0  # gates of this kind waiting for a decision now
    longest_waiting: timedelta | None = None  # how long the oldest of those has waited


@dataclass(frozen=True)
class OpenIssue:
    id: int
    title: str
    relationship_id: int
    relationship: str | None
    level: str
    raised_at: datetime


@dataclass(frozen=True)
class RelationshipValue:
    relationship_id: int
    relationship: str
    realised_value: float
    benefit: float
    cost: float


@dataclass
class Organisation:
    """The organisation's part: its management system, not any relationship (ISO 44001 9.1, 10.1)."""

    management_system_id: int | None  # None: not set up yet
    status: str | None  # the management system's status
    readiness: management.Readiness  # whether its internal assessment (stage 3) is approved and current
    maturity: list[management.MaturityPoint]  # the scored self-assessments, oldest first
    nonconformities: list[management.OpenItem]  # open ones (raised by hand or by a process), oldest first
    waiting_relationships: int  # relationships waiting before stage 4 for the internal assessment
    overdue_tasks: list[AgendaEntry]  # of the management system, its linked processes, processes started by hand
    overdue_reviews: list[AgendaEntry]

    @property
    def set_up(self) -> bool:
        return self.management_system_id is not None

    @property
    def assessment_current(self) -> bool:
        return self.readiness.ready

    @property
    def maturity_score(self) -> float | None:
        """The latest mean maturity level (1-5), or None before the first self-assessment."""
        return self.maturity[-1].score if self.maturity else None

    @property
    def maturity_change(self) -> float | None:
        """The latest score less the one before (None with fewer than two)."""
        if len(self.maturity) < 2:
            return None
        return round(self.maturity[-1].score - self.maturity[-2].score, 1)

    @property
    def maturity_trend(self) -> str | None:
        """up, down or steady against the assessment before; None with fewer than two."""
        change = self.maturity_change
        if change is None:
            return None
        return "up" if change > 0 else "down" if change < 0 else "steady"

    @property
    def oldest_nonconformities(self) -> list[management.OpenItem]:
        return self.nonconformities[:OLDEST_NONCONFORMITIES]


@dataclass
class Portfolio:
    now: datetime
    summaries: list[relationships.Summary]
    by_stage: dict[int | None, int]  # 1..8, None: not started
    by_stage_status: dict[int | None, dict[str, int]]
    by_status: dict[str, int]
    by_outcome: dict[str, int]
    stage_times: list[StageTime]
    gate_times: list[GateTime]
    overdue_tasks: list[AgendaEntry]
    overdue_reviews: list[AgendaEntry]
    issues: list[OpenIssue]
    issues_by_level: dict[str, int]
    heat_map: list[list[int]]  # rows impact 5..1, columns likelihood 1..5 (as registers.heat_map)
    risks: int
    value: list[RelationshipValue] = field(default_factory=list)
    organisation: Organisation | None = None  # None: not asked for (the viewer may not read the management system)

    @property
    def total(self) -> int:
        return len(self.summaries)

    @property
    def value_realised(self) -> float:
        return sum(v.realised_value for v in self.value)


def portfolio(session: Session, *, now: datetime, organisation: bool = True) -> Portfolio:
    """Every figure of the dashboard (with `organisation`, the organisation's part too). Takes the completed
    tasks of every relationship into their registers first (`registers.sync` in one pass, which commits), so
    the heat map and value are current."""
    registers.sync(session, None, now=now)
    found = relationships.summaries(session, now=now, limit=ALL)  # `lifecycle` roots only
    ids = {s.instance.id for s in found}
    by_stage: dict[int | None, int] = {n: 0 for n in [*STAGE_NAMES, None]}
    by_stage_status: dict[int | None, dict[str, int]] = {n: dict.fromkeys(STATUSES, 0) for n in by_stage}
    by_status = dict.fromkeys(STATUSES, 0)
    by_outcome: dict[str, int] = {}
    for summary in found:
        stage, status = summary.progress.current, summary.instance.status
        by_stage[stage] = by_stage.get(stage, 0) + 1
        by_stage_status.setdefault(stage, dict.fromkeys(STATUSES, 0))
        by_stage_status[stage][status] = by_stage_status[stage].get(status, 0) + 1
        by_status[status] = by_status.get(status, 0) + 1
        if status != "running":
            outcome = summary.progress.outcome or status
            by_outcome[outcome] = by_outcome.get(outcome, 0) + 1
    stage_times, gate_times = _times(session, found, now)
    # what fell due: a relationship's (its root is one of them), else the organisation's
    due = [e for e in upcoming(session, now=now, until=now, limit=ALL) if e.when < now]
    ours = [e for e in due if e.relationship_id in ids]
    issues = _open_issues(session, ids)
    by_level = dict.fromkeys(LEVELS, 0)
    for issue in issues:
        by_level[issue.level] = by_level.get(issue.level, 0) + 1
    running = [s.instance.id for s in found if s.instance.status == "running"]
    grid, risks = _heat_map(session, running)
    return Portfolio(
        now=now, summaries=found, by_stage=by_stage, by_stage_status=by_stage_status, by_status=by_status,
        by_outcome=dict(sorted(by_outcome.items())), stage_times=stage_times, gate_times=gate_times,
        overdue_tasks=[e for e in ours if e.kind == "deadline"],
        overdue_reviews=[e for e in ours if e.kind == "review"],
        issues=issues, issues_by_level=by_level, heat_map=grid, risks=risks, value=_value(session, found),
        organisation=_organisation(session, now, [e for e in due if e.relationship_id not in ids])
        if organisation else None)


def _organisation(session: Session, now: datetime, due: list[AgendaEntry]) -> Organisation:
    """The organisation's part, from `management.overview`; `due`: what fell due outside every relationship."""
    seen = management.overview(session, now)
    ms = seen.management_system
    reviews = [e for e in due if e.kind == "review"]
    # the management system's own timer is the renewal of its internal assessment: a review too
    reviews += [AgendaEntry(e.when, "review", RENEWAL, e.relationship_id, e.relationship, e.instance_id,
                            e.process_id, overdue=True)
                for e in due if e.kind == "timer" and e.process_id == MANAGEMENT_SYSTEM]
    return Organisation(
        management_system_id=ms.id if ms is not None else None, status=ms.status if ms is not None else None,
        readiness=seen.readiness, maturity=seen.maturity,
        nonconformities=sorted(seen.nonconformities, key=lambda n: (n.created_at, n.instance_id)),
        waiting_relationships=seen.waiting_relationships,
        overdue_tasks=[e for e in due if e.kind == "deadline"],
        overdue_reviews=sorted(reviews, key=lambda e: (e.when, e.title)))


# ---- time in stages and at gates ------------------------------------------------------------------------------

def _times(session: Session, found: list[relationships.Summary], now: datetime
           ) -> tuple[list[StageTime], list[GateTime]]:
    progress = {s.instance.id: s.progress for s in found}
    if not progress:
        return [StageTime(n, name, Durations.of([])) for n, name in STAGE_NAMES.items()], []
    # waiting before stage 4 for the organisation: their last stage (2) is passed though no later one has begun
    waiting = set(session.scalars(select(RelationshipFoundation.relationship_id).where(
        RelationshipFoundation.relationship_id.in_(list(progress)), RelationshipFoundation.waiting_since.is_not(None),
        RelationshipFoundation.released_at.is_(None))))
    rows = session.execute(
        select(HumanTask.instance_id, HumanTask.process_id, HumanTask.bpmn_id, HumanTask.name, HumanTask.state,
               HumanTask.approval_gate, HumanTask.created_at, HumanTask.completed_at)
        .where(HumanTask.instance_id.in_(list(progress)), HumanTask.process_id.like("stage%"))
        .order_by(HumanTask.id)).all()
    first: dict[tuple[int, int], datetime] = {}  # (relationship, stage) -> first task created
    last_created: dict[tuple[int, int], datetime] = {}
    decided: dict[tuple[int, int], datetime] = {}  # (relationship, stage) -> last gate decided
    gate_waits: dict[str, list[timedelta]] = {}
    gate_open: dict[str, list[timedelta]] = {}
    gate_info: dict[str, tuple[str, int | None]] = {}
    for row in rows:
        stage = stage_of_process(row.process_id)
        if stage is None:
            continue
        key = (row.instance_id, stage)
        first[key] = min(first.get(key, row.created_at), row.created_at)
        last_created[key] = max(last_created.get(key, row.created_at), row.created_at)
        if not row.approval_gate:
            continue
        gate_info.setdefault(row.bpmn_id, (row.name, stage))
        if row.state == "completed" and row.completed_at is not None:
            gate_waits.setdefault(row.bpmn_id, []).append(row.completed_at - row.created_at)
            decided[key] = max(decided.get(key, row.completed_at), row.completed_at)
        elif row.state == "ready":
            gate_open.setdefault(row.bpmn_id, []).append(now - row.created_at)
    spent: dict[int, list[timedelta]] = {}
    for (relationship_id, stage), end in decided.items():
        # passed: the relationship went beyond it (or ended with it, or waits for the organisation after it), and
        # nothing was reopened after the decision
        state = progress[relationship_id].state_of(stage)
        passed = state == "done" or (state == "current" and relationship_id in waiting)
        if passed and last_created[(relationship_id, stage)] <= end:
            spent.setdefault(stage, []).append(end - first[(relationship_id, stage)])
    stage_times = [StageTime(n, name, Durations.of(spent.get(n, []))) for n, name in STAGE_NAMES.items()]
    gates = [GateTime(bpmn_id, name, stage, Durations.of(gate_waits.get(bpmn_id, [])),
                      len(gate_open.get(bpmn_id, [])), max(gate_open[bpmn_id]) if gate_open.get(bpmn_id) else None)
             for bpmn_id, (name, stage) in gate_info.items()]
    return stage_times, sorted(gates, key=lambda g: (g.stage or 99, g.bpmn_id))


# ---- issues, risks, value -------------------------------------------------------------------------------------

def _open_issues(session: Session, relationship_ids: set[int]) -> list[OpenIssue]:
    """The running issue-resolution processes of the relationships with the level each is worked at
    (`relationships.level_of`)."""
    relationship = func.coalesce(ProcessInstance.root_id, ProcessInstance.parent_id, ProcessInstance.id)
    found = [row for row in session.execute(
        select(ProcessInstance.id, ProcessInstance.title, ProcessInstance.data, ProcessInstance.created_at,
               relationship.label("relationship_id"))
        .where(ProcessInstance.process_id == ISSUE_PROCESS, ProcessInstance.status == "running")
        .order_by(ProcessInstance.created_at, ProcessInstance.id)).all() if row.relationship_id in relationship_ids]
    if not found:
        return []
    ready: dict[int, list[str]] = {}
    titles: dict[int, str] = {}
    for instance_id, bpmn_id, state, submitted in session.execute(
            select(HumanTask.instance_id, HumanTask.bpmn_id, HumanTask.state, HumanTask.submitted)
            .where(HumanTask.instance_id.in_([i.id for i in found]), HumanTask.state.in_(("ready", "completed")))
            .order_by(HumanTask.id)):
        if state == "ready":
            ready.setdefault(instance_id, []).append(bpmn_id)
        title = (submitted or {}).get("issue_title")
        if isinstance(title, str) and title.strip():
            titles[instance_id] = title.strip()
    names = dict(session.execute(select(ProcessInstance.id, ProcessInstance.title).where(
        ProcessInstance.id.in_({i.relationship_id for i in found}))).all())
    issues = []
    for issue in found:
        title = issue.title or titles.get(issue.id) or (issue.data or {}).get("issue_title")
        issues.append(OpenIssue(issue.id, title if isinstance(title, str) and title else f"Issue #{issue.id}",
                                issue.relationship_id, names.get(issue.relationship_id),
                                relationships.level_of(ready.get(issue.id, [])) or "Waiting", issue.created_at))
    return issues


def _views(session: Session, register: str, relationship_ids: list[int]) -> list[registers.EntryView]:
    """Every current entry of a register across relationships, as our own organisation sees it."""
    if not relationship_ids:
        return []
    rows = session.scalars(select(RegisterEntry).where(
        RegisterEntry.register == register, RegisterEntry.removed.is_(False),
        RegisterEntry.relationship_id.in_(relationship_ids)).order_by(RegisterEntry.id))
    return [registers.EntryView(r.id, r.register, r.data, r.joint, r.version, r.source, r.updated_at, None)
            for r in rows]


def _heat_map(session: Session, running: list[int]) -> tuple[list[list[int]], int]:
    grid = registers.heat_map(_views(session, "risks", running))
    return grid, sum(map(sum, grid))


def _value(session: Session, found: list[relationships.Summary]) -> list[RelationshipValue]:
    ids = [s.instance.id for s in found]
    if not ids:
        return []
    titles = {s.instance.id: s.title for s in found}
    grouped: dict[int, list[registers.EntryView]] = {}
    for r in session.scalars(select(RegisterEntry).where(
            RegisterEntry.register == "value", RegisterEntry.removed.is_(False),
            RegisterEntry.relationship_id.in_(ids)).order_by(RegisterEntry.id)):
        grouped.setdefault(r.relationship_id, []).append(
            registers.EntryView(r.id, r.register, r.data, r.joint, r.version, r.source, r.updated_at, None))
    rows = []
    for relationship_id, views in grouped.items():
        totals = registers.value_totals(views)
        rows.append(RelationshipValue(relationship_id, titles[relationship_id], totals["realised_value"],
                                      totals["benefit"], totals["cost"]))
    return sorted(rows, key=lambda v: (-v.realised_value, v.relationship))


# ---- JSON -------------------------------------------------------------------------------------------------------

def _hours(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 2)


def _durations(d: Durations) -> dict:
    return {"count": d.count, "median_hours": _hours(d.median), "worst_hours": _hours(d.worst)}


def _due(entries: list[AgendaEntry], key: str) -> list[dict]:
    return [{key: e.task_id if key == "task_id" else e.instance_id, "title": e.title,
             "relationship_id": e.relationship_id, "relationship": e.relationship, "due_at": e.when.isoformat()}
            for e in entries]


def organisation_json(o: Organisation) -> dict:
    return {
        "management_system_id": o.management_system_id,
        "status": o.status,
        "assessment": {"current": o.readiness.ready, "reason": o.readiness.reason,
                       "approved_at": o.readiness.approved_at.isoformat() if o.readiness.approved_at else None,
                       "renewal_due_at": o.readiness.renewal_due_at.isoformat()
                       if o.readiness.renewal_due_at else None},
        "waiting_relationships": o.waiting_relationships,
        "maturity": {"score": o.maturity_score, "change": o.maturity_change, "trend": o.maturity_trend,
                     "points": [{"at": m.at.isoformat(), "score": m.score} for m in o.maturity]},
        "open_nonconformities": len(o.nonconformities),
        "oldest_nonconformities": [{"instance_id": n.instance_id, "title": n.title, "step": n.step,
                                    "raised_at": n.created_at.isoformat(),
                                    "due_at": n.due_at.isoformat() if n.due_at else None}
                                   for n in o.oldest_nonconformities],
        "overdue_tasks": _due(o.overdue_tasks, "task_id"),
        "overdue_reviews": _due(o.overdue_reviews, "instance_id"),
    }


def as_json(p: Portfolio) -> dict:
    """The figures as plain JSON (durations in hours); `organisation` only when the portfolio was read with it."""
    return {
        "generated_at": p.now.isoformat(),
        "relationships": p.total,
        "by_stage": {("not_started" if k is None else str(k)): v for k, v in p.by_stage.items()},
        "by_status": p.by_status,
        "by_outcome": p.by_outcome,
        "stage_times": [{"stage": s.number, "name": s.name, **_durations(s.durations)} for s in p.stage_times],
        "gate_times": [{"gate": g.bpmn_id, "name": g.name, "stage": g.stage, **_durations(g.durations),
                        "waiting": g.waiting, "longest_waiting_hours": _hours(g.longest_waiting)}
                       for g in p.gate_times],
        "overdue_tasks": _due(p.overdue_tasks, "task_id"),
        "overdue_reviews": _due(p.overdue_reviews, "instance_id"),
        "issues_by_level": p.issues_by_level,
        "open_issues": [{"id": i.id, "title": i.title, "relationship_id": i.relationship_id, "level": i.level}
                        for i in p.issues],
        "risks": p.risks,
        "heat_map": [{"likelihood": col + 1, "impact": 5 - row, "count": count}
                     for row, cells in enumerate(p.heat_map) for col, count in enumerate(cells)],
        "value_realised": p.value_realised,
        "value_by_relationship": [{"relationship_id": v.relationship_id, "relationship": v.relationship,
                                   "realised_value": v.realised_value, "benefit": v.benefit, "cost": v.cost}
                                  for v in p.value],
    } | ({"organisation": organisation_json(p.organisation)} if p.organisation is not None else {})
