"""The Relationship Management Plan, compiled from what the lifecycle collected, in controlled versions.

Every stage approved by its SER gate (from stage 5: by both organisations' SERs) is a new version of the
plan: what every task of the approved stages submitted last, section by stage, with who approved it and
when. The plan is the corporate plan (CRMP) in stages 1-3, the relationship's plan (PRMP) at stage 4 and
the joint plan (JRMP) from stage 5. Versions are derived from completed task rows, which never change,
so history cannot be rewritten.

Besides the sections, each version carries the plan's own document control (`plan`): the latest value of every
`rmp_*` field the plan tasks submitted (plan type, scope, what changed, next review...), so comparing two
versions shows the plan turning from CRMP into PRMP and JRMP.

Partner organisations see the joint plan only: JRMP versions, with the sections of stages 5-8 and their data
passed through `access.redact` (`versions(..., viewer=user)`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import services as access
from ..auth.models import User
from ..errors import NotFound
from ..evidence import services as evidence
from ..inbox.binding import evidence_values
from ..management import services as management
from ..processes.forms import form_schema
from ..processes.models import HumanTask
from ..stages import LIFECYCLE, STAGES, stage_of_process

PLAN_KIND = {1: "CRMP", 2: "CRMP", 3: "CRMP", 4: "PRMP", 5: "JRMP", 6: "JRMP", 7: "JRMP", 8: "JRMP"}
JOINT_STAGES = frozenset({5, 6, 7, 8})
PLAN_FIELD_PREFIX = "rmp_"  # the plan's own document-control fields, whichever stage's task asks for them
PLAN_TITLE = "Plan document"


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
    plan: Entry | None = None  # the plan's document control: the latest value of every rmp_* field
    summary: list[Entry] = field(default_factory=list)  # the parts an RMP carries, from the latest answers
    builds_on: RmpVersion | None = None  # a relationship's plan: the organisation's CRMP version it builds on
    partners: list[str] = field(default_factory=list)  # the relationship's partner organisations, the lead first

    @property
    def label(self) -> str:
        return f"{self.kind} version {self.number}"

    def section(self, stage: int) -> Section | None:
        return next((s for s in self.sections if s.stage == stage), None)


def versions(session: Session, relationship_id: int, *, viewer: User | None = None) -> list[RmpVersion]:
    """Every controlled version of the relationship's plan, oldest first.

    With `viewer`, the plan as that user may see it (NotFound when they may not see the relationship): a
    partner organisation's user gets the JRMP versions only, each with the sections of stages 5-8 only and
    their data redacted; the summary of changes is then worked out on what they see."""
    relationship = access.relationship_or_404(session, relationship_id)
    if viewer is not None:
        access.require_relationship(session, viewer, relationship_id)
    partner = viewer is not None and not access.sees_everything(viewer)
    nda = partner and access.confidentiality_agreed(session, relationship_id)

    def read(task: HumanTask) -> dict:
        data = task.submitted or {}
        return access.redact(data, viewer, nda=nda) if viewer is not None else data

    rows = session.execute(
        select(HumanTask, User.display_name).outerjoin(User, User.id == HumanTask.completed_by_id)
        .where(HumanTask.instance_id == relationship_id, HumanTask.state == "completed")
        .order_by(HumanTask.completed_at, HumanTask.id)).all()
    result: list[RmpVersion] = []
    work: list[tuple[HumanTask, str | None]] = []
    pending: dict[int, list[tuple[HumanTask, str | None]]] = {}
    titles = _Titles(session, relationship.version_id)
    titles.know_files([task for task, _who in rows])
    # a plan has a section for each stage this root worked (a relationship: 2, 4-8; the organisation: 1 and 3)
    worked = {stage_of_process(task.process_id) for task, _who in rows} - {None}
    shown = (JOINT_STAGES & worked) if partner else worked
    for task, who in rows:
        stage = stage_of_process(task.process_id)
        if not task.approval_gate:
            work.append((task, who))
            continue
        decision = _decision(task)
        pending.setdefault(stage, []).append((task, who))
        if decision not in APPROVED:
            pending[stage] = []
            continue
        needed = 2 if stage and stage >= 5 else 1
        approvals = [(t, w) for t, w in pending[stage] if _decision(t) in APPROVED]
        if len(approvals) < needed:
            continue
        pending[stage] = []
        kind = PLAN_KIND.get(stage, "JRMP")
        number = len(result) + 1
        result.append(RmpVersion(number, kind, stage, task.completed_at,
                                 [name for t, w in approvals for name in _approvers(t, w)],
                                 _sections(titles, work, upto=stage, shown=shown, read=read),
                                 plan=_plan(titles, work, upto=stage, shown=shown, read=read),
                                 summary=_summary(titles, work, upto=stage, shown=shown, read=read)))
    if partner:
        result = [v for v in result if v.kind == "JRMP"]
    for index, version in enumerate(result):
        if index:
            version.changes = changes(result[index - 1], version)
        elif partner:
            version.changes = changes(RmpVersion(0, "JRMP", 0, version.approved_at, [], []), version)
        else:
            version.changes = ["first version of the plan"]
    if not partner and relationship.process_id == LIFECYCLE:
        _cite_the_organisations_plan(session, result)
    partners = access.partner_names(session, [relationship_id]).get(relationship_id, [])
    for version in result:
        version.partners = partners
    return result


def _approvers(task: HumanTask, who: str | None) -> list[str]:
    """Who approved with this gate decision: its SER, or, for a joint gate several partner organisations decided
    (`app.inbox.partner_decisions`), each one's SER with their organisation."""
    decided = ((task.submitted or {}).get("partner_decisions") or {}).get(task.task_id)
    if isinstance(decided, list) and decided:
        return [f"{d.get('decided_by') or '?'} ({d.get('organisation')})" for d in decided if isinstance(d, dict)]
    return [who or "?"]


def _cite_the_organisations_plan(session: Session, result: list[RmpVersion]) -> None:
    """Each version of a relationship's plan builds on the organisation's CRMP (the management system's own
    controlled versions, one per approved organisation gate) as it stood when the version was approved."""
    organisation = management.management_system(session)
    if organisation is None or not result:
        return
    corporate = versions(session, organisation.id)
    for version in result:
        version.builds_on = next((c for c in reversed(corporate) if c.approved_at <= version.approved_at), None)


def version(session: Session, relationship_id: int, number: int, *, viewer: User | None = None) -> RmpVersion:
    """One version by its number, as `viewer` may see it. Raises NotFound."""
    found = next((v for v in versions(session, relationship_id, viewer=viewer) if v.number == number), None)
    if found is None:
        raise NotFound(f"the plan of relationship {relationship_id} has no version {number}")
    return found


# Stage 7's gate accepts the cycle's work whichever way it goes on: both SERs run another management cycle (the
# plan updated in this cycle is the plan they run it on) or move to exit.
APPROVED = {"approve", "exit", "another_cycle"}


def _decision(task: HumanTask):
    submitted = task.submitted or {}
    return submitted.get("decision", submitted.get("partner_decision"))


class _Titles:
    """Field titles from each task's form schema, read once per form."""

    def __init__(self, session: Session, version_id: int):
        self.session, self.version_id, self.cache, self.schemas = session, version_id, {}, {}
        self.files: dict[str, str] = {}  # evidence id -> how people name the document

    def schema(self, form_key: str | None) -> dict:
        if form_key not in self.schemas:
            self.schemas[form_key] = (form_schema(self.session, self.version_id, form_key) or {}) if form_key else {}
        return self.schemas[form_key]

    def __call__(self, form_key: str | None) -> dict[str, str]:
        if form_key not in self.cache:
            self.cache[form_key] = {k: v.get("title", k) for k, v in
                                    (self.schema(form_key).get("properties") or {}).items()}
        return self.cache[form_key]

    def know_files(self, tasks) -> None:
        """Name the evidence the tasks cite (file name and version) instead of showing its id."""
        cited = [i for t in tasks for i in evidence_values(self.schema(t.form_key), t.submitted or {})]
        self.files.update({key: f"{f.filename} (version {f.version})"
                           for key, f in evidence.by_ids(self.session, cited).items()})

    def text(self, form_key: str | None, key: str, value) -> str:
        prop = (self.schema(form_key).get("properties") or {}).get(key) or {}
        return _text(value, prop, self.files)


def _latest(work, upto: int, shown) -> list[HumanTask]:
    """The last submission of each task of stages up to `upto` (what the plan says), oldest first."""
    latest: dict[str, HumanTask] = {}
    for task, _who in work:
        stage = stage_of_process(task.process_id)
        if stage and stage <= upto and (shown is None or stage in shown):
            latest[task.bpmn_id] = task
    return sorted(latest.values(), key=lambda t: (t.completed_at, t.id))


def _submitted(task: HumanTask) -> dict:
    return task.submitted or {}


def _sections(titles: _Titles, work, *, upto: int, shown=None, read=_submitted) -> list[Section]:
    sections = {s.number: Section(s.number, f"Stage {s.number}: {s.name}") for s in STAGES
                if s.number <= upto and (shown is None or s.number in shown)}
    for task in _latest(work, upto, shown):
        names = titles(task.form_key)
        fields = tuple((names.get(k, k), titles.text(task.form_key, k, v)) for k, v in read(task).items()
                       if v not in (None, "", []))
        sections[stage_of_process(task.process_id)].entries.append(Entry(task.name, fields))
    return [sections[n] for n in sorted(sections)]


def _plan(titles: _Titles, work, *, upto: int, shown=None, read=_submitted) -> Entry | None:
    """The plan's document control: the latest value of every rmp_* field up to this stage."""
    values: dict[str, tuple[str, str]] = {}
    for task in _latest(work, upto, shown):
        names = titles(task.form_key)
        for key, value in read(task).items():
            if key.startswith(PLAN_FIELD_PREFIX) and value not in (None, "", []):
                values[key] = (names.get(key, key), titles.text(task.form_key, key, value))
    return Entry(PLAN_TITLE, tuple(values.values())) if values else None


# The parts a Relationship Management Plan carries besides its stage sections, and the form fields (of any
# stage) that say them; a later stage's answer to the same field supersedes an earlier one.
SUMMARY_PARTS = (
    ("Background", ("opportunity_name", "opportunity_description", "strategy", "business_case", "market_analysis",
                    "selected_partner", "selection_rationale")),
    ("Objectives and roles", ("business_objectives", "relationship_objectives", "collaboration_benefits",
                              "joint_objectives", "ser_name", "partner_ser_name", "key_roles", "roles",
                              "joint_leaders", "jmt_members")),
    ("Governance", ("core_principles", "governance_model", "org_structure", "contracting_arrangements",
                    "issue_process", "l1_limit", "l2_limit", "l3_limit")),
    ("Joint measures", ("performance_measures", "monitoring_arrangements", "audit_programme", "value_monitoring")),
    ("Risk", ("risk_benefit_summary", "joint_risk_process", "risks")),
    ("Value", ("value_meaning_ours", "value_meaning_partner", "value_process", "value_register")),
    ("Knowledge sharing", ("knowledge_process", "sharing_guidelines", "joint_knowledge_plan",
                           "communications_plan")),
    ("Exit strategy", ("exit_strategy", "exit_triggers", "ending_terms", "post_exit_boundaries",
                       "continuity_plan")),
)


def _summary(titles: _Titles, work, *, upto: int, shown=None, read=_submitted) -> list[Entry]:
    """The RMP's summary parts (background, objectives and roles, governance, joint measures, risk, value,
    knowledge sharing, exit strategy), each from the latest answer to its fields up to this stage."""
    latest: dict[str, tuple[str, str]] = {}
    for task in _latest(work, upto, shown):
        names = titles(task.form_key)
        for key, value in read(task).items():
            if value not in (None, "", []):
                latest[key] = (names.get(key, key), titles.text(task.form_key, key, value))
    parts = [Entry(part, tuple(latest[k] for k in keys if k in latest)) for part, keys in SUMMARY_PARTS]
    return [p for p in parts if p.fields]


def _text(value, schema: dict | None = None, files: dict[str, str] | None = None) -> str:
    """A submitted value as people read it: documents by name, lists and rows with their columns' titles, never
    an evidence id or JSON."""
    schema, files = schema or {}, files or {}
    if isinstance(value, bool):
        return "yes" if value else "no"
    if schema.get("format") == "evidence" and isinstance(value, str):
        return files.get(value, f"document {value}")
    if isinstance(value, list):
        item = schema.get("items") or {}
        joiner = "; " if any(isinstance(v, dict) for v in value) else ", "
        return joiner.join(_text(v, item, files) for v in value if v not in (None, "", []))
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        order = [k for k in props if k in value] + [k for k in value if k not in props]  # the form's order: JSONB
        return ", ".join(f"{(props.get(k) or {}).get('title', k.replace('_', ' '))}: {_text(value[k], props.get(k), files)}"
                         for k in order if value[k] not in (None, "", []))  # (PostgreSQL) sorts an object's keys
    return str(value)


@dataclass(frozen=True)
class FieldChange:
    title: str
    status: str  # added / removed / changed / same
    old: str | None
    new: str | None


@dataclass
class EntryChange:
    task: str
    status: str  # added / removed / changed / same
    fields: list[FieldChange]


@dataclass
class SectionChange:
    stage: int  # 0: the plan's document control
    title: str
    status: str  # added / removed / changed / same
    entries: list[EntryChange]


def _all_sections(version: RmpVersion) -> list[Section]:
    plan = [Section(0, PLAN_TITLE, [version.plan])] if version.plan else []
    return plan + list(version.sections)


def compare(before: RmpVersion, after: RmpVersion) -> list[SectionChange]:
    """What changed from `before` to `after`, section by section (the plan's document control first): entries
    and fields added, removed or changed, with old and new values."""
    old_sections = {s.stage: s for s in _all_sections(before)}
    new_sections = {s.stage: s for s in _all_sections(after)}
    result = []
    for stage in sorted(old_sections.keys() | new_sections.keys()):
        old, new = old_sections.get(stage), new_sections.get(stage)
        old_entries = {e.task: dict(e.fields) for e in (old.entries if old else [])}
        new_entries = {e.task: dict(e.fields) for e in (new.entries if new else [])}
        entries = []
        for task in [*new_entries, *(t for t in old_entries if t not in new_entries)]:
            before_fields, after_fields = old_entries.get(task), new_entries.get(task)
            fields = []
            for title in [*(after_fields or {}), *(t for t in (before_fields or {}) if t not in (after_fields or {}))]:
                a, b = (before_fields or {}).get(title), (after_fields or {}).get(title)
                status = "same" if a == b else "added" if a is None else "removed" if b is None else "changed"
                fields.append(FieldChange(title, status, a, b))
            if before_fields is None:
                status = "added"
            elif after_fields is None:
                status = "removed"
            else:
                status = "changed" if any(f.status != "same" for f in fields) else "same"
            entries.append(EntryChange(task, status, fields))
        status = "added" if old is None else "removed" if new is None else (
            "changed" if any(e.status != "same" for e in entries) else "same")
        result.append(SectionChange(stage, (new or old).title, status, entries))
    return result


def changes(before: RmpVersion, after: RmpVersion) -> list[str]:
    """What changed, section by section, in one line each: entries added or removed, fields changed."""
    summary = []
    for section in compare(before, after):
        for entry in section.entries:
            if entry.status in ("added", "removed"):
                summary.append(f"{PLAN_TITLE} {entry.status}" if section.stage == 0
                               else f"{section.title}: {entry.status} {entry.task}")
            elif entry.status == "changed":
                changed = [f.title for f in entry.fields if f.status != "same"]
                if section.stage == 0:
                    changed = [f"{f.title}: {f.old} → {f.new}" if f.status == "changed" else f.title
                               for f in entry.fields if f.status != "same"]
                    summary.append(f"{section.title} changed ({'; '.join(changed)})")
                else:
                    summary.append(f"{section.title}: {entry.task} changed ({', '.join(changed)})")
    return summary or ["no content changed"]


def to_markdown(version: RmpVersion, title: str) -> str:
    lines = [f"# {version.kind} — {title}", "",
             f"Version {version.number}, approved at stage {version.stage} on "
             f"{version.approved_at:%d %B %Y} by {', '.join(version.approvers)}.", "",
             *([f"Partner organisations: {', '.join(version.partners)}.", ""] if version.partners else []),
             "Changes in this version:", *[f"- {c}" for c in version.changes], ""]
    if version.plan:
        lines += [f"## {PLAN_TITLE}", ""] + [f"- **{name}**: {value}" for name, value in version.plan.fields] + [""]
    if version.summary:
        lines += ["## Summary", ""]
        for part in version.summary:
            lines += [f"### {part.task}", ""] + [f"- **{name}**: {value}" for name, value in part.fields] + [""]
    for section in version.sections:
        lines += [f"## {section.title}", ""]
        for entry in section.entries:
            lines += [f"### {entry.task}", ""]
            lines += [f"- **{name}**: {value}" for name, value in entry.fields] + [""]
    return "\n".join(lines)


__all__ = ["RmpVersion", "changes", "compare", "to_markdown", "version", "versions"]
