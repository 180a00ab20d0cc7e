"""The events a webhook may subscribe to, derived from the audit events written in the same transaction.

One hook point: `app.audit.services.recorded` hands every batch of audit rows to `derive`, which reads the task and
instance rows the action just wrote and answers the webhook events it amounts to. A payload carries ids and names
only (the task, its instance, the relationship, the actor's username, a gate's decision): never form data, so
nothing a partner may not see, and no withheld knowledge, ever leaves through a webhook.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from ..processes.models import HumanTask, ProcessInstance
from ..stages import EXIT_TRIGGER_SIGNAL, ISSUE_PROCESS, LIFECYCLE, NONCONFORMITY

TASK_CREATED, TASK_COMPLETED, GATE_DECIDED = "task.created", "task.completed", "gate.decided"
ISSUE_ESCALATED, EXIT_TRIGGER_RAISED = "issue.escalated", "exit_trigger.raised"
NONCONFORMITY_RAISED, NONCONFORMITY_CLOSED = "nonconformity.raised", "nonconformity.closed"
VERSION_DEPLOYED = "version.deployed"

EVENTS = {  # type -> what an administrator reads beside its checkbox
    TASK_CREATED: "A task became ready for someone",
    TASK_COMPLETED: "A task was completed",
    GATE_DECIDED: "An SER decided a stage gate (approved or sent back)",
    ISSUE_ESCALATED: "An issue escalated to the next level",
    EXIT_TRIGGER_RAISED: "An exit trigger was raised on a relationship",
    NONCONFORMITY_RAISED: "A nonconformity was raised",
    NONCONFORMITY_CLOSED: "A nonconformity was closed (its action checked effective)",
    VERSION_DEPLOYED: "A new version of the diagrams and forms was deployed",
}

# the audit actions that may amount to a webhook event: any other batch costs nothing
SOURCES = frozenset({"task.created", "task.completed", "signal.received", "instance.started", "instance.completed",
                     "version.deployed"})
_LEVEL = re.compile(r"^ir_level(\d+)")


@dataclass(frozen=True)
class Occurred:
    type: str
    occurred_at: datetime
    data: dict


def interesting(rows: list[dict]) -> bool:
    return any(row["action"] in SOURCES for row in rows)


def derive(session: Session, rows: list[dict]) -> list[Occurred]:
    """The webhook events a batch of audit rows (as `app.audit.services` wrote them) amounts to: what was done
    (completions, decisions, triggers, ...) first, then the tasks and escalations it opened."""
    rows = [row for row in rows if row["action"] in SOURCES]
    tasks = _tasks(session, [(r["instance_id"], r["task_id"]) for r in rows
                             if r["action"].startswith("task.") and r["instance_id"] and r["task_id"]])
    instances = _Instances(session)
    found: list[Occurred] = []
    escalated: set[tuple[int, int]] = set()  # level 3 opens a task on each side: one escalation
    for row in rows:
        action, payload, at = row["action"], row["payload"] or {}, row["at"]
        actor = None if row["actor"] == "system" else row["actor"]
        if action == "version.deployed":
            found.append(Occurred(VERSION_DEPLOYED, at, {
                "version": {"id": payload.get("version_id"), "message": payload.get("message"),
                            "processes": payload.get("processes") or []}, "actor": actor}))
            continue
        instance = instances.get(row["instance_id"])
        if instance is None:
            continue
        where = instances.describe(instance)
        if action in ("task.created", "task.completed"):
            task = tasks.get((row["instance_id"], row["task_id"]))
            if task is None:
                continue
            data = {"task": _task(task), **where, "actor": actor}
            found.append(Occurred(TASK_CREATED if action == "task.created" else TASK_COMPLETED, at, data))
            if action == "task.completed" and task.approval_gate:
                found.append(Occurred(GATE_DECIDED, at, {**data, "decision": _decision(task)}))
            level = _escalation_level(task) if action == "task.created" else None
            issue = instances.issue_of(instance) if level is not None else None
            if issue is not None and (issue.id, level) not in escalated:
                escalated.add((issue.id, level))
                found.append(Occurred(ISSUE_ESCALATED, at, {
                    "issue": {"id": issue.id, "title": issue.title}, "level": level,
                    "relationship": where["relationship"], "task": _task(task)}))
        elif action == "signal.received" and payload.get("name") == EXIT_TRIGGER_SIGNAL:
            source = (payload.get("payload") or {}).get("source")
            found.append(Occurred(EXIT_TRIGGER_RAISED, at, {
                "relationship": where["relationship"], "source": source if isinstance(source, str) else None,
                "actor": actor}))
        elif action in ("instance.started", "instance.completed") and instance.process_id == NONCONFORMITY:
            found.append(Occurred(NONCONFORMITY_RAISED if action == "instance.started" else NONCONFORMITY_CLOSED,
                                  at, {"nonconformity": {"id": instance.id, "title": instance.title},
                                       "actor": actor}))
    # the audit trail lists an action's new tasks before what caused them; receivers read cause, then effect
    return sorted(found, key=lambda o: o.type in _EFFECTS)


_EFFECTS = frozenset({TASK_CREATED, ISSUE_ESCALATED})


def _tasks(session: Session, keys: list[tuple[int, str]]) -> dict[tuple[int, str], HumanTask]:
    if not keys:
        return {}
    # the store wrote these rows with Core statements: refresh any copy the session read before the action
    rows = session.scalars(select(HumanTask).where(tuple_(HumanTask.instance_id, HumanTask.task_id).in_(keys))
                           .execution_options(populate_existing=True))
    return {(t.instance_id, t.task_id): t for t in rows}


def _task(task: HumanTask) -> dict:
    return {"id": task.id, "name": task.name, "bpmn_id": task.bpmn_id, "process_id": task.process_id,
            "lane": task.lane, "due_at": task.due_at.isoformat() if task.due_at else None}


def _decision(task: HumanTask) -> str | None:
    decision = (task.submitted or {}).get("decision")
    return decision if isinstance(decision, str) else None


def _escalation_level(task: HumanTask) -> int | None:
    """Level 2 and up of an issue's resolution (ir_level2, ir_level3_ser, ...): the issue escalated to it."""
    match = _LEVEL.match(task.bpmn_id or "")
    level = int(match.group(1)) if match else None
    return level if level is not None and level >= 2 else None


class _Instances:
    """The instances a batch names, and the relationship each belongs to, read once each."""

    def __init__(self, session: Session):
        self.session, self.cache = session, {}

    def get(self, instance_id: int | None) -> ProcessInstance | None:
        if instance_id is None:
            return None
        if instance_id not in self.cache:
            self.cache[instance_id] = self.session.get(ProcessInstance, instance_id)
        return self.cache[instance_id]

    def issue_of(self, instance: ProcessInstance) -> ProcessInstance | None:
        """The issue-resolution instance a task's instance is, or is called from (level 3 is a call activity)."""
        for candidate in (instance, self.get(instance.parent_id)):
            if candidate is not None and candidate.process_id == ISSUE_PROCESS:
                return candidate
        return None

    def describe(self, instance: ProcessInstance) -> dict:
        root = self.get(instance.root_id) if instance.root_id and instance.root_id != instance.id else instance
        relationship = {"id": root.id, "title": root.title} if root is not None and root.process_id == LIFECYCLE \
            else None
        return {"instance": {"id": instance.id, "process_id": instance.process_id, "title": instance.title},
                "relationship": relationship}


__all__ = ["EVENTS", "Occurred", "derive", "interesting"]
