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

from workflows import CONNECTORS, Problem, ValidationFailed, WorkflowEngine, declared_decisions
from workflows.inspect import InspectionReport
from workflows.scenarios import SCENARIO_SUFFIX
from workflows.scenarios import check as scenario_gate

from ..audit.services import record
from ..auth.models import User
from ..auth.permissions import Permission, require
from ..config import REQUIREMENTS_FILE
from ..db import unit_of_work, utcnow
from ..errors import BadRequest, NotFound
from ..processes.checks import deploy_checks, requirement_ids
from ..processes.lanes import resolved
from ..processes.models import SCENARIO_KIND, InstanceMove, ProcessInstance, ProcessVersion, VersionFile
from ..processes.services import deploy_version, lane_mapping, latest_version
from ..processes.versioning import undo_blocker
from .diagrams import element_ids
from .models import Draft, Upload

KINDS = ("bpmn", "dmn", "form", "scenario")  # a diagram, a decision table, a form file, a scenario
SUFFIXES = {"bpmn": ".bpmn", "dmn": ".dmn", "form": ".json", "scenario": SCENARIO_SUFFIX}
_NAMES = {kind: re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}" + re.escape(suffix) + "$")
          for kind, suffix in SUFFIXES.items()}
UPLOAD_SUFFIXES = (".bpmn", ".xml")


def require_owner(user: User | None) -> None:
    require(user, Permission.DEPLOY_PROCESSES, "only process owners and administrators may use the process workbench")


def check_name(kind: str, name: str) -> str:
    """A file name that is safe in a version (no paths, the right suffix). Raises BadRequest."""
    pattern = _NAMES.get(kind)
    if pattern is None:
        raise BadRequest(f"unknown file kind {kind!r}")
    if not pattern.match(name or "") or ".." in name:
        raise BadRequest(f"{name!r} is not a file name this workbench accepts: letters, digits, '_', '-', '.', "
                         f"ending in {SUFFIXES[kind]}")
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
            if f.kind != SCENARIO_KIND:
                (forms if f.kind == "form" else files)[f.name] = f.content
    used = []
    for d in drafts(session, user):
        used.append(f"{d.kind}:{d.name}")
        if d.kind != SCENARIO_KIND:
            (forms if d.kind == "form" else files)[d.name] = d.content
    for (kind, name), content in (replace or {}).items():
        if kind != SCENARIO_KIND:
            (forms if kind == "form" else files)[name] = content
    return files, forms, used


def candidate_scenarios(session: Session, user: User, *, replace: dict[tuple[str, str], bytes] | None = None
                        ) -> dict[str, bytes]:
    """The scenarios a deploy would run and keep: the latest version's, the user's scenario drafts over them, then
    `replace` (as `candidate` does for diagrams and forms)."""
    latest = latest_version(session)
    found = latest.scenario_files() if latest is not None else {}
    found.update({d.name: d.content for d in drafts(session, user, SCENARIO_KIND)})
    found.update({name: content for (kind, name), content in (replace or {}).items() if kind == SCENARIO_KIND})
    return found


def form_names(session: Session, user: User, version_id: int | None = None) -> list[str]:
    """The forms a diagram may name: the version's (latest by default) and the user's form drafts."""
    version = version_or_404(session, version_id) if version_id else latest_version(session)
    names = {f.name for f in version.files if f.kind == "form"} if version else set()
    names |= {d.name for d in drafts(session, user, "form")}
    return sorted(names)


def decision_choices(session: Session, user: User) -> list[dict]:
    """The decisions a business rule task may call: those of the latest version's decision tables with the user's
    drafts over them, each {id, name, file}, by id."""
    latest = latest_version(session)
    tables = {f.name: f.content for f in latest.files if f.kind == "dmn"} if latest else {}
    tables.update({d.name: d.content for d in drafts(session, user, "dmn")})
    return sorted(({"id": decision_id, "name": name, "file": file} for file, content in tables.items()
                   for decision_id, name in declared_decisions(content)), key=lambda d: d["id"])


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
    undo_blocked: str | None = None  # why Undo cannot work any more, in words (None: it can)


def recent_moves(session: Session, limit: int = 50, move_id: int | None = None) -> list[Move]:
    """The latest migrations (or the one `move_id`), each saying whether it can still be undone (and if not, why)."""
    query = select(InstanceMove, ProcessInstance.title).join(
        ProcessInstance, ProcessInstance.id == InstanceMove.instance_id)
    if move_id is not None:
        query = query.where(InstanceMove.id == move_id)
    rows = session.execute(query.order_by(InstanceMove.id.desc()).limit(limit))
    return [Move(m.id, m.instance_id, title, m.from_version_id, m.to_version_id, m.moved_at, m.undone_at,
                 None if m.undone_at else undo_blocker(session, m))
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
               now: datetime | None = None, automatic: bool = False, audit: dict | None = None) -> Draft:
    """Write the user's draft of one file; `automatic` marks the editor's autosave in the audit trail, `audit`
    adds to its event (e.g. the upload it came from)."""
    require_owner(user)
    check_name(kind, name)
    if not content:
        raise BadRequest("the draft is empty")
    if max_bytes is not None and len(content) > max_bytes:
        raise BadRequest(f"the draft is {len(content):,} bytes; the limit is {max_bytes:,}")
    now = now or utcnow()
    try:
        return _write_draft(session, user, kind, name, content, base_version_id, now, automatic, audit)
    except IntegrityError:  # the same draft created at the same moment (two tabs): write over it
        session.rollback()
        return _write_draft(session, user, kind, name, content, base_version_id, now, automatic, audit)


def _write_draft(session, user, kind, name, content, base_version_id, now, automatic=False, audit=None) -> Draft:
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
        payload = {"kind": kind, "name": name, "size": len(content), "base_version_id": base_version_id,
                   **(audit or {})}
        if automatic:
            payload["automatic"] = True
        record(session, "modeler.draft_saved", actor=user, at=now, payload=payload)
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
    scenarios = candidate_scenarios(session, user, replace={(kind, name): content})
    session.rollback()  # end the read: validation can take a while and writes nothing
    # the same checks a deploy runs, the scenarios last
    checks = [*deploy_checks(lane_roles=lane_mapping(session, None)), scenario_gate(scenarios)]
    try:
        compiled = engine.validate(files, forms, extra_checks=checks)
    except ValidationFailed as failed:
        return Outcome(False, failed.problems, drafts_used=used)
    return Outcome(True, compiled.problems, drafts_used=used)


def deploy_file(session: Session, engine: WorkflowEngine, user: User, kind: str, name: str, content: bytes, *,
                message: str, now: datetime | None = None, lane_roles: dict | None = None) -> Outcome:
    """Deploy the latest version's files with the user's drafts and this file replaced, as one transaction:
    the drafts that went into the version are removed with the same commit; a refusal changes nothing."""
    require_owner(user)
    check_name(kind, name)
    message = (message or "").strip()
    if not message:
        raise BadRequest("say what changed: a deploy needs a message", errors={"message": "required"})
    now = now or utcnow()
    files, forms, used = candidate(session, user, replace={(kind, name): content})
    scenarios = candidate_scenarios(session, user, replace={(kind, name): content})
    session.execute(delete(Draft).where(Draft.user_id == user.id))  # committed by the deploy, or rolled back
    try:
        version, warnings, _created = deploy_version(session, engine, files, forms, user=user, message=message,
                                                     now=now, lane_roles=lane_roles, scenarios=scenarios)
    except ValidationFailed as failed:
        session.rollback()
        return Outcome(False, failed.problems, drafts_used=used)
    return Outcome(True, warnings, version, used)


def upload_name(row: Upload) -> str:
    """The diagram file name an upload deploys as (`order.xml` -> `order.bpmn`)."""
    return row.filename if row.filename.endswith(".bpmn") else row.filename.rsplit(".", 1)[0] + ".bpmn"


def map_upload_lanes(session: Session, engine: WorkflowEngine, user: User, upload_id: int, lane_roles: dict, *,
                     now: datetime | None = None) -> Upload:
    """The lane-mapping step of an import: inspect the upload again with its lanes mapped to roles, and keep the
    mapping with it for its deploy. Raises BadRequest (a lane mapped to no role)."""
    row = upload_or_404(session, upload_id)
    report = inspect_file(session, engine, user, row.filename, row.content, lane_roles)
    mapping = lane_mapping(session, lane_roles)
    with unit_of_work(session):
        row.runnable = report.runnable
        row.verdict = {**verdict(report, mapping), "lane_roles": lane_roles}
        record(session, "modeler.lanes_mapped", actor=user, at=now or utcnow(),
               payload={"upload_id": row.id, "filename": row.filename, "lane_roles": lane_roles})
    return row


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
    mapping = lane_mapping(session, None)
    now = now or utcnow()
    row = Upload(filename=filename[:255], content=content, size=len(content),
                 sha256=hashlib.sha256(content).hexdigest(), uploaded_by_id=user.id, uploaded_at=now,
                 well_formed=report.well_formed, runnable=report.runnable, verdict=verdict(report, mapping))
    with unit_of_work(session):
        session.add(row)
        session.flush()
        record(session, "modeler.uploaded", actor=user, at=now, payload={
            "upload_id": row.id, "filename": row.filename, "size": row.size, "sha256": row.sha256,
            "well_formed": row.well_formed, "runnable": row.runnable})
    return row


@dataclass(frozen=True)
class Replaceable:
    """A deployed diagram file that already holds processes an upload defines."""
    name: str
    process_ids: tuple[str, ...]


def replaceable_files(session: Session, row: Upload) -> list[Replaceable]:
    """The latest version's diagram files declaring a process id the upload declares too: adding the upload beside
    them would give one process id twice, which a deploy refuses, so the upload should replace them."""
    uploaded = {p["process_id"] for p in row.verdict.get("processes", [])}
    latest = latest_version(session)
    if not uploaded or latest is None:
        return []
    found = []
    for f in latest.files:
        if f.kind == "bpmn" and f.name != upload_name(row):
            shared = uploaded & element_ids(f.content)[1]
            if shared:
                found.append(Replaceable(f.name, tuple(sorted(shared))))
    return found


def upload_target(session: Session, row: Upload, choice: str | None,
                  new_name: str | None = None) -> tuple[str, str | None]:
    """(draft or deploy file name, the file it replaces or None) for an upload and the owner's choice:
    `replace:<file>` (one of `replaceable_files`; naming that file as `new_name` says the same) or `new` (a file of
    its own, `new_name` or the upload's). Raises BadRequest when the upload
    shares a process with a deployed file and no choice was made, or the choice is not one offered."""
    choices = {f.name: f for f in replaceable_files(session, row)}
    choice = (choice or "").strip()
    if not choice and (new_name or "").strip() in choices:  # the owner named the deployed file: that is the choice
        choice = "replace:" + new_name.strip()
    if choice.startswith("replace:"):
        name = choice.removeprefix("replace:")
        if name not in choices:
            raise BadRequest(f"{name!r} is not a deployed diagram holding this upload's processes",
                             errors={"target": "not offered"})
        return name, name
    if choices and choice != "new":
        listed = "; ".join(f"{f.name} ({', '.join(f.process_ids)})" for f in choices.values())
        raise BadRequest(f"this upload defines processes a deployed diagram already holds ({listed}): choose whether "
                         "it replaces that diagram or is added as a new file", errors={"target": "required"})
    return (new_name or "").strip() or upload_name(row), None


def connector_catalogue() -> list[dict]:
    """The connectors a service task may name, with their parameters, as the modeller's properties panel offers
    them (`workflows.connectors`)."""
    return [{"id": c.id, "title": c.title, "description": c.description,
             "parameters": [{"name": p.name, "title": p.title, "required": p.required, "kind": p.kind,
                             "choices": list(p.choices), "description": p.description} for p in c.parameters],
             "one_of": list(c.one_of)} for c in CONNECTORS.values()]


def inspect_file(session: Session, engine: WorkflowEngine, user: User, filename: str,
                 content: bytes, lane_roles: dict | None = None) -> InspectionReport:
    """The verdict for one file from another tool, from the checks validate and deploy run (the engine's functions,
    the deploy checks, the lane mapping a deploy would use: the latest version's with `lane_roles` on top),
    against the forms and decision tables of the latest version. Changes nothing. Raises BadRequest (the lane
    mapping)."""
    require_owner(user)
    latest = latest_version(session)
    forms = latest.form_files() if latest else {}
    decisions = {f.name: f.content for f in latest.files if f.kind == "dmn"} if latest else {}
    mapping = lane_mapping(session, lane_roles)
    return engine.inspect(filename, content, forms, extra_checks=deploy_checks(lane_roles=mapping),
                          decisions=decisions)


def verdict(report: InspectionReport, lane_roles: dict | None = None) -> dict:
    """What the upload page shows and the API answers (besides well_formed and runnable): with each lane of the
    file and the role that would work it (None: not mapped yet)."""
    mapping = resolved(lane_roles)
    return {"processes": [{"process_id": p.process_id, "name": p.name, "executable": p.executable, "line": p.line}
                          for p in report.processes],
            "problems": [p.as_dict() for p in report.problems],
            "lanes": [{"lane": lane, "role": mapping[lane].role if lane in mapping else None,
                       "partner_side": bool(lane in mapping and mapping[lane].partner_side)} for lane in report.lanes]}


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
        problem = _schema_problem(parsed["schema"], schema_text)
        if problem:
            errors["schema"] = problem
    return FormCheck(parsed.get("schema") if "schema" not in errors else None, parsed.get("ui"), errors)


_FIELD_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TYPES = ("string", "number", "integer", "boolean", "array", "object", "null")


def _schema_problem(schema: dict, text: str) -> str | None:
    """What makes a parsed JSON Schema unusable as a task form, naming the field and the line; None when usable."""
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        path = list(exc.absolute_path)
        where = _where(path, text)
        if path and path[-1] == "type" and not isinstance(exc.instance, list | dict):
            return f"not a valid JSON Schema at {where}: {exc.instance!r} is not a type; use one of {', '.join(_TYPES)}"
        return f"not a valid JSON Schema at {where}: {exc.message}"
    if schema.get("type", "object") != "object":
        return "a task form's schema must describe an object (\"type\": \"object\")"
    for path, key in _field_keys(schema, []):
        if not _FIELD_KEY.match(key):
            return (f"{_where(path, text)}: the key {key!r} cannot name a field; use letters, digits and '_', "
                    "starting with a letter")
    return None


def _field_keys(schema: dict, path: list) -> list[tuple[list, str]]:
    """(path, key) of every field, rows' fields and groups' fields included."""
    found = []
    for key, sub in (schema.get("properties") or {}).items() if isinstance(schema, dict) else ():
        here = [*path, "properties", key]
        found.append((here, key))
        if isinstance(sub, dict):
            found += _field_keys(sub, here)
            if isinstance(sub.get("items"), dict):
                found += _field_keys(sub["items"], [*here, "items"])
    return found


def _where(path: list, text: str) -> str:
    """'the field actions › what (line 12)': the fields a JSON path goes through and the line it points at."""
    fields = [str(path[i + 1]) for i, part in enumerate(path[:-1]) if part == "properties"]
    line = _line_of(path, text)
    named = f"the field {' › '.join(fields)}" if fields else "the form" if not path else "/".join(map(str, path))
    return f"{named} (line {line})" if line else named


def _line_of(path: list, text: str) -> int | None:
    """The line of the last key of `path` in the typed text, found by following its keys in order."""
    at = 0
    for part in path:
        if isinstance(part, int):
            continue
        found = text.find(json.dumps(str(part)), at)
        if found < 0:
            return None
        at = found + 1
    return text.count("\n", 0, at) + 1 if path else None


def form_files(base: str) -> tuple[str, str]:
    """'policy' (or 'policy.schema.json' / 'policy.uischema.json') -> the schema and UI schema file names."""
    for suffix in (".schema.json", ".uischema.json"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    check_name("form", base + ".schema.json")
    return base + ".schema.json", base + ".uischema.json"


def save_form(session: Session, user: User, base: str, schema_text: str, ui_text: str, *,
              base_version_id: int | None = None, now: datetime | None = None, for_element: str | None = None,
              diagram: str | None = None) -> FormCheck:
    """Check and save a form's two files into the user's drafts, as one transaction; the audit event names the task
    and diagram the form was made for, when a task asked for it. Raises BadRequest (nothing is written)."""
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
        payload = {"form": schema_name, "fields": len(checked.schema.get("properties") or {})}
        payload.update({k: v for k, v in (("for", for_element), ("diagram", diagram)) if v})
        record(session, "modeler.form_saved", actor=user, at=now, payload=payload)
    return checked
