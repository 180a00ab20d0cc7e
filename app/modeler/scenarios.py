"""Scenarios in the workbench: list a version's with their last result, record one from an instance's history, save
it as a draft (deployed with the diagrams), and run it against the latest version or the owner's drafts.

The runner and the document are `workflows.scenarios`; a deploy runs every scenario through `deploy_version`.
Each run and each save leaves an audit event; the last run of a scenario is read back from those events.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import CompiledVersion, ValidationFailed, WorkflowEngine
from workflows.scenarios import (
    SCENARIO_SUFFIX,
    ScenarioInvalid,
    ScenarioResult,
    parse,
    period_between,
    recorded_facts,
    run_cached,
)

from ..audit.models import AuditEvent
from ..audit.services import record
from ..auth.models import User
from ..auth.permissions import Permission, require
from ..db import unit_of_work, utcnow
from ..errors import BadRequest, NotFound
from ..processes.models import SCENARIO_KIND, HumanTask, ProcessInstance, ProcessVersion
from ..processes.services import latest_version
from ..processes.store import bound
from . import services as workbench

RUN_ACTION, SAVE_ACTION = "scenario.run", "scenario.saved"
AGAINST = ("latest", "drafts")


@dataclass
class Listed:
    name: str  # the file name, e.g. happy_path.scenario.json
    title: str  # the scenario's own name
    source: str  # "version N" or "draft"
    last: dict | None  # the payload of its last run's audit event


def require_reader(user: User | None) -> None:
    require(user, Permission.READ_PROCESSES, "only process owners, administrators and assessors may do this")


def listing(session: Session, user: User) -> list[Listed]:
    """The latest version's scenarios with the user's scenario drafts over them, each with its last result."""
    workbench.require_owner(user)
    latest = latest_version(session)
    found = {n: (c, f"version {latest.id}") for n, c in (latest.scenario_files() if latest else {}).items()}
    found.update({d.name: (d.content, "draft") for d in workbench.drafts(session, user, SCENARIO_KIND)})
    return [Listed(name, _title(name, content), source, last_run(session, name))
            for name, (content, source) in sorted(found.items())]


def _title(name: str, content: bytes) -> str:
    try:
        return parse(name, content).name
    except ScenarioInvalid:
        return name.removesuffix(SCENARIO_SUFFIX)


def last_run(session: Session, name: str) -> dict | None:
    rows = session.scalars(select(AuditEvent).where(AuditEvent.action == RUN_ACTION)
                           .order_by(AuditEvent.id.desc()).limit(200))
    return next(({**row.payload, "at": row.at.isoformat()} for row in rows if row.payload.get("name") == name), None)


def scenario_text(session: Session, user: User, name: str) -> tuple[str, str]:
    """(text, where from): the user's draft, else the latest version's file. Raises NotFound, BadRequest."""
    workbench.check_name(SCENARIO_KIND, name)
    content, source = workbench.file_content(session, user, SCENARIO_KIND, name)
    return content.decode("utf-8", "replace"), source


def checked(name: str, text: str) -> None:
    """Raise BadRequest naming the line (JSON) or the step and key of what is wrong with a scenario."""
    try:
        parse(name, text)
    except ScenarioInvalid as exc:
        errors = {f"line {p.line}" if p.line else f"problem {i}": p.message for i, p in enumerate(exc.problems, 1)}
        raise BadRequest("the scenario cannot be read: " + "; ".join(p.message for p in exc.problems),
                         errors) from None


def save(session: Session, user: User, name: str, text: str, *, now: datetime | None = None):
    """Keep a scenario as the user's draft (deployed with the next deploy). Raises BadRequest."""
    workbench.require_owner(user)
    workbench.check_name(SCENARIO_KIND, name)
    checked(name, text)
    now = now or utcnow()
    row = workbench.save_draft(session, user, SCENARIO_KIND, name, text.encode(), now=now)
    with unit_of_work(session):
        record(session, SAVE_ACTION, actor=user, at=now, payload={"name": name, "title": parse(name, text).name})
    return row


# -------------------------------------------------------------------------------------------------- running
def compiled_version(session: Session, engine: WorkflowEngine, version: ProcessVersion) -> CompiledVersion:
    """A deployed version as the runner takes it, with the specs the engine already holds (no second parse)."""
    return CompiledVersion(version.engine_files(), version.form_files(), bound(engine, session).specs(version.id))


def run(session: Session, engine: WorkflowEngine, user: User, name: str, text: str, *, against: str = "latest",
        now: datetime | None = None) -> ScenarioResult:
    """Run one scenario against the latest version or the latest version with the user's drafts over it, and audit
    the run. Raises BadRequest (unreadable scenario, drafts that do not validate), NotFound (nothing deployed)."""
    workbench.require_owner(user)
    workbench.check_name(SCENARIO_KIND, name)
    if against not in AGAINST:
        raise BadRequest(f"run against 'latest' or 'drafts', not {against!r}", {"against": "unknown"})
    checked(name, text)
    latest = latest_version(session)
    if latest is None:
        raise NotFound("no version is deployed yet")
    if against == "drafts":
        files, forms, _used = workbench.candidate(session, user)
        try:
            compiled = engine.validate(files, forms)
        except ValidationFailed as failed:
            first = next(p for p in failed.problems if p.severity == "error")
            raise BadRequest(f"your drafts do not validate, so the scenario cannot run on them: {first}") from None
    else:
        compiled = compiled_version(session, engine, latest)
    (result,) = run_cached(compiled, {name: text.encode()})
    _audit(session, user, result, name, against, latest.id, now)
    return result


def run_version(session: Session, engine: WorkflowEngine, user: User, version_id: int, *,
                only: str | None = None, now: datetime | None = None, audit: bool = True) -> list[ScenarioResult]:
    """Run the scenarios a deployed version holds (or the one named `only`) against it. Raises NotFound."""
    version = workbench.version_or_404(session, version_id)
    scenarios = version.scenario_files()
    if only is not None:
        if only not in scenarios:
            raise NotFound(f"version {version_id} has no scenario {only!r}")
        scenarios = {only: scenarios[only]}
    results = run_cached(compiled_version(session, engine, version), scenarios)
    if audit:
        for result in results:
            _audit(session, user, result, result.file, f"version {version_id}", version_id, now, commit=False)
        session.commit()
    return results


def _audit(session, user, result: ScenarioResult, name, against, version_id, now, commit=True):
    failed = result.failure
    record(session, RUN_ACTION, actor=user, at=now or utcnow(), payload={
        "name": name, "title": result.name, "against": against, "version_id": version_id, "passed": result.passed,
        "step": failed.number if failed else None, "failure": failed.message if failed else None,
        "element_id": failed.element_id if failed else None, "seconds": round(result.seconds, 3)})
    if commit:
        session.commit()


# -------------------------------------------------------------------------------------------------- recording
def from_instance(session: Session, engine: WorkflowEngine, user: User, instance_id: int) -> tuple[str, str]:
    """(file name, JSON text) of a scenario built from an instance's history: its start data, each task it
    completed with the data it was completed with, in order, the signals and messages it received, the time that
    passed where timers fired, and the end it reached (or, running, the tasks ready now). Raises NotFound."""
    workbench.require_owner(user)
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"instance {instance_id} does not exist")
    facts = recorded_facts(bound(engine, session), instance_id)
    events = list(session.scalars(select(AuditEvent).where(
        AuditEvent.instance_id == instance_id,
        AuditEvent.action.in_(("instance.started", "task.completed", "signal.received", "message.received",
                               "timer.fired"))).order_by(AuditEvent.id)))
    submitted = {row.task_id: row for row in session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.state == "completed"))}
    # the scenario's clock moves only by its waits (a step takes no time); where timers fired before a step, it
    # waits until the moment of that step, so every timer that fired then has fallen due in the scenario too
    steps, clock, timer_at = [], instance.created_at, None
    for event in events:
        if event.action == "instance.started":
            clock = event.at
            continue
        if event.action == "timer.fired":
            timer_at = event.at
            continue
        if timer_at is not None:
            waited = period_between(clock, event.at)
            if waited:
                steps.append({"wait": waited})
                clock = event.at
            timer_at = None
        if event.action == "task.completed":
            row = submitted.get(event.task_id)
            if row is None:
                continue
            steps.append({"complete": row.bpmn_id, "data": row.submitted or {}})
        else:
            kind = event.action.split(".")[0]
            steps.append({kind: event.payload.get("name"), "payload": event.payload.get("payload") or {}})
    if timer_at is not None:
        steps.append({"wait": period_between(clock, timer_at) or "PT1S"})
    expect: dict = {"end": facts["ends"][-1] if facts["ends"] else None}
    if facts["status"] == "running":
        expect["ready"] = facts["ready"]
    elif "outcome" in facts["data"]:
        expect["data"] = {"outcome": facts["data"]["outcome"]}
    title = instance.title or facts["process"]
    doc = {"name": f"{title} (recorded from instance {instance_id})",
           "description": f"Recorded from instance {instance_id} on {utcnow():%d %b %Y}.",
           "process": facts["process"], "at": instance.created_at.isoformat(), "start": facts["start"],
           "steps": steps, "expect": expect}
    slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:60] or "scenario"
    return f"{slug}_{instance_id}{SCENARIO_SUFFIX}", json.dumps(doc, indent=1, ensure_ascii=False, default=str)
