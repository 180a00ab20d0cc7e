"""Process versions: list, validate diagrams and forms, deploy, compare two versions, dry-run a migration; the
processes a person may start, and starting one; the operations console's actions (`ops_bp`): failed, stuck and
suspended instances, retry, skip a failed script task, cancel, suspend, resume, and token moves with four eyes."""

from __future__ import annotations

from marshmallow import RAISE
from sqlalchemy import select

from workflows import ValidationFailed
from workflows.scenarios import check as scenario_gate

from ..api.common import blueprint, engine, mail, now, session, user
from ..auth.permissions import Permission, require
from ..errors import NotFound
from ..inbox import queries
from ..inbox import services as inbox
from ..inbox.schemas import task_dict
from ..modeler import scenarios
from ..modeler.services import inspect_file, recent_moves, verdict
from ..processes import event_starts, moves, operations, versioning
from ..processes.checks import deploy_checks
from ..processes.forms import form_schema
from ..processes.models import ProcessInstance, ProcessVersion, TokenMove
from ..processes.services import (
    cancel_instance,
    deploy_version,
    lane_mapping,
    latest_version,
    latest_version_id,
    start_process,
    startable,
)
from .schemas import (
    ApproveMoveIn,
    BundleIn,
    DeployIn,
    DeployOut,
    DiffArgs,
    DiffOut,
    DryRunArgs,
    DryRunOut,
    InspectIn,
    InspectOut,
    InstanceDetailOut,
    InstanceStateOut,
    MessageIn,
    MessageStartedOut,
    MigrationMoveOut,
    MoveIn,
    MoveOut,
    MovesArgs,
    OperationsOut,
    OptionalReasonIn,
    OutcomeOut,
    PreviewOut,
    ProcessStartedOut,
    ProcessStartIn,
    ProposeMoveIn,
    ReasonIn,
    RetryIn,
    RollBackImpactOut,
    RollBackIn,
    ScenarioRunIn,
    ScenariosOut,
    ScheduledStartOut,
    StartableOut,
    ValidateOut,
    VersionOut,
)

bp = blueprint("api_processes", "Diagrams and forms: validation, immutable versions, diffs, migration dry runs")

def version_dict(version: ProcessVersion) -> dict:
    return {"id": version.id, "content_hash": version.content_hash, "author": version.author,
            "message": version.message, "created_at": version.created_at, "process_ids": version.process_ids or [],
            "files": sorted(version.engine_files()),
            "forms": [f.name for f in version.files if f.kind == "form"],
            "scenarios": sorted(version.scenario_files())}


def _bundle(args) -> tuple[dict[str, bytes], dict[str, bytes]]:
    encode = lambda text: text.encode("utf-8", "surrogatepass")  # noqa: E731
    return ({k: encode(v) for k, v in args["files"].items()}, {k: encode(v) for k, v in args["forms"].items()})


def _scenarios(args) -> dict[str, bytes]:
    """The scenarios sent with a bundle, else the latest version's."""
    if args.get("scenarios") is not None:
        return {k: v.encode("utf-8", "surrogatepass") for k, v in args["scenarios"].items()}
    latest = latest_version(session())
    return latest.scenario_files() if latest is not None else {}


@bp.get("/processes/versions/<id:version_id>/scenarios")
@bp.response(200, ScenariosOut)
def version_scenarios(version_id):
    """The version's scenarios, each run against it, with the result per step (each run once per content)."""
    require(user(), Permission.READ_PROCESSES, "only process owners, administrators and assessors may do this")
    results = scenarios.run_version(session(), engine(), user(), version_id, audit=False)
    return _scenario_results(version_id, results)


@bp.post("/processes/versions/<id:version_id>/scenarios")
@bp.arguments(ScenarioRunIn)
@bp.response(200, ScenariosOut)
def run_version_scenarios(args, version_id):
    """Run the version's scenarios (or the one named) against it now; each run is audited."""
    require(user(), Permission.DEPLOY_PROCESSES, "only process owners and administrators may do this")
    results = scenarios.run_version(session(), engine(), user(), version_id, only=args["name"], now=now())
    return _scenario_results(version_id, results)


def _scenario_results(version_id, results) -> dict:
    return {"version_id": version_id, "passed": all(r.passed for r in results),
            "results": [r.as_dict() for r in results]}


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
    scenarios = _scenarios(args)
    try:
        compiled = engine().validate(files, forms, extra_checks=[*deploy_checks(
            lane_roles=lane_mapping(session(), args["lane_roles"])), scenario_gate(scenarios)])
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
    report = inspect_file(session(), engine(), user(), args["filename"], content, args["lane_roles"])
    return {"filename": args["filename"], "well_formed": report.well_formed, "runnable": report.runnable,
            **verdict(report, lane_mapping(session(), args["lane_roles"]))}


@bp.post("/processes/deploy")
@bp.arguments(DeployIn)
@bp.response(201, DeployOut)
def deploy(args):
    """Validate and deploy as a new immutable version (422 with every problem; nothing is stored then)."""
    require(user(), Permission.DEPLOY_PROCESSES, "only process owners and administrators may do this")
    files, forms = _bundle(args)
    version, warnings, created = deploy_version(session(), engine(), files, forms, user=user(),
                                                message=args["message"], now=now(), skip_if_unchanged=True,
                                                lane_roles=args["lane_roles"],
                                                scenarios=None if args.get("scenarios") is None else _scenarios(args))
    return {"version": version_dict(version), "created": created, "warnings": [p.as_dict() for p in warnings]}


@bp.get("/processes/diff")
@bp.arguments(DiffArgs, location="query", unknown=RAISE)
@bp.response(200, DiffOut)
def diff(args):
    """What changed between two versions: element by element, each changed setting with its old and new value,
    and the forms added, removed and changed field by field."""
    require(user(), Permission.READ_PROCESSES, "only process owners, administrators and assessors may do this")
    found = versioning.compare(session(), engine(), args["from_"], args["to"])
    return {"added_processes": found.added_processes, "removed_processes": found.removed_processes,
            "added": [change_dict(c) for c in found.added], "removed": [change_dict(c) for c in found.removed],
            "changed": [change_dict(c) for c in found.changed],
            "forms": [form_change_dict(f) for f in versioning.compare_forms(session(), args["from_"], args["to"])]}


def change_dict(c) -> dict:
    return {"process_id": c.process_id, "element_id": c.element_id, "name": c.name, "kind": c.kind,
            "attributes": list(c.attributes),
            "details": [{"attribute": d.attribute, "old": d.old, "new": d.new, "lines": list(d.lines)}
                        for d in c.details]}


def form_change_dict(f) -> dict:
    return {"name": f.name, "how": f.how, "title": list(f.title) if any(f.title) else [], "other": f.other,
            "fields_": [{"field": c.field, "how": c.how, "old": c.old, "new": c.new, "aspects": list(c.aspects)}
                        for c in f.fields]}


def dry_run_dict(r) -> dict:
    return {"instance_id": r.instance_id, "title": r.title, "process_id": r.process_id,
            "from_version_id": r.from_version_id, "stage": r.stage, "ready": list(r.ready),
            "at": [{"task": name, "in_new_version": what} for name, what in r.at], "ahead": list(r.ahead),
            "can_migrate": r.verdict.can_migrate, "reasons": list(r.verdict.reasons)}


@bp.get("/processes/migrations/dry-run")
@bp.arguments(DryRunArgs, location="query", unknown=RAISE)
@bp.response(200, DryRunOut(many=True))
def dry_run(args):
    """For each running instance on another version: its stage and ready tasks, what it will meet in version `to`
    (its tasks there, the new tasks ahead), whether it can move, and if not, why."""
    return [dry_run_dict(r) for r in versioning.dry_run(session(), engine(), user=user(), to_version_id=args["to"])]


@bp.get("/processes/migrations")
@bp.response(200, MigrationMoveOut(many=True))
def migrations():
    """The latest moves of instances to other versions, newest first, each saying whether it can still be undone
    and if not, why."""
    require(user(), Permission.DEPLOY_PROCESSES, "only process owners manage versions and migrations")
    return [{**vars(m), "can_undo": m.undone_at is None and m.undo_blocked is None}
            for m in recent_moves(session())]


@bp.post("/processes/migrations/<id:move_id>/undo")
@bp.response(200, MigrationMoveOut)
def undo_migration(move_id):
    """Put the instance back on its old version with its old state. 409 when it can no longer be undone (the
    instance moved on since, e.g. tasks were completed: the message says so), or was undone already."""
    versioning.undo(session(), engine(), user=user(), move_id=move_id, now=now(), mail=mail())
    (move,) = recent_moves(session(), move_id=move_id)
    return {**vars(move), "can_undo": False}


@bp.get("/processes/versions/<id:version_id>/roll-back")
@bp.response(200, RollBackImpactOut)
def roll_back_impact(version_id):
    """What rolling back to this version would mean: the running instances that could follow its diagrams and
    those that could not, with why. Changes nothing."""
    impact = versioning.roll_back_impact(session(), engine(), user=user(), version_id=version_id)
    return {"version_id": version_id, "latest_id": getattr(impact.latest, "id", None),
            "can_follow": [dry_run_dict(r) for r in impact.follow],
            "cannot_follow": [dry_run_dict(r) for r in impact.blocked]}


@bp.post("/processes/versions/<id:version_id>/roll-back")
@bp.arguments(RollBackIn)
@bp.response(201, VersionOut)
def roll_back(args, version_id):
    """Deploy this version's files again as a new version, with the reason in its message and the audit trail."""
    version = versioning.roll_back(session(), engine(), user=user(), version_id=version_id,
                                   message=args["message"], now=now())
    return version_dict(version)


@bp.get("/processes/startable")
@bp.response(200, StartableOut(many=True))
def startable_processes():
    """The processes of the deployed version you may start by hand, with their start forms. (Relationships start
    at POST /relationships.)"""
    db = session()
    version_id = latest_version_id(db)
    return [{"process_id": d.process_id, "name": d.name, "roles": list(d.roles), "form": d.form,
             "schema": form_schema(db, version_id, d.form), "ui_schema": form_schema(db, version_id, d.ui_form),
             "documentation": d.documentation} for d in startable(db, engine(), user())]


@bp.get("/processes/scheduled")
@bp.response(200, ScheduledStartOut(many=True))
def scheduled_starts():
    """The processes of the deployed version that start on a timer, each occurrence an instance of its own: when
    each next starts, how many it started, and the last start's outcome."""
    require(user(), Permission.READ_PROCESSES, "the scheduled starts are for process owners and administrators")
    return [vars(s) for s in event_starts.scheduled(session(), engine())]


@bp.post("/processes/messages/<string(maxlength=255):message>")
@bp.arguments(MessageIn)
@bp.response(201, MessageStartedOut)
def send_message(args, message):
    """Send a message to the product: every process of the deployed version whose start event catches it starts,
    with the message's data. 404 (with the messages that do start a process): none does; 403: administrators and
    integration accounts only."""
    db, me, moment = session(), user(), now()
    results = event_starts.start_on_message(db, engine(), me, message, args["data"], now=moment, mail=mail())
    db.expire_all()
    return {"message": message, "started": [_started(db, me, result, moment) for result in results]}


@bp.post("/processes/<string(maxlength=255):process_id>/start")
@bp.arguments(ProcessStartIn)
@bp.response(201, ProcessStartedOut)
def start(args, process_id):
    """Start a process its diagram lets you start, with its start form's data. 404: no such startable process;
    403: not one of its roles; 422: per-field errors of the start form."""
    db, me, moment = session(), user(), now()
    result = start_process(db, engine(), me, process_id, args["data"], now=moment, mail=mail())
    return _started(db, me, result, moment)  # (run_action expired the rows it wrote; `me` and its roles stay)


def _started(db, me, result, moment) -> dict:
    """A started instance as ProcessStartedOut: its state and open tasks now, and the next one for `me`. Its open
    tasks' rows carry its title (a started instance is its own relationship); it is read only when none is open."""
    ready = queries.open_tasks(db, result.instance_id, now=moment)
    if ready and ready[0].relationship_id == result.instance_id:
        title = ready[0].row.root_title
    else:
        title = db.scalar(select(ProcessInstance.title).where(ProcessInstance.id == result.instance_id))
    return {"instance_id": result.instance_id, "process_id": result.process_id, "title": title or "",
            "status": result.status, "next_tasks": [task_dict(t) for t in ready],
            "next_for_you": inbox.next_for(db, me, ready)}


# ------------------------------------------------------------------------------------------------ operations
ops_bp = blueprint("api_operations", "Operations (administrators): failed, stuck and suspended instances; retry, skip "
                   "a failed script task, cancel, suspend and resume; token moves proposed on a dry run and made "
                   "once a second administrator approves")


def _admin():
    require(user(), Permission.ADMINISTER_INSTANCES, "only administrators may use the operations console")


def _instance(instance_id: int) -> ProcessInstance:
    row = session().get(ProcessInstance, instance_id)
    if row is None:
        raise NotFound(f"instance {instance_id} does not exist")
    return row


def instance_state(row: ProcessInstance, latest_id: int | None = None) -> dict:
    failure = None
    if row.error is not None:
        where = operations.failure_of(session(), row.id)
        failure = {"task": where.get("task_name"), "element_id": where.get("bpmn_id"), "line": where.get("line"),
                   "message": row.error, "at": row.error_at,
                   "newer_version_id": latest_id if latest_id is not None and latest_id != row.version_id else None}
    held = None
    if row.suspended_at is not None:
        held = {"at": row.suspended_at, "reason": row.suspended_reason,
                "by": row.suspended_by.username if row.suspended_by else None}
    return {"id": row.id, "title": row.title, "process_id": row.process_id, "version_id": row.version_id,
            "status": row.status, "failure": failure, "suspended": held}


def outcome_dict(outcome: operations.RetryOutcome) -> dict:
    return {"instance_id": outcome.instance_id, "went_on": outcome.went_on, "error": outcome.error,
            "next_due_at": outcome.next_due_at}


def move_dict(move: TokenMove) -> dict:
    return {"id": move.id, "instance_id": move.instance_id, "from_name": move.from_name,
            "to_element": move.to_element, "to_name": move.to_name, "reason": move.reason, "status": move.status,
            "preview": move.preview, "proposed_by": move.proposed_by.username, "proposed_at": move.proposed_at,
            "decided_by": move.decided_by.username if move.decided_by else None, "decided_at": move.decided_at,
            "decision_note": move.decision_note}


def _reloaded(row):
    session().expire_all()
    return session().get(type(row), row.id)


@ops_bp.get("/operations")
@ops_bp.response(200, OperationsOut)
def console():
    """Instances the scheduler could not move on (a script failed: where, and a later version to move to), running
    instances that wait for nothing, and suspended ones."""
    _admin()
    db = session()
    latest = latest_version(db)
    latest_id = latest.id if latest is not None else None
    return {"failed": [instance_state(f.instance, latest_id) for f in operations.failed_instances(db)],
            "stuck": [instance_state(i) for i in operations.stuck_instances(db)],
            "suspended": [instance_state(i) for i in operations.suspended_instances(db)]}


@ops_bp.get("/operations/instances/<id:instance_id>")
@ops_bp.response(200, InstanceDetailOut)
def instance_detail(instance_id):
    """One instance as the console sees it: failed or suspended, its waiting tasks and the activities done before
    (where a token may move back to)."""
    _admin()
    db, row = session(), _instance(instance_id)
    latest = latest_version(db)
    running = row.status == "running"
    waiting = moves.ready_tasks(db, row.id) if running else []
    done = moves.done_elements(db, engine(), row.id) if running else []
    return {**instance_state(row, latest.id if latest is not None else None),
            "waiting_tasks": [{"id": t.id, "name": t.name, "lane": t.lane} for t in waiting],
            "done_elements": [{"bpmn_id": d.bpmn_id, "name": d.name, "process_id": d.process_id, "kind": d.kind}
                              for d in done]}


@ops_bp.post("/operations/instances/<id:instance_id>/retry")
@ops_bp.arguments(RetryIn)
@ops_bp.response(200, OutcomeOut)
def retry(args, instance_id):
    """Clear a failed instance's error and fire its due timers now; first move it to `to_version_id` when given.
    400: it has not failed; 409: it is suspended."""
    _admin()
    return outcome_dict(operations.retry(session(), engine(), user(), instance_id,
                                         to_version_id=args["to_version_id"], now=now(), mail=mail()))


@ops_bp.post("/operations/instances/<id:instance_id>/skip")
@ops_bp.arguments(ReasonIn)
@ops_bp.response(200, OutcomeOut)
def skip(args, instance_id):
    """Move a failed instance past the script task that failed, without running its script, and let it go on.
    `went_on` false with `error`: a later step fails too, and nothing was changed. 400: it has not failed;
    409: the failed element is not a script task, or the instance is suspended."""
    _admin()
    return outcome_dict(operations.skip_failed_script(session(), engine(), user(), instance_id,
                                                      reason=args["reason"], now=now(), mail=mail()))


@ops_bp.post("/operations/instances/<id:instance_id>/cancel")
@ops_bp.arguments(ReasonIn)
@ops_bp.response(200, InstanceStateOut)
def cancel(args, instance_id):
    """Cancel a running instance, and the running instances linked to it, with a reason. 409: not running."""
    _admin()
    cancel_instance(session(), engine(), user=user(), instance_id=instance_id, reason=args["reason"], now=now(),
                    mail=mail())
    return instance_state(_reloaded(_instance(instance_id)))


@ops_bp.post("/operations/instances/<id:instance_id>/suspend")
@ops_bp.arguments(ReasonIn)
@ops_bp.response(200, InstanceStateOut)
def suspend(args, instance_id):
    """Hold a running instance still: its tasks cannot be completed (409) and its timers do not fire until it is
    resumed. 400: not running, or suspended already."""
    _admin()
    row = operations.suspend(session(), user(), instance_id, reason=args["reason"], now=now())
    return instance_state(_reloaded(row))


@ops_bp.post("/operations/instances/<id:instance_id>/resume")
@ops_bp.arguments(OptionalReasonIn)
@ops_bp.response(200, OutcomeOut)
def resume(args, instance_id):
    """Let a suspended instance go on; the timers that fell due meanwhile fire now. 400: not suspended."""
    _admin()
    return outcome_dict(operations.resume(session(), engine(), user(), instance_id, reason=args["reason"],
                                          now=now(), mail=mail()))


@ops_bp.post("/operations/instances/<id:instance_id>/moves/dry-run")
@ops_bp.arguments(MoveIn)
@ops_bp.response(200, PreviewOut)
def move_dry_run(args, instance_id):
    """What moving the token of a waiting task would do (back to `to_element`, done before; or past the task when
    it is null): the tasks withdrawn, completed and made ready, the timers then waiting. Changes nothing.
    409: a move the engine cannot make (the message says why), or a suspended instance."""
    _admin()
    return moves.dry_run(session(), engine(), user(), instance_id, args["task_id"], args["to_element"], now=now())


@ops_bp.post("/operations/instances/<id:instance_id>/moves")
@ops_bp.arguments(ProposeMoveIn)
@ops_bp.response(201, MoveOut)
def propose_move(args, instance_id):
    """Propose a token move with a reason: its dry run is made and kept; another administrator approves it before
    it is made. 409: a move the engine cannot make, or a suspended instance."""
    _admin()
    move = moves.propose(session(), engine(), user(), instance_id, args["task_id"], args["to_element"],
                         reason=args["reason"], now=now())
    return move_dict(_reloaded(move))


@ops_bp.get("/operations/moves")
@ops_bp.arguments(MovesArgs, location="query", unknown=RAISE)
@ops_bp.response(200, MoveOut(many=True))
def list_moves(args):
    """Proposed token moves, newest first: those waiting for approval unless `status` says otherwise."""
    _admin()
    status = None if args["status"] == "all" else args["status"]
    return [move_dict(m) for m in moves.moves(session(), status=status, instance_id=args["instance_id"])]


@ops_bp.post("/operations/moves/<id:move_id>/approve")
@ops_bp.arguments(ApproveMoveIn)
@ops_bp.response(200, MoveOut)
def approve_move(args, move_id):
    """Approve a pending move and make it, on the revision its dry run saw. 403: you proposed it (four eyes);
    400: not pending; 409: the instance moved on since the dry run (the move is then outdated), or is suspended."""
    _admin()
    move, _result = moves.approve(session(), engine(), user(), move_id, note=args["note"], now=now(), mail=mail())
    return move_dict(_reloaded(move))


@ops_bp.post("/operations/moves/<id:move_id>/reject")
@ops_bp.arguments(ReasonIn)
@ops_bp.response(200, MoveOut)
def reject_move(args, move_id):
    """Reject a pending move with a reason (its proposer may withdraw it so); nothing moves. 400: not pending."""
    _admin()
    move = moves.reject(session(), user(), move_id, reason=args["reason"], now=now())
    return move_dict(_reloaded(move))
