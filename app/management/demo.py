"""The demo organisation's management system for `collabflow seed-demo`: set up a year ago, its internal assessment
approved and renewed, one management review held and the internal audits done (one finding left as an open
nonconformity), all through the real services with form data made from each task's own schema."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import WorkflowEngine, WorkflowError

from ..auth.models import User
from ..errors import AppError
from ..evidence.services import Upload
from ..inbox import services as tasks
from ..inbox.queries import open_tasks, refusal
from ..inbox.screens import task_form
from ..processes.choices import with_choices
from ..processes.models import HumanTask, ProcessInstance, Timer
from ..processes.services import fire_due_timers, latest_version
from ..processes.store import bound
from ..stages import MANAGEMENT_SYSTEM, NONCONFORMITY
from . import services as management

PREFERRED = ("approve", "approved", "yes", "appropriate", "collaborate", "proceed", "continue", "agreed", "accept",
             "dismiss", "green", "on_track", "met", "achieved", "resolved", "effective", "none")
MAX_STEPS = 400
AGE = timedelta(days=400)  # how long ago the demo organisation set up its management system
SKIPPED = frozenset({NONCONFORMITY})  # left open: the demo shows the nonconformity waiting for its correction


def sample(schema: dict | None, evidence: Callable[[], str], today: str, current: dict | None = None) -> dict:
    """Valid form data for `schema`: what the task already holds (`current`, e.g. rows a script pre-filled) kept
    and completed, every other field filled, preferring answers that move a process on."""
    if not schema:
        return {}
    return _value({"type": "object", **schema}, evidence, today, current)


_MISSING = object()


def _value(schema: dict, evidence, today, current=_MISSING):
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        have = current if isinstance(current, dict) else {}
        return {k: _value(s or {}, evidence, today, have.get(k, _MISSING))
                for k, s in (schema.get("properties") or {}).items()}
    if kind == "array":
        items = schema.get("items") or {}
        if isinstance(current, list) and current and "enum" not in items:
            return [_value(items, evidence, today, row) for row in current]
        if "enum" in items:
            return [_value(items, evidence, today)]
        return [_value(items, evidence, today) for _ in range(max(1, schema.get("minItems", 1)))]
    if current is not _MISSING and current is not None and current != "" and (
            "enum" not in schema or current in schema["enum"]):
        return current
    if "enum" in schema:
        return next((v for v in PREFERRED if v in schema["enum"]), schema["enum"][0])
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        low, high = schema.get("minimum", 1), schema.get("maximum", max(schema.get("minimum", 1), 3))
        return max(low, min(high, 3))
    if schema.get("format") == "date":
        return today
    if schema.get("format") == "evidence":
        return evidence()
    if str(schema.get("pattern", "")).startswith("^P"):  # an ISO 8601 period
        return "P1Y"
    text = f"Demo: {schema.get('title') or 'answer'}"
    return text[: schema.get("maxLength", len(text))].ljust(schema.get("minLength", 0), ".")


def _demo_answers() -> Callable[[str, dict], dict]:
    """Where the first choice would go round in circles, an auditor from another area than the one audited; and
    one finding in the first audit only, so the demo shows one nonconformity."""
    audits = []

    def answers(bpmn_id: str, schema: dict) -> dict:
        if bpmn_id == "or_management_review":
            return {"nonconformities_raised": []}
        if bpmn_id != "ia_audit":
            return {}
        properties = schema.get("properties") or {}
        areas = (properties.get("auditor_area") or {}).get("enum") or []
        found = {"auditor_area": areas[-1]} if areas else {}
        if "findings" in properties:
            found["findings"] = [] if audits else [{
                "finding": "Two collaborative roles have no assessed competence on record",
                "severity": "minor", "requirement": "M7.2",
                "evidence": "Competence records of the key roles named in the framework"}]
        audits.append(bpmn_id)
        return found
    return answers


def work(session: Session, engine: WorkflowEngine, root_id: int, people: list[User], *, now: datetime,
         until: Callable[[], bool] = lambda: False, answers: Callable[[str, dict], dict] = lambda _b, _s: {},
         skip: frozenset[str] = frozenset()) -> int:
    """Complete the ready tasks under root instance `root_id` (its linked processes too, except those of the
    processes in `skip`), one at a time, by the first person who may, until `until()` holds or nothing more can be
    done. Returns how many were completed."""
    today, done, failed = now.date().isoformat(), 0, []
    for _ in range(MAX_STEPS):
        if until():
            break
        progressed = False
        for task in open_tasks(session, root_id, now=now):
            row = session.get(HumanTask, task.id)
            if row.process_id in skip:
                continue
            worker = next((p for p in people if refusal(session, p, row) is None), None)
            if worker is None:
                continue
            form = task_form(session, row)
            current = bound(engine, session).get_task(row.instance_id, row.task_id).data
            schema = with_choices(form.schema, form.ui, current)  # picks from the data, as the page offers
            data = {**sample(schema, _evidence_maker(session, worker, row.id, now), today,
                             {k: v for k, v in current.items() if k in ((schema or {}).get("properties") or {})}),
                    **answers(row.bpmn_id, schema or {})}
            try:
                tasks.submit(session, engine, worker, row.id, data, now=now)
            except (AppError, WorkflowError) as exc:
                session.rollback()
                failed.append(f"{row.bpmn_id}: {exc}")
                continue
            done, progressed = done + 1, True
            break
        if not progressed:
            break
    session.rollback()
    if failed and os.environ.get("COLLABFLOW_DEMO_DEBUG"):
        print("\n".join(failed[-5:]))
    return done


def seed_management_system(session: Session, engine: WorkflowEngine, people: list[User], *, now: datetime,
                           report: Callable[[str], None] = lambda _line: None) -> int | None:
    """Set up the demo organisation's management system when there is none: a year ago, then a year of its
    reviews and audits up to `now`. Returns its instance id (None when there is no one to set it up)."""
    existing = management.management_system(session)
    version = latest_version(session)
    session.rollback()
    if existing is not None:
        return existing.id
    if version is None or MANAGEMENT_SYSTEM not in (version.process_ids or []):
        report("  no management_system process is deployed: the organisation's management system is skipped")
        return None
    top = next((p for p in people if "top_management" in p.roles), None)
    if top is None:
        return None
    then = now - AGE
    ms_id = management.start(session, engine, top, now=then).instance_id
    answers = _demo_answers()
    work(session, engine, ms_id, people, now=then, until=lambda: management.readiness(session, then).ready,
         answers=answers)
    report(f"  management system set up on {then:%d %b %Y}")
    for _ in range(40):  # a year of due reviews, audits and the reassessment, each done on the day it falls due
        due = session.scalar(select(Timer.due_at).join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
                             .where(ProcessInstance.root_id == ms_id, ProcessInstance.status == "running",
                                    Timer.due_at <= now).order_by(Timer.due_at).limit(1))
        session.rollback()
        if due is None:
            break
        due += timedelta(minutes=1)  # the scheduler fires what fell due before its clock
        fire_due_timers(session, engine, now=due)
        work(session, engine, ms_id, people, now=due, answers=answers, skip=SKIPPED)
    report(f"  management system: {management.readiness(session, now).reason}")
    session.rollback()
    return ms_id


def _evidence_maker(session, user, human_task_id, now):
    made: list[str] = []

    def make() -> str:
        if not made:
            content = b"Demo evidence generated by collabflow seed-demo.\n"
            stored = tasks.attach_evidence(session, user, human_task_id, Upload("demo-evidence.txt",
                                                                                io.BytesIO(content)),
                                           field=None, max_bytes=1024 * 1024, now=now)
            made.append(str(stored.id))
        return made[0]
    return make
