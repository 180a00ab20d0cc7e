"""Exports for assessors and the plan: PDF (WeasyPrint), Markdown, CSV and XLSX.

`pack` gathers what an assessor reads for one relationship (the matrix with its evidence: completed tasks,
evidence files with their checksums, register entries the tasks fed; the gap analysis; the latest plan; the
register summaries; the evidence index), obeying the same rules as the pages: our own organisation only.
The renderers turn it into files; they never touch the request (no Flask here), and the printable HTML is
drawn from app/templates/compliance/print_*.html by a Jinja environment of its own that fetches nothing.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import services as access
from ..audit.services import record
from ..auth.models import RelationshipProfile, User
from ..errors import BadRequest, NotFound, Unavailable
from ..evidence.models import EvidenceFile
from ..management import services as management
from ..processes.models import HumanTask, ProcessInstance
from ..registers import services as registers
from ..registers.heatmap import svg as heatmap_svg
from ..registers.kinds import ISSUES, REGISTERS
from ..registers.models import RegisterChange, RegisterEntry
from ..requirements import ORGANISATION, RELATIONSHIP
from ..stages import STAGES
from . import rmp
from . import services as compliance

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
SUMMARY_LIMIT = 300
_TASK_SOURCE = re.compile(r"^task (\d+):")


# ---- what the pages and exports show ---------------------------------------------------------------------------

@dataclass(frozen=True)
class FileInfo:
    id: int
    filename: str
    size: int
    sha256: str
    uploaded_by: str | None
    uploaded_at: datetime
    human_task_id: int | None
    task_name: str | None
    version: int
    superseded: bool


@dataclass(frozen=True)
class LinkedEntry:
    register: str  # its URL name
    title: str  # the register's title
    name: str  # what names the entry
    entry_id: int


@dataclass
class PackRow:
    requirement: compliance.Requirement
    status: str
    evidence: list[compliance.Evidence]
    open_tasks: list[str]
    files: dict[int, list[FileInfo]] = field(default_factory=dict)  # evidence task id -> files attached
    entries: dict[int, list[LinkedEntry]] = field(default_factory=dict)  # evidence task id -> register entries

    @property
    def stage_number(self) -> int:
        """1-8 for a stage; 0 for the management system's clauses and the exit-trigger decision."""
        stage = self.requirement.stage
        return int(stage[1:]) if stage.startswith("S") and stage[1:].isdigit() else 0


@dataclass
class RegisterSummary:
    name: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[dict]
    flags: list[list[str]]
    heat_map: str | None = None  # inline SVG for the risk register
    totals: dict[str, float] | None = None  # the value register


@dataclass
class Pack:
    relationship_id: int
    title: str
    partner: str | None
    status: str
    generated_at: datetime
    generated_by: str
    rows: list[PackRow]
    summary: dict[str, int]
    gaps: dict[str, list[PackRow]]
    files: list[FileInfo]
    plan: rmp.RmpVersion | None = None
    registers: list[RegisterSummary] = field(default_factory=list)

    def stages(self) -> list[str]:
        return list(dict.fromkeys(f"{r.requirement.stage} {r.requirement.stage_name}" for r in self.rows))


def pack(session: Session, user: User, relationship_id: int, *, now: datetime, full: bool = True,
         levels: tuple[str, ...] = (ORGANISATION, RELATIONSHIP)) -> Pack:
    """The assessor pack of a relationship on both levels, the organisation's management system and the
    relationship's own requirements (`levels` narrows it; with `full`: also the latest plan and the register
    summaries). Our own organisation only: Forbidden for partner users, NotFound when it does not exist."""
    relationship = compliance.relationship_for(session, user, relationship_id, "the assessor pack")
    # both levels: the organisation's management system (the requirements done once for every relationship)
    # and the relationship's own
    organisation = management.management_system(session)
    parts = [(root_id, scope) for root_id, scope in (
        ([(organisation.id, ORGANISATION)] if organisation is not None else []) + [(relationship_id, RELATIONSHIP)])
        if scope in levels]
    rows, matrix, files = [], [], []
    for root_id, scope in parts:
        found = compliance.matrix(session, root_id, now=now, scope=scope)
        registers.sync(session, root_id, now=now)  # entries fed by tasks not taken in yet
        root_files = _files(session, root_id)
        by_task: dict[int, list[FileInfo]] = {}
        for info in root_files:
            if info.human_task_id and not info.superseded:
                by_task.setdefault(info.human_task_id, []).append(info)
        entries = _entries_by_task(session, root_id)
        for row in found:
            ids = [e.human_task_id for e in row.evidence]
            rows.append(PackRow(row.requirement, row.status, row.evidence, row.open_tasks,
                                {i: by_task[i] for i in ids if i in by_task},
                                {i: entries[i] for i in ids if i in entries}))
        matrix += found
        files += root_files
    gaps: dict[str, list[PackRow]] = {}
    for row in rows:
        if row.status != "evidenced":
            gaps.setdefault(f"{row.requirement.stage} {row.requirement.stage_name}", []).append(row)
    partner = ", ".join(access.partner_names(session, [relationship_id]).get(relationship_id, [])) or \
        session.scalar(select(RelationshipProfile.partner_name).where(RelationshipProfile.instance_id == relationship_id))
    result = Pack(relationship_id, relationship.title or f"Relationship {relationship_id}", partner,
                  relationship.status, now, user.display_name, rows, compliance.summary(matrix), gaps, files)
    if full:
        plans = rmp.versions(session, relationship_id, viewer=user)
        result.plan = plans[-1] if plans else None
        result.registers = register_summaries(session, user, relationship_id, now=now)
    return result


def _files(session: Session, relationship_id: int) -> list[FileInfo]:
    """Every evidence file of the relationship (superseded versions too), oldest first."""
    rows = session.execute(
        select(EvidenceFile.id, EvidenceFile.filename, EvidenceFile.size, EvidenceFile.sha256,
               EvidenceFile.uploaded_at, EvidenceFile.human_task_id, EvidenceFile.version,
               EvidenceFile.superseded_at, User.display_name, HumanTask.name)
        .outerjoin(User, User.id == EvidenceFile.uploaded_by_id)
        .outerjoin(HumanTask, HumanTask.id == EvidenceFile.human_task_id)
        .where(EvidenceFile.relationship_id == relationship_id)
        .order_by(EvidenceFile.uploaded_at, EvidenceFile.id)).all()
    return [FileInfo(r.id, r.filename, r.size, r.sha256, r.display_name, r.uploaded_at, r.human_task_id, r.name,
                     r.version or 1, r.superseded_at is not None) for r in rows]


def _entries_by_task(session: Session, relationship_id: int) -> dict[int, list[LinkedEntry]]:
    """Register entries by the completed task that created or changed them (read from their history)."""
    found: dict[int, list[LinkedEntry]] = {}
    seen = set()
    rows = session.execute(
        select(RegisterChange.source, RegisterEntry.id, RegisterEntry.register, RegisterEntry.data)
        .join(RegisterEntry, RegisterEntry.id == RegisterChange.entry_id)
        .where(RegisterEntry.relationship_id == relationship_id, RegisterEntry.removed.is_(False),
               RegisterChange.source.like("task %"))
        .order_by(RegisterChange.id))
    for source, entry_id, name, data in rows:
        match = _TASK_SOURCE.match(source or "")
        register = REGISTERS.get(name)
        if not match or register is None or (int(match.group(1)), entry_id) in seen:
            continue
        seen.add((int(match.group(1)), entry_id))
        found.setdefault(int(match.group(1)), []).append(
            LinkedEntry(name, register.title, register.name_of(data or {}) or f"entry {entry_id}", entry_id))
    return found


def register_summaries(session: Session, user: User, relationship_id: int, *, now: datetime) -> list[RegisterSummary]:
    result = []
    for register in REGISTERS.values():
        if register is ISSUES:
            issues = registers.issue_log(session, user, relationship_id)
            rows = [{"title": i.title, "raised_at": _when(i.raised_at), "raised_by": i.raised_by or "",
                     "status": i.status, "level": i.level or "", "outcome": i.outcome or ""} for i in issues]
            columns = [("title", "Issue"), ("raised_at", "Raised"), ("raised_by", "By"), ("status", "Status"),
                       ("level", "Level"), ("outcome", "Outcome")]
            result.append(RegisterSummary(register.name, register.title, columns, rows, [[] for _ in rows]))
            continue
        views = registers.entries(session, user, relationship_id, register.name, now=now)
        summary = RegisterSummary(register.name, register.title, register.columns,
                                  [{k: _text(v.data.get(k)) for k, _t in register.columns} for v in views],
                                  [v.flags for v in views])
        if register.name == "risks":
            summary.heat_map = str(heatmap_svg(registers.heat_map(views)))
        if register.name == "value":
            summary.totals = registers.value_totals(views)
        result.append(summary)
    return result


def record_export(session: Session, user: User, relationship_id: int, what: str, fmt: str, name: str, *,
                  now: datetime, details: dict | None = None) -> None:
    """Every export is an audit event (assessors ask who took what out, and when). Commits."""
    record(session, f"export.{what}", actor=user, instance_id=relationship_id, at=now,
           payload={"format": fmt, "filename": name, **(details or {})})
    session.commit()


# ---- text helpers --------------------------------------------------------------------------------------------

def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%d %b %Y, %H:%M UTC").lstrip("0") if value else ""


def _date(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%d %b %Y").lstrip("0") if value else ""


def summarise(submitted: dict, limit: int = SUMMARY_LIMIT) -> str:
    """What a task submitted, in one line: 'field: value; list: 2 items; ...' (decisions and texts first)."""
    parts = []
    for key, value in (submitted or {}).items():
        if value in (None, "", [], {}):
            continue
        label = key.replace("_", " ")
        if isinstance(value, list):
            text = f"{len(value)} item{'s' if len(value) != 1 else ''}" if any(isinstance(v, dict) for v in value) \
                else ", ".join(_text(v) for v in value)
        elif isinstance(value, dict):
            text = f"{len(value)} field{'s' if len(value) != 1 else ''}"
        else:
            text = " ".join(_text(value).split())
            text = text if len(text) <= 80 else text[:79] + "…"
        parts.append(f"{label}: {text}")
    line = "; ".join(parts)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def filename(title: str, what: str, extension: str, *, at: datetime | None = None) -> str:
    """`ACME-joint-bid-assessor-pack-2026-01-31.pdf`: the relationship's name, ASCII only, safe in a header."""
    ascii_title = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_title).strip("-")[:80] or "relationship"
    stamp = f"-{at:%Y-%m-%d}" if at else ""
    return f"{slug}-{what}{stamp}.{extension}"


# ---- printable HTML and PDF ----------------------------------------------------------------------------------

_environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(("html",)),
                           trim_blocks=True, lstrip_blocks=True)
def _css_string(value) -> Markup:
    """Text safe inside a double-quoted CSS string of a <style> element (the page footer)."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ").replace("\n", " ")
    return Markup(text)


_environment.filters.update(when=_when, when_date=_date, summarise=summarise, css_string=_css_string)


def render_html(template: str, **context) -> str:
    return _environment.get_template(template).render(stages=STAGES, **context)


def pdf(html: str) -> bytes:
    """The HTML printed by WeasyPrint; it may fetch nothing (no files, no network): everything is inline.
    Raises Unavailable when the machine lacks Pango, which WeasyPrint draws text with."""
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
    except OSError as exc:
        raise Unavailable("PDF export needs the Pango library on the server (Debian/Ubuntu: apt-get install "
                          "libpango-1.0-0 libpangoft2-1.0-0); Markdown, CSV and XLSX exports work without it",
                          {"pdf": str(exc)[:200]}) from None
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()


def rmp_html(version: rmp.RmpVersion, title: str, *, generated_at: datetime) -> str:
    return render_html("compliance/print_rmp.html", version=version, title=title, generated_at=generated_at)


def rmp_pdf(version: rmp.RmpVersion, title: str, *, generated_at: datetime) -> bytes:
    return pdf(rmp_html(version, title, generated_at=generated_at))


def rmp_markdown(version: rmp.RmpVersion, title: str) -> str:
    return rmp.to_markdown(version, title)


def pack_html(found: Pack) -> str:
    return render_html("compliance/print_pack.html", pack=found)


def pack_pdf(found: Pack) -> bytes:
    return pdf(pack_html(found))


# ---- CSV and XLSX --------------------------------------------------------------------------------------------

EVIDENCE_COLUMNS = ("requirement", "stage", "stage_name", "kind", "role", "text", "status", "evidence_task",
                    "task_id", "completed_by", "completed_at", "submitted", "files", "register_entries",
                    "open_tasks", "scope")


def evidence_rows(found: Pack) -> list[dict]:
    """One row per requirement x evidence (a requirement without evidence: one row with the evidence empty)."""
    result = []
    for row in found.rows:
        r = row.requirement
        base = {"requirement": r.id, "stage": r.stage, "stage_name": r.stage_name, "kind": r.kind, "role": r.role,
                "text": r.text, "status": row.status, "open_tasks": "; ".join(row.open_tasks), "scope": r.scope}
        if not row.evidence:
            result.append({**base, "evidence_task": "", "task_id": "", "completed_by": "", "completed_at": "",
                           "submitted": "", "files": "", "register_entries": ""})
        for e in row.evidence:
            result.append({**base, "evidence_task": e.name, "task_id": e.human_task_id,
                           "completed_by": e.completed_by or "",
                           "completed_at": e.completed_at.astimezone(UTC).isoformat() if e.completed_at else "",
                           "submitted": summarise(e.submitted),
                           "files": "; ".join(f"{f.filename} (sha256 {f.sha256})"
                                              for f in row.files.get(e.human_task_id, [])),
                           "register_entries": "; ".join(f"{x.title}: {x.name}"
                                                         for x in row.entries.get(e.human_task_id, []))})
    return result


def _safe_cell(value):
    """Spreadsheet programs run a cell that starts with = + - @ as a formula: keep such text as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def pack_csv(found: Pack) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EVIDENCE_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in evidence_rows(found):
        writer.writerow({k: _safe_cell(v) for k, v in row.items()})
    return out.getvalue()


def pack_xlsx(found: Pack) -> bytes:
    """Sheets Matrix (one row per requirement), Evidence (requirement x evidence), Gaps, Registers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    matrix = book.active
    matrix.title = "Matrix"
    _sheet(matrix, ("Requirement", "Stage", "Stage name", "Kind", "Role", "Requirement text", "Status",
                    "Evidence (tasks)", "Latest evidence", "Files", "Scope"),
           [(row.requirement.id, row.requirement.stage, row.requirement.stage_name, row.requirement.kind,
             row.requirement.role, row.requirement.text, row.status, len(row.evidence),
             _when(max((e.completed_at for e in row.evidence), default=None)),
             sum(len(v) for v in row.files.values()), row.requirement.scope) for row in found.rows])
    evidence = book.create_sheet("Evidence")
    _sheet(evidence, EVIDENCE_COLUMNS, [tuple(r[c] for c in EVIDENCE_COLUMNS) for r in evidence_rows(found)])
    gaps = book.create_sheet("Gaps")
    _sheet(gaps, ("Stage", "Requirement", "Requirement text", "Status", "Open tasks"),
           [(stage, row.requirement.id, row.requirement.text, row.status, "; ".join(row.open_tasks))
            for stage, rows in found.gaps.items() for row in rows])
    sheet = book.create_sheet("Registers")
    sheet.append(("Register", "Entry", "Details", "Flags"))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for register in found.registers:
        if not register.rows:
            sheet.append((register.title, "", "no entries", ""))
        for data, flags in zip(register.rows, register.flags, strict=True):
            first, *rest = register.columns
            sheet.append(tuple(_safe_cell(v) for v in (
                register.title, data.get(first[0], ""),
                "; ".join(f"{title}: {data[k]}" for k, title in rest if data.get(k)), ", ".join(flags))))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet(sheet, header, rows) -> None:
    from openpyxl.styles import Font
    sheet.append(tuple(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(tuple(_safe_cell(v) for v in row))
    sheet.freeze_panes = "A2"


# ---- one place that makes a download (pages and the API call these) ---------------------------------------

# whole Content-Type values, charset included: responses send them as `content_type=` (as `mimetype=`,
# werkzeug would append a second charset to the text types)
MIMETYPES = {"pdf": "application/pdf", "md": "text/markdown; charset=utf-8", "csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass(frozen=True)
class Download:
    content: bytes
    mimetype: str
    filename: str


def plan_download(session: Session, user: User, relationship_id: int, number: int, fmt: str, *,
                  now: datetime) -> Download:
    """One RMP version as PDF or Markdown, as `user` may read it; recorded. Raises NotFound, BadRequest."""
    if fmt not in ("pdf", "md"):
        raise BadRequest("the plan exports as pdf or md", {"format": "pdf or md"})
    found = next((v for v in rmp.versions(session, relationship_id, viewer=user) if v.number == number), None)
    if found is None:
        raise NotFound(f"the plan of relationship {relationship_id} has no version {number} you may read")
    instance = session.get(ProcessInstance, relationship_id)
    title = (instance.title if instance else None) or f"Relationship {relationship_id}"
    name = filename(title, f"{found.kind}-v{found.number}", fmt)
    content = rmp_pdf(found, title, generated_at=now) if fmt == "pdf" else rmp_markdown(found, title).encode()
    record_export(session, user, relationship_id, "rmp", fmt, name, now=now,
                  details={"version": found.number, "kind": found.kind})
    return Download(content, MIMETYPES[fmt], name)


def pack_download(session: Session, user: User, relationship_id: int, fmt: str, *, now: datetime) -> Download:
    """The assessor pack as PDF, CSV or XLSX (our own organisation only); recorded."""
    if fmt not in ("pdf", "csv", "xlsx"):
        raise BadRequest("the assessor pack exports as pdf, csv or xlsx", {"format": "pdf, csv or xlsx"})
    found = pack(session, user, relationship_id, now=now, full=fmt != "csv")
    name = filename(found.title, "assessor-pack", fmt, at=now)
    content = {"pdf": pack_pdf, "csv": pack_csv, "xlsx": pack_xlsx}[fmt](found)
    record_export(session, user, relationship_id, "assessor_pack", fmt, name, now=now,
                  details={"evidenced": found.summary["evidenced"], "requirements": len(found.rows)})
    return Download(content.encode() if isinstance(content, str) else content, MIMETYPES[fmt], name)
