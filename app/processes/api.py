"""Process versions: list, validate diagrams and forms, deploy, compare two versions, dry-run a migration; the
processes a person may start, and starting one."""

from __future__ import annotations

from marshmallow import RAISE
from sqlalchemy import select

from workflows import ValidationFailed

from ..api.common import blueprint, engine, mail, now, session, user
from ..auth.permissions import Permission, require
from ..inbox import queries
from ..inbox import services as inbox
from ..inbox.schemas import task_dict
from ..modeler.services import inspect_file, verdict
from ..processes import versioning
from ..processes.checks import deploy_checks
from ..processes.forms import form_schema
from ..processes.models import ProcessInstance, ProcessVersion
from ..processes.services import deploy_version, latest_version, start_process, startable
from .schemas import (
    BundleIn,
    DeployIn,
    DeployOut,
    DiffArgs,
    DiffOut,
    DryRunArgs,
    DryRunOut,
    InspectIn,
    InspectOut,
    ProcessStartedOut,
    ProcessStartIn,
    StartableOut,
    ValidateOut,
    VersionOut,
)

bp = blueprint("api_processes", "Diagrams and forms: validation, immutable versions, diffs, migration dry runs")

def version_dict(version: ProcessVersion) -> dict:
    return {"id": version.id, "content_hash": version.content_hash, "author": version.author,
            "message": version.message, "created_at": version.created_at, "process_ids": version.process_ids or [],
            "files": [f.name for f in version.files if f.kind == "bpmn"],
            "forms": [f.name for f in version.files if f.kind == "form"]}


def _bundle(args) -> tuple[dict[str, bytes], dict[str, bytes]]:
    encode = lambda text: text.encode("utf-8", "surrogatepass")  # noqa: E731
    return ({k: encode(v) for k, v in args["files"].items()}, {k: encode(v) for k, v in args["forms"].items()})


@bp.get("/processes/versions")
@bp.response(200, VersionOut(many=True))
def versions():
    """Every deployed version, newest first (process owners, administrators, assessors)."""
    require(user(), Permission.READ_PROCESSES, "only process owners, administrators and assessors may do this")
    return [version_dict(v) for v in session().scalars(select(ProcessVersion).order_by(ProcessVersion.id.desc()))]


@bp.post("/processes/validate")
@bp.arguments(BundleIn)
@bp.response(200, ValidateOut)
def validate_bundle(args):
    """Validate diagrams and forms without deploying: every problem located by file, element and line."""
    require(user(), Permission.DEPLOY_PROCESSES, "only process owners and administrators may do this")
    files, forms = _bundle(args)
    try:
        compiled = engine().validate(files, forms, extra_checks=deploy_checks())
    except ValidationFailed as exc:
        return {"valid": False, "problems": [p.as_dict() for p in exc.problems], "process_ids": []}
    return {"valid": True, "problems": [p.as_dict() for p in compiled.problems], "process_ids": compiled.process_ids}


@bp.post("/processes/inspect")
@bp.arguments(InspectIn)
@bp.response(200, InspectOut)
def inspect(args):
    """One BPMN file from another modelling tool: its processes, and what stops it running here, located by element
    and line - the verdict the upload page shows, from the checks validate and deploy run. Stores nothing."""
    require(user(), Permission.DEPLOY_PROCESSES, "only process owners and administrators may do this")
    content = args["content"].encode("utf-8", "surrogatepass")
    report = inspect_file(session(), engine(), user(), args["filename"], content)
    return {"filename": args["filename"], "well_formed": report.well_formed, "runnable": report.runnable,
            **verdict(report)}


@bp.post("/processes/deploy")
@bp.arguments(DeployIn)
@bp.response(201, DeployOut)
def deploy(args):
    """Validate and deploy as a new immutable version (422 with every problem; nothing is stored then)."""
    require(user(), Permission.DEPLOY_PROCESSES, "only process owners and administrators may do this")
    files, forms = _bundle(args)
    version, warnings, created = deploy_version(session(), engine(), files, forms, user=user(),
                                                message=args["message"], now=now(), skip_if_unchanged=True)
    return {"version": version_dict(version), "created": created, "warnings": [p.as_dict() for p in warnings]}


@bp.get("/processes/diff")
@bp.arguments(DiffArgs, location="query", unknown=RAISE)
@bp.response(200, DiffOut)
def diff(args):
    """What changed between two versions, element by element."""
    require(user(), Permission.READ_PROCESSES, "only process owners, administrators and assessors may do this")
    found = versioning.compare(session(), engine(), args["from_"], args["to"])
    change = lambda c: {"process_id": c.process_id, "element_id": c.element_id, "name": c.name,  # noqa: E731
                        "kind": c.kind, "attributes": list(c.attributes)}
    return {"added_processes": found.added_processes, "removed_processes": found.removed_processes,
            "added": [change(c) for c in found.added], "removed": [change(c) for c in found.removed],
            "changed": [change(c) for c in found.changed]}


@bp.get("/processes/migrations/dry-run")
@bp.arguments(DryRunArgs, location="query", unknown=RAISE)
@bp.response(200, DryRunOut(many=True))
def dry_run(args):
    """For each running instance on another version: could it move to `to`, and if not, why."""
    rows = versioning.dry_run(session(), engine(), user=user(), to_version_id=args["to"])
    return [{"instance_id": r.instance_id, "title": r.title, "process_id": r.process_id,
             "from_version_id": r.from_version_id, "can_migrate": r.verdict.can_migrate,
             "reasons": list(r.verdict.reasons)} for r in rows]


@bp.get("/processes/startable")
@bp.response(200, StartableOut(many=True))
def startable_processes():
    """The processes of the deployed version you may start by hand, with their start forms. (Relationships start
    at POST /relationships.)"""
    db, version = session(), latest_version(session())
    return [{"process_id": d.process_id, "name": d.name, "roles": list(d.roles), "form": d.form,
             "schema": form_schema(db, version.id, d.form), "ui_schema": form_schema(db, version.id, d.ui_form),
             "documentation": d.documentation} for d in startable(db, engine(), user())]


@bp.post("/processes/<string(maxlength=255):process_id>/start")
@bp.arguments(ProcessStartIn)
@bp.response(201, ProcessStartedOut)
def start(args, process_id):
    """Start a process its diagram lets you start, with its start form's data. 404: no such startable process;
    403: not one of its roles; 422: per-field errors of the start form."""
    db, me, moment = session(), user(), now()
    result = start_process(db, engine(), me, process_id, args["data"], now=moment, mail=mail())
    db.expire_all()
    instance = db.get(ProcessInstance, result.instance_id)
    ready = queries.open_tasks(db, instance.id, now=moment)
    return {"instance_id": instance.id, "process_id": instance.process_id, "title": instance.title or "",
            "status": instance.status, "next_tasks": [task_dict(t) for t in ready],
            "next_for_you": inbox.next_for(db, me, ready)}
