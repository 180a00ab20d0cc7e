"""Live inputs for the management review (ISO 44001 9.3): what the meeting must consider, read from the records
the moment the task is opened, so nobody retypes them. A diagram asks for them with the user task's extension
property `liveInputs` = `management_review`; the form keeps them editable and the submission records what the
meeting saw."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import WorkflowEngine, WorkflowError

from ..processes.models import HumanTask, ProcessInstance
from ..processes.store import bound
from ..stages import LIFECYCLE, STAGE_NAMES, stage_of_process
from . import services as management

ROWS = 50  # at most this many rows per input: a review reads a summary, the registers hold the rest


def _completed(session: Session, bpmn_id: str, *, root_id: int | None = None, since: datetime | None = None,
               limit: int = ROWS) -> list[HumanTask]:
    query = (select(HumanTask).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
             .where(HumanTask.bpmn_id == bpmn_id, HumanTask.state == "completed")
             .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc()).limit(limit)
             .execution_options(populate_existing=True))
    if root_id is not None:
        query = query.where(ProcessInstance.root_id == root_id)
    if since is not None:
        query = query.where(HumanTask.completed_at > since)
    return list(session.scalars(query))


def _rows(task: HumanTask | None, field: str) -> list[dict]:
    value = (task.submitted or {}).get(field) if task is not None else None
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def _text(value) -> str:
    return "" if value is None else str(value)[:300]


def management_review(session: Session, engine: WorkflowEngine, now: datetime) -> dict:
    """The set inputs of ISO 44001 9.3, as the review form's fields name them."""
    ms = management.management_system(session)
    if ms is None:
        return {}
    previous = _completed(session, "or_management_review", root_id=ms.id, limit=1)
    last_review = previous[0].completed_at if previous else None
    return {
        "previous_actions": [
            {"action": _text(a.get("action")), "owner": _text(a.get("owner")), "deadline": a.get("deadline"),
             "status": a.get("status")}
            for a in _rows(previous[0] if previous else None, "management_review_actions")
            if a.get("action") and a.get("status") not in ("done", "cancelled")][:ROWS],
        "context_changes": [
            {"issue": _text(c.get("what_changed")), "change": _text(c.get("effect"))}
            for task in _completed(session, "or_context_review", root_id=ms.id, since=last_review)
            for c in _rows(task, "changes") if c.get("what_changed")][:ROWS],
        "objectives_performance": _objectives(session, ms.id),
        "audit_results": [
            {"audit": _text(session.get(ProcessInstance, task.instance_id).title or "Internal audit"),
             "date": (task.submitted or {}).get("audit_date"),
             "findings": len(_rows(task, "findings")),
             "summary": _text(f"conforms: {(task.submitted or {}).get('conforms', 'not said')}")}
            for task in _completed(session, "ia_audit", root_id=ms.id, since=last_review)][:ROWS],
        "nonconformities": [
            {"title": _text(nc.title), "source": _text(_nonconformity_source(session, engine, nc.instance_id)),
             "state": _text(nc.step or "closed"), "reopened": _reopened(session, nc.instance_id)}
            for nc in management.nonconformities(session, include_closed=True)
            if nc.step or last_review is None or nc.created_at > last_review][:ROWS],
        "partner_feedback": _partner_feedback(session, since=last_review),
        "portfolio": _portfolio(session),
        "improvement_opportunities": [
            {"opportunity": _text(o.get("opportunity")), "source": "risks and opportunities register"}
            for o in _rows(_latest(session, ms.id, ("or_context_review", "s1_initial_risks")), "opportunities")
            if o.get("opportunity")][:ROWS],
    }


def _latest(session: Session, root_id: int, bpmn_ids: tuple[str, ...]) -> HumanTask | None:
    found = [task for bpmn_id in bpmn_ids for task in _completed(session, bpmn_id, root_id=root_id, limit=1)]
    return max(found, key=lambda t: t.completed_at) if found else None


def _objectives(session: Session, ms_id: int) -> list[dict]:
    rows = [{"objective": _text(o.get("objective")), "measure": _text(o.get("measure")),
             "target": _text(o.get("target")), "actual": "", "trend": "no_data"}
            for o in _rows(_latest(session, ms_id, ("s1_objectives_value",)), "business_objectives")
            if o.get("objective")]
    maturity = management.maturity_trend(session, ms_id)
    if maturity:
        trend = "no_data" if len(maturity) < 2 else (
            "improving" if maturity[-1].score > maturity[-2].score else
            "worsening" if maturity[-1].score < maturity[-2].score else "steady")
        rows.append({"objective": "Collaborative maturity", "measure": "mean level of the self-assessment (1-5)",
                     "target": "", "actual": f"{maturity[-1].score:g}", "trend": trend})
    return rows[:ROWS]


def _nonconformity_source(session: Session, engine: WorkflowEngine, instance_id: int) -> str:
    """Where it was raised (hand, internal_audit, management_review, ...), from the process's own data."""
    try:
        return str(bound(engine, session).instance_data(instance_id).get("source") or "")
    except WorkflowError:
        return ""


def _reopened(session: Session, instance_id: int) -> int:
    checks = session.scalars(select(HumanTask.submitted).where(
        HumanTask.instance_id == instance_id, HumanTask.bpmn_id == "nc_check_effectiveness",
        HumanTask.state == "completed"))
    return sum(1 for submitted in checks if (submitted or {}).get("effective") == "not_effective")


def _partner_feedback(session: Session, *, since: datetime | None) -> list[dict]:
    """Each relationship's latest SER performance feedback since the last review (rating and its words)."""
    seen, rows = set(), []
    for task in _completed(session, "pr_ser_performance_feedback", since=since, limit=ROWS * 4):
        instance = session.get(ProcessInstance, task.instance_id)
        root = instance.root_id or instance.id
        if root in seen:
            continue
        seen.add(root)
        rating = (task.submitted or {}).get("overall_rating")
        rows.append({"relationship": _text(session.get(ProcessInstance, root).title),
                     "period": f"to {task.completed_at:%d %b %Y}",
                     "rating": rating if rating in ("green", "amber", "red") else None,
                     "comment": _text((task.submitted or {}).get("ser_feedback"))})
    return [{k: v for k, v in row.items() if v is not None} for row in rows][:ROWS]


def _portfolio(session: Session) -> list[dict]:
    """Every running relationship with the stage it works on and its latest rating."""
    rows = []
    for relationship in session.scalars(select(ProcessInstance).where(
            ProcessInstance.process_id == LIFECYCLE, ProcessInstance.parent_id.is_(None),
            ProcessInstance.status == "running").order_by(ProcessInstance.created_at).limit(ROWS)):
        stages = [stage_of_process(p) for p in session.scalars(select(HumanTask.process_id).where(
            HumanTask.instance_id == relationship.id).order_by(HumanTask.id.desc()).limit(20))]
        stage = next((s for s in stages if s), None)
        rating = session.scalar(select(HumanTask.submitted).join(
            ProcessInstance, ProcessInstance.id == HumanTask.instance_id).where(
            ProcessInstance.root_id == relationship.id, HumanTask.bpmn_id == "pr_ser_performance_feedback",
            HumanTask.state == "completed").order_by(HumanTask.completed_at.desc()).limit(1))
        health = (rating or {}).get("overall_rating")
        rows.append({"relationship": _text(relationship.title or f"Relationship #{relationship.id}"),
                     "stage": f"{stage} · {STAGE_NAMES[stage]}" if stage else "not started",
                     "health": health if health in ("green", "amber", "red") else "unknown"})
    return rows


PROVIDERS: dict[str, Callable[[Session, WorkflowEngine, datetime], dict]] = {
    "management_review": management_review}


def live_inputs(session: Session, engine: WorkflowEngine, properties: dict | None, now: datetime) -> dict:
    """The live inputs a task's diagram asks for (`liveInputs`), or nothing."""
    provider = PROVIDERS.get(str((properties or {}).get("liveInputs") or ""))
    return provider(session, engine, now) if provider else {}
