"""The workbench's actions: drafts, candidate file sets, validate, deploy, uploads, form checks.

Like every service, they take the session, engine, user and `now` as arguments and never read request state;
each action that writes is one transaction with its audit event. Versions, diffs, roll back and migrations
reuse `app.processes.services` and `app.processes.versioning` as they are.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime

import jsonschema
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflows import Problem, ValidationFailed, WorkflowEngine
from workflows.inspect import InspectionReport

from ..audit.services import record
from ..auth.models import User
from ..auth.permissions import Permission, require
from ..config import REQUIREMENTS_FILE
from ..db import unit_of_work, utcnow
from ..errors import BadRequest, NotFound
from ..processes.checks import deploy_checks, requirement_ids
from ..processes.models import InstanceMove, ProcessInstance, ProcessVersion, VersionFile
from ..processes.services import deploy_version, latest_version
from .models import Draft, Upload

KINDS = ("bpmn", "form")
_DIAGRAM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}\.bpmn$")
_FORM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}\.json$")
UPLOAD_SUFFIXES = (".bpmn", ".xml")


def require_owner(user: User | None) -> None:
    require(user, Permission.DEPLOY_PROCESSES, "only process owners and administrators may use the process workbench")


def check_name(kind: str, name: str) -> str:
    """A file name that is safe in a version (no paths, the right suffix). Raises BadRequest."""
    pattern = _DIAGRAM_NAME if kind == "bpmn" else _FORM_NAME if kind == "form" else None
    if pattern is None:
        raise BadRequest(f"unknown file kind {kind!r}")
    if not pattern.match(name or "") or ".." in name:
        suffix = ".bpmn" if kind == "bpmn" else ".json"
        raise BadRequest(f"{name!r} is not a file name this workbench accepts: letters, digits, '_', '-', '.', "
                         f"ending in {suffix}")
    return name


# -------------------------------------------------------------------- reading
def version_or_404(session: Session, version_id: int) -> ProcessVersion:
    version = session.get(ProcessVersion, version_id)
    if version is None:
        raise NotFound(f"version {version_id} does not exist")
    return version


def history(session: Session, limit: int = 200) -> list[ProcessVersion]:
    return list(session.scalars(select(ProcessVersion).order_by(ProcessVersion.id.desc()).limit(limit)))


def version_file(session: Session, version_id: int, kind: str, name: str) -> VersionFile:
    found = session.scalar(select(VersionFile).where(VersionFile.version_id == version_id,
                                                     VersionFile.kind == kind, VersionFile.name == name))
    if found is None:
        raise NotFound(f"version {version_id} has no {kind} file {name!r}")
    return found


def drafts(session: Session, user: User, kind: str | None = None) -> list[Draft]:
    query = select(Draft).where(Draft.user_id == user.id)
    if kind:
        query = query.where(Draft.kind == kind)
    return list(session.scalars(query.order_by(Draft.kind, Draft.name)))


def draft(session: Session, user: User, kind: str, name: str) -> Draft | None:
    return session.scalar(select(Draft).where(Draft.user_id == user.id, Draft.kind == kind, Draft.name == name))


def file_content(session: Session, user: User, kind: str, name: str, *, version_id: int | None = None,
                 use_draft: bool = True) -> tuple[bytes, str]:
    """(bytes, where from) for a file: the user's draft, else the given or latest version. Raises NotFound."""
    if version_id is None and use_draft:
        mine = draft(session, user, kind, name)
        if mine is not None:
            return mine.content, "draft"
    if version_id is None:
        latest = latest_version(session)
        if latest is None:
            raise NotFound("no version is deployed yet")
        version_id = latest.id
    return version_file(session, version_id, kind, name).content, f"version {version_id}"


def candidate(session: Session, user: User, *, replace: dict[tuple[str, str], bytes] | None = None
              ) -> tuple[dict[str, bytes], dict[str, bytes], list[str]]:
    """What a deploy would contain: the latest version's files, the user's drafts over them, then `replace`.

    Returns (diagrams, forms, names of the drafts used)."""
    latest = latest_version(session)
    files: dict[str, bytes] = {}
    forms: dict[str, bytes] = {}
    if latest is not None:
        for f in latest.files:
            (files if f.kind == "bpmn" else forms)[f.name] = f.content
    used = []
    for d in drafts(session, user):
        (files if d.kind == "bpmn" else forms)[d.name] = d.content
        used.append(f"{d.kind}:{d.name}")
    for (kind, name), content in (replace or {}).items():
        (files if kind == "bpmn" else forms)[name] = content
    return files, forms, used


def form_names(session: Session, user: User, version_id: int | None = None) -> list[str]:
    """The forms a diagram may name: the version's (latest by default) and the user's form drafts."""
    version = version_or_404(session, version_id) if version_id else latest_version(session)
    names = {f.name for f in version.files if f.kind == "form"} if version else set()
    names |= {d.name for d in drafts(session, user, "form")}
    return sorted(names)


def known_requirements(session: Session) -> list[str]:
    """The requirement ids a diagram may name (the catalogue the deploy checks against)."""
    return sorted(requirement_ids(REQUIREMENTS_FILE))


@dataclass
class Move:
    id: int
    instance_id: int
    title: str | None
    from_version_id: int
    to_version_id: int
    moved_at: datetime
    undone_at: datetime | None


def recent_moves(session: Session, limit: int = 50) -> list[Move]:
    rows = session.execute(select(InstanceMove, ProcessInstance.title).join(
        ProcessInstance, ProcessInstance.id == InstanceMove.instance_id).order_by(InstanceMove.id.desc()).limit(limit))
    return [Move(m.id, m.instance_id, title, m.from_version_id, m.to_version_id, m.moved_at, m.undone_at)
            for m, title in rows]


def running_counts(session: Session) -> dict[int, int]:
    """{version id: running instances on it}."""
    from sqlalchemy import func
    rows = session.execute(select(ProcessInstance.version_id, func.count()).where(
        ProcessInstance.status == "running").group_by(ProcessInstance.version_id))
    return {version_id: count for version_id, count in rows}


# -------------------------------------------------------------------- drafts
def save_draft(session: Session, user: User, kind: str, name: str, content: bytes, *,
               base_version_id: int | None = None, max_bytes: int | None = None,
               now: datetime | None = None) -> Draft:
    require_owner(user)
    check_name(kind, name)
    if not content:
        raise BadRequest("the draft is empty")
    if max_bytes is not None and len(content) > max_bytes:
        raise BadRequest(f"the draft is {len(content):,} bytes; the limit is {max_bytes:,}")
    now = now or utcnow()
    try:
        return _write_draft(session, user, kind, name, content, base_version_id, now)
    except IntegrityError:  # the same draft created at the same moment (two tabs): write over it
        session.rollback()
        return _write_draft(session, user, kind, name, content, base_version_id, now)


def _write_draft(session, user, kind, name, content, base_version_id, now) -> Draft:
    with unit_of_work(session):
        row = draft(session, user, kind, name)
        if row is None:
            row = Draft(user_id=user.id, kind=kind, name=name, content=content, base_version_id=base_version_id,
                        updated_at=now)
            session.add(row)
        else:
            row.content, row.updated_at = content, now
            if base_version_id is not None:
                row.base_version_id = base_version_id
        record(session, "modeler.draft_saved", actor=user, at=now,
               payload={"kind": kind, "name": name, "size": len(content), "base_version_id": base_version_id})
    return row


def discard_draft(session: Session, user: User, kind: str, name: str, *, now: datetime | None = None) -> bool:
    require_owner(user)
    now = now or utcnow()
    with unit_of_work(session):
        gone = session.execute(delete(Draft).where(Draft.user_id == user.id, Draft.kind == kind,
                                                   Draft.name == name)).rowcount
        if gone:
            record(session, "modeler.draft_discarded", actor=user, at=now, payload={"kind": kind, "name": name})
    return bool(gone)


# -------------------------------------------------------------------- validate and deploy
@dataclass
class Outcome:
    ok: bool
    problems: list[Problem] = field(default_factory=list)  # errors (refused) or warnings (accepted)
    version: ProcessVersion | None = None
    drafts_used: list[str] = field(default_factory=list)


def validate_file(session: Session, engine: WorkflowEngine, user: User, kind: str, name: str,
                  content: bytes) -> Outcome:
    """Validate the latest version with the user's drafts and this file replaced; changes nothing."""
    require_owner(user)
    check_name(kind, name)
    files, forms, used = candidate(session, user, replace={(kind, name): content})
    session.rollback()  # end the read: validation can take a while and writes nothing
    checks = deploy_checks()  # the same checks a deploy runs
    try:
        compiled = engine.validate(files, forms, extra_checks=checks)
    except ValidationFailed as failed:
        return Outcome(False, failed.problems, drafts_used=used)
    return Outcome(True, compiled.problems, drafts_used=used)


def deploy_file(session: Session, engine: WorkflowEngine, user: User, kind: str, name: str, content: bytes, *,
                message: str, now: datetime | None = None) -> Outcome:
    """Deploy the latest version's files with the user's drafts and this file replaced, as one transaction:
    the drafts that went into the version are removed with the same commit; a refusal changes nothing."""
    require_owner(user)
    check_name(kind, name)
    message = (message or "").strip()
    if not message:
        raise BadRequest("say what changed: a deploy needs a message", errors={"message": "required"})
    now = now or utcnow()
    files, forms, used = candidate(session, user, replace={(kind, name): content})
    session.execute(delete(Draft).where(Draft.user_id == user.id))  # committed by the deploy, or rolled back
    try:
        version, warnings, _created = deploy_version(session, engine, files, forms, user=user, message=message,
                                                     now=now)
    except ValidationFailed as failed:
        return Outcome(False, failed.problems, drafts_used=used)
    return Outcome(True, warnings, version, used)


# -------------------------------------------------------------------- uploads
def upload(session: Session, engine: WorkflowEngine, user: User, filename: str, content: bytes, *, max_bytes: int,
           now: datetime | None = None) -> Upload:
    """Keep a diagram from another tool byte for byte with its `inspect` verdict. Raises BadRequest."""
    require_owner(user)
    filename = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not filename:
        raise BadRequest("choose a .bpmn file to upload", errors={"file": "required"})
    if not filename.lower().endswith(UPLOAD_SUFFIXES):
        raise BadRequest(f"{filename!r} is not a BPMN file: only .bpmn and .xml files are accepted",
                         errors={"file": "wrong type"})
    if len(content) > max_bytes:
        raise BadRequest(f"{filename!r} is {len(content):,} bytes; the limit is {max_bytes:,}",
                         errors={"file": "too large"})
    if not content:
        raise BadRequest(f"{filename!r} is empty", errors={"file": "empty"})
    report = inspect_file(session, engine, user, filename, content)
    now = now or utcnow()
    row = Upload(filename=filename[:255], content=content, size=len(content),
                 sha256=hashlib.sha256(content).hexdigest(), uploaded_by_id=user.id, uploaded_at=now,
                 well_formed=report.well_formed, runnable=report.runnable, verdict=verdict(report))
    with unit_of_work(session):
        session.add(row)
        session.flush()
        record(session, "modeler.uploaded", actor=user, at=now, payload={
            "upload_id": row.id, "filename": row.filename, "size": row.size, "sha256": row.sha256,
            "well_formed": row.well_formed, "runnable": row.runnable})
    return row


def inspect_file(session: Session, engine: WorkflowEngine, user: User, filename: str,
                 content: bytes) -> InspectionReport:
    """The verdict for one file from another tool, from the checks validate and deploy run (the engine's functions,
    the deploy checks), against the forms of the latest version. Changes nothing."""
    require_owner(user)
    latest = latest_version(session)
    forms = {f.name: f.content for f in latest.files if f.kind == "form"} if latest else {}
    return engine.inspect(filename, content, forms, extra_checks=deploy_checks())


def verdict(report: InspectionReport) -> dict:
    """What the upload page shows and the API answers (besides well_formed and runnable)."""
    return {"processes": [{"process_id": p.process_id, "name": p.name, "executable": p.executable, "line": p.line}
                          for p in report.processes],
            "problems": [p.as_dict() for p in report.problems]}


def uploads(session: Session, limit: int = 200) -> list[Upload]:
    from sqlalchemy.orm import defer
    return list(session.scalars(select(Upload).options(defer(Upload.content)).order_by(Upload.id.desc())
                                .limit(limit)))


def upload_or_404(session: Session, upload_id: int) -> Upload:
    row = session.get(Upload, upload_id)
    if row is None:
        raise NotFound(f"upload {upload_id} does not exist")
    return row


# -------------------------------------------------------------------- forms
@dataclass
class FormCheck:
    schema: dict | None
    ui: dict | None
    errors: dict[str, str]  # "schema" | "ui" -> message with line and column


def check_form(schema_text: str, ui_text: str) -> FormCheck:
    """Parse a JSON Schema and a UI schema as typed: JSON errors with line/column, then check_schema."""
    errors: dict[str, str] = {}
    parsed: dict[str, dict | None] = {}
    for key, text, label in (("schema", schema_text, "JSON Schema"), ("ui", ui_text, "UI schema")):
        if key == "ui" and not (text or "").strip():
            parsed[key] = None
            continue
        try:
            value = json.loads(text or "")
        except json.JSONDecodeError as exc:
            errors[key] = f"the {label} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            parsed[key] = None
            continue
        if not isinstance(value, dict):
            errors[key] = f"the {label} must be a JSON object"
            parsed[key] = None
            continue
        parsed[key] = value
    if parsed.get("schema") is not None:
        try:
            jsonschema.validators.validator_for(parsed["schema"]).check_schema(parsed["schema"])
        except jsonschema.SchemaError as exc:
            path = "/".join(map(str, exc.absolute_path)) or "(root)"
            errors["schema"] = f"not a valid JSON Schema at {path}: {exc.message}"
        else:
            if parsed["schema"].get("type", "object") != "object":
                errors["schema"] = "a task form's schema must describe an object (\"type\": \"object\")"
    return FormCheck(parsed.get("schema") if "schema" not in errors else None, parsed.get("ui"), errors)


def form_files(base: str) -> tuple[str, str]:
    """'policy' (or 'policy.schema.json' / 'policy.uischema.json') -> the schema and UI schema file names."""
    for suffix in (".schema.json", ".uischema.json"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    check_name("form", base + ".schema.json")
    return base + ".schema.json", base + ".uischema.json"


def save_form(session: Session, user: User, base: str, schema_text: str, ui_text: str, *,
              base_version_id: int | None = None, now: datetime | None = None) -> FormCheck:
    """Check and save a form's two files into the user's drafts, as one transaction. Raises BadRequest."""
    require_owner(user)
    schema_name, ui_name = form_files(base)
    checked = check_form(schema_text, ui_text)
    if checked.errors:
        raise BadRequest("the form has errors; nothing was saved", errors=checked.errors)
    now = now or utcnow()
    with unit_of_work(session):
        for name, text in ((schema_name, schema_text), (ui_name, ui_text)):
            if name == ui_name and not (text or "").strip():
                continue
            content = text.encode()
            row = draft(session, user, "form", name)
            if row is None:
                session.add(Draft(user_id=user.id, kind="form", name=name, content=content,
                                  base_version_id=base_version_id, updated_at=now))
            else:
                row.content, row.updated_at = content, now
        record(session, "modeler.form_saved", actor=user, at=now, payload={"form": schema_name})
    return checked
