"""Demo relationships for `collabflow seed-demo`: started under the demo organisation's management system and
advanced through the real services, with form data made from each task's own schema, so the demo shows exactly what
people would have produced."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import WorkflowEngine

from ..auth.models import User
from ..inbox.queries import open_tasks
from ..management.demo import seed_management_system, work
from ..processes.models import ProcessInstance
from ..stages import LIFECYCLE
from . import services as relationships

# title, partner, the stage it should have reached (stages 1 and 3 are the organisation's)
DEMO_RELATIONSHIPS = [
    ("Northwind joint logistics", "Northwind Traders", 2),
    ("Contoso shared research", "Contoso plc", 2),
    ("Fabrikam service alliance", "Fabrikam Ltd", 4),
    ("Tailspin regional partnership", "Tailspin Toys", 5),
]


def seed_relationships(session: Session, engine: WorkflowEngine, people: list[User], *, now: datetime,
                       report: Callable[[str], None] = lambda _line: None) -> int:
    """Set up the organisation's management system, then start the demo relationships that do not exist yet and
    advance each to its stage. Returns how many were started; does nothing when no lifecycle is deployed."""
    if not relationships.lifecycle_deployed(session) or not people:
        return 0
    seed_management_system(session, engine, people, now=now, report=report)
    started = 0
    for title, partner, target in DEMO_RELATIONSHIPS:
        exists = session.scalar(select(ProcessInstance.id).where(
            ProcessInstance.parent_id.is_(None), ProcessInstance.process_id == LIFECYCLE,
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
    def stage() -> int | None:
        stages = [t.stage.number for t in open_tasks(session, relationship_id, now=now) if t.stage.number]
        return max(stages) if stages else None

    work(session, engine, relationship_id, people, now=now, until=lambda: (stage() or 0) >= target)
    reached = stage()
    session.rollback()
    return reached
