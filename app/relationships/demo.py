"""Demo relationships for `collabflow seed-demo`: started and advanced through the real services, with form
data made from each task's own schema, so the demo shows exactly what people would have produced."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import WorkflowEngine, WorkflowError

from ..auth.models import User
from ..errors import AppError
from ..evidence.services import Upload
from ..inbox import services as tasks
from ..inbox.queries import open_tasks, refusal
from ..inbox.screens import task_form
from ..processes.models import HumanTask, ProcessInstance
from . import services as relationships

# title, partner, the stage it should have reached
DEMO_RELATIONSHIPS = [
    ("Northwind joint logistics", "Northwind Traders", 1),
    ("Contoso shared research", "Contoso plc", 2),
    ("Fabrikam service alliance", "Fabrikam Ltd", 3),
    ("Tailspin regional partnership", "Tailspin Toys", 5),
]
PREFERRED = ("approve", "approved", "yes", "appropriate", "collaborate", "proceed", "continue", "agreed", "accept",
             "dismiss", "green", "on_track", "met", "achieved", "resolved")
MAX_STEPS = 300


def sample(schema: dict | None, evidence: Callable[[], str], today: str) -> dict:
    """Valid form data for `schema`: every field filled, preferring answers that move a relationship on."""
    if not schema:
        return {}
    return _value({"type": "object", **schema}, evidence, today)


def _value(schema: dict, evidence, today):
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return next((v for v in PREFERRED if v in schema["enum"]), schema["enum"][0])
    kind = schema.get("type")
    if kind == "object":
        return {k: _value(s or {}, evidence, today) for k, s in (schema.get("properties") or {}).items()}
    if kind == "array":
        items = schema.get("items") or {}
        if "enum" in items:
            return [_value(items, evidence, today)]
        return [_value(items, evidence, today) for _ in range(max(1, schema.get("minItems", 1)))]
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        low, high = schema.get("minimum", 1), schema.get("maximum", max(schema.get("minimum", 1), 3))
        return max(low, min(high, 3))
    if schema.get("format") == "date":
        return today
    if schema.get("format") == "evidence":
        return evidence()
    text = f"Demo: {schema.get('title') or 'answer'}"
    return text[: schema.get("maxLength", len(text))].ljust(schema.get("minLength", 0), ".")


def seed_relationships(session: Session, engine: WorkflowEngine, people: list[User], *, now: datetime,
                       report: Callable[[str], None] = lambda _line: None) -> int:
    """Start the demo relationships that do not exist yet and advance each to its stage. Returns how many
    were started; does nothing when no lifecycle is deployed."""
    if not relationships.lifecycle_deployed(session) or not people:
        return 0
    started = 0
    for title, partner, target in DEMO_RELATIONSHIPS:
        exists = session.scalar(select(ProcessInstance.id).where(ProcessInstance.parent_id.is_(None),
                                                                 ProcessInstance.title == title))
        session.rollback()
        if exists is not None:
            continue
        starter = next((p for p in people if p.roles & {"staff", "admin"}), people[0])
        result = relationships.start(session, engine, starter, title=title, partner=partner, now=now)
        reached = advance(session, engine, result.instance_id, target, people, now=now)
        started += 1
        report(f"  {title:32} stage {reached or '-'} of 8 (wanted {target})")
    return started


def advance(session: Session, engine: WorkflowEngine, relationship_id: int, target: int, people: list[User], *,
            now: datetime) -> int | None:
    """Complete ready tasks until the relationship works on stage `target`. Returns the stage it is at."""
    today = now.date().isoformat()
    for _ in range(MAX_STEPS):
        ready = open_tasks(session, relationship_id, now=now)
        stages = [t.stage.number for t in ready if t.stage.number]
        if not ready or (stages and max(stages) >= target):
            session.rollback()
            return max(stages) if stages else None
        done = False
        for task in ready:
            row = session.get(HumanTask, task.id)
            worker = next((p for p in people if refusal(session, p, row) is None), None)
            if worker is None:
                continue
            schema = task_form(session, row).schema
            data = sample(schema, _evidence_maker(session, worker, row.id, now), today)
            try:
                tasks.submit(session, engine, worker, row.id, data, now=now)
            except (AppError, WorkflowError):
                session.rollback()
                continue
            done = True
            break
        if not done:
            session.rollback()
            return max(stages) if stages else None
    return None


def _evidence_maker(session, user, human_task_id, now):
    made: list[str] = []

    def make() -> str:
        if not made:
            content = b"Demo evidence generated by collabflow seed-demo.\n"
            stored = tasks.attach_evidence(session, user, human_task_id, Upload("demo-evidence.txt", io.BytesIO(content)),
                                           field=None, max_bytes=1024 * 1024, now=now)
            made.append(str(stored.id))
        return made[0]
    return make
