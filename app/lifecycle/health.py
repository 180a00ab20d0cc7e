"""The two-way relationship health survey over time (R.S7): at each SER performance review each organisation
rates the other on trust, behaviours and communication. The relationship page shows every round side by side,
so a slide in either direction is seen before the review, not only read in its answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..processes.models import HumanTask, ProcessInstance

ASPECTS = ("trust", "behaviours", "communication")
SURVEYS = {"pr_health_survey": ("ours", "health_of_partner"),  # how we rate the partner
           "pr_health_survey_partner": ("theirs", "health_of_us")}  # how the partner rates us


@dataclass(frozen=True)
class Scores:
    trust: int
    behaviours: int
    communication: int
    comment: str

    @property
    def mean(self) -> float:
        return round((self.trust + self.behaviours + self.communication) / 3, 1)


@dataclass
class Round:
    """One review's survey: either side may still be unanswered."""
    at: datetime
    ours: Scores | None = None
    theirs: Scores | None = None


def rounds(session: Session, relationship_id: int) -> list[Round]:
    """Every survey round of the relationship, oldest first (a round is one periodic review instance)."""
    found: dict[int, Round] = {}
    rows = session.execute(
        select(HumanTask.instance_id, HumanTask.bpmn_id, HumanTask.submitted, HumanTask.completed_at)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(ProcessInstance.root_id == relationship_id, HumanTask.bpmn_id.in_(SURVEYS),
               HumanTask.state == "completed").order_by(HumanTask.completed_at, HumanTask.id))
    for instance_id, bpmn_id, submitted, completed_at in rows:
        side, field = SURVEYS[bpmn_id]
        scores = _scores((submitted or {}).get(field))
        if scores is None:
            continue
        entry = found.setdefault(instance_id, Round(completed_at))
        entry.at = max(entry.at, completed_at)
        setattr(entry, side, scores)
    return sorted(found.values(), key=lambda r: r.at)


def _scores(value) -> Scores | None:
    if not isinstance(value, dict) or not all(isinstance(value.get(a), int) for a in ASPECTS):
        return None
    return Scores(*(value[a] for a in ASPECTS), str(value.get("comment") or ""))
