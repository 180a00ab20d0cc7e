"""The Relationship Management Plan, compiled from what the lifecycle collected, in controlled versions.

Every stage approved by its SER gate (from stage 5: by both organisations' SERs) is a new version of the
plan: what every task of the approved stages submitted last, section by stage, with who approved it and
when. The plan is the corporate plan (CRMP) in stages 1-3, the relationship's plan (PRMP) at stage 4 and
the joint plan (JRMP) from stage 5. Versions are derived from completed task rows, which never change,
so history cannot be rewritten.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.models import User
from ..lifecycle.stages import STAGES, stage_of_process
from ..processes.forms import form_schema
from ..processes.models import HumanTask, ProcessInstance

PLAN_KIND = {1: "CRMP", 2: "CRMP", 3: "CRMP", 4: "PRMP", 5: "JRMP", 6: "JRMP", 7: "JRMP", 8: "JRMP"}


@dataclass(frozen=True)
class Entry:
    task: str
    fields: tuple[tuple[str, str], ...]  # (field title, value as text)


@dataclass
class Section:
    stage: int
    title: str
    entries: list[Entry] = field(default_factory=list)


@dataclass
class RmpVersion:
    number: int
    kind: str
    stage: int
    approved_at: datetime
    approvers: list[str]
    sections: list[Section]
    changes: list[str] = field(default_factory=list)  # summary of changes against the previous version


def versions(session: Session, relationship_id: int) -> list[RmpVersion]:
    """Every controlled version of the relationship's plan, oldest first."""
    relationship = session.get(ProcessInstance, relationship_id)
    rows = session.execute(
        select(HumanTask, User.display_name).outerjoin(User, User.id == HumanTask.completed_by_id)
        .where(HumanTask.instance_id == relationship_id, HumanTask.state == "completed")
        .order_by(HumanTask.completed_at, HumanTask.id)).all()
    result: list[RmpVersion] = []
    work: list[tuple[HumanTask, str | None]] = []
    pending: dict[int, list[tuple[HumanTask, str | None]]] = {}
    for task, who in rows:
        stage = stage_of_process(task.process_id)
        if not task.approval_gate:
            work.append((task, who))
            continue
        decision = (task.submitted or {}).get("decision", (task.submitted or {}).get("partner_decision"))
        pending.setdefault(stage, []).append((task, who))
        if decision != "approve":
            pending[stage] = []
            continue
        needed = 2 if stage and stage >= 5 else 1
        approvals = [(t, w) for t, w in pending[stage]
                     if (t.submitted or {}).get("decision", (t.submitted or {}).get("partner_decision")) == "approve"]
        if len(approvals) < needed:
            continue
        pending[stage] = []
        sections = _sections(session, relationship.version_id, work, upto=stage)
        version = RmpVersion(len(result) + 1, PLAN_KIND.get(stage, "JRMP"), stage, task.completed_at,
                             [w or "?" for _t, w in approvals], sections)
        version.changes = changes(result[-1], version) if result else ["first version of the plan"]
        result.append(version)
    return result


def _sections(session, version_id, work, upto: int) -> list[Section]:
    latest: dict[str, HumanTask] = {}
    for task, _who in work:
        stage = stage_of_process(task.process_id)
        if stage and stage <= upto:
            latest[task.bpmn_id] = task  # the last submission of each task is what the plan says
    sections = {s.number: Section(s.number, f"Stage {s.number}: {s.name}") for s in STAGES if s.number <= upto}
    for task in sorted(latest.values(), key=lambda t: (t.completed_at, t.id)):
        schema = form_schema(session, version_id, task.form_key) or {}
        titles = {k: v.get("title", k) for k, v in (schema.get("properties") or {}).items()}
        fields = tuple((titles.get(k, k), _text(v)) for k, v in (task.submitted or {}).items() if v not in (None, "", []))
        sections[stage_of_process(task.process_id)].entries.append(Entry(task.name, fields))
    return [sections[n] for n in sorted(sections)]


def _text(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def changes(before: RmpVersion, after: RmpVersion) -> list[str]:
    """What changed, section by section: entries added, fields changed."""
    old = {(s.stage, e.task): dict(e.fields) for s in before.sections for e in s.entries}
    summary = []
    for section in after.sections:
        for entry in section.entries:
            previous = old.get((section.stage, entry.task))
            if previous is None:
                summary.append(f"{section.title}: added {entry.task}")
                continue
            changed = [title for title, value in entry.fields if previous.get(title) != value]
            if changed:
                summary.append(f"{section.title}: {entry.task} changed ({', '.join(changed)})")
    return summary or ["no content changed"]


def to_markdown(version: RmpVersion, title: str) -> str:
    lines = [f"# {version.kind} — {title}", "",
             f"Version {version.number}, approved at stage {version.stage} on "
             f"{version.approved_at:%d %B %Y} by {', '.join(version.approvers)}.", "",
             "Changes in this version:", *[f"- {c}" for c in version.changes], ""]
    for section in version.sections:
        lines += [f"## {section.title}", ""]
        for entry in section.entries:
            lines += [f"### {entry.task}", ""]
            lines += [f"- **{name}**: {value}" for name, value in entry.fields] + [""]
    return "\n".join(lines)


__all__ = ["RmpVersion", "changes", "to_markdown", "versions"]
