"""The pages' policy task: valid answers, completing it through the task services, finding a ready task."""

from __future__ import annotations

from sqlalchemy import select

from app.db import utcnow
from app.inbox import services as tasks
from app.processes.models import HumanTask

VALID_POLICY = {
    "policy_text": "We collaborate openly and fairly.", "approved_on": "2026-01-15", "scope": "division",
    "channels": ["email"], "improvement": True,
    "communications": [{"audience": "All staff", "channel": "briefing"}],
}


def complete_policy(session, engine, user, task_id, **changes):
    return tasks.submit(session, engine, user, task_id, {**VALID_POLICY, **changes}, now=utcnow())


def ready(session, bpmn_id):
    return session.scalar(select(HumanTask).where(HumanTask.bpmn_id == bpmn_id, HumanTask.state == "ready"))


# stage 4: the organisation's selection criteria and two nominated candidates
CRITERIA = [
    {"criterion": "Financial standing", "category": "financial_standing", "weight": 60,
     "how_assessed": "Audited accounts"},
    {"criterion": "Culture", "category": "culture", "weight": 40, "how_assessed": "Workshops"},
]
CANDIDATES = [
    {"name": "Alpha Ltd", "country": "UK", "contact": "a@alpha", "nomination_rationale": "Strong balance sheet"},
    {"name": "Beta GmbH", "country": "DE", "contact": "b@beta", "nomination_rationale": "Good culture fit"},
]
