"""One function per user action on processes, each one transaction: deploy, start, complete, signal, cancel,
and the timer firing the scheduler calls. Services take the session, engine, user and `now` as
arguments and never read request state, so pages, the API, jobs and tests share them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from blinker import Signal
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from workflows import (
    Conflict,
    Result,
    ScriptFailed,
    TaskNotReady,
    WorkflowEngine,
    WorkflowError,
    content_hash,
)
from workflows.scenarios import check as scenario_gate
from workflows.starting import PERSON, StartDeclaration, declarations

from ..audit.services import record, record_many
from ..auth.models import ROLES, User
from ..auth.permissions import Permission, read_only, require
from ..db import unit_of_work, utcnow
from ..errors import BadRequest, Forbidden, NotFound, Suspended
from ..notifications.services import MailSettings, TaskNotice, notice_kind, notify_tasks
from . import connectors, lanes, timer_notices
from .checks import deploy_checks
from .choices import has_choices, with_choices
from .forms import form_schema, know_content, validate_submission
from .lanes import lane_role
from .models import SCENARIO_KIND, HumanTask, ProcessInstance, ProcessVersion, Timer, VersionFile
from .store import bound, dialect_of, instance_columns, know_lanes, version_lanes

log = logging.getLogger(__name__)



# -------------------------------------------------------------------- versions
def latest_version(session: Session) -> ProcessVersion | None:
    """The deployed version with its files (diagrams, forms, scenarios): for pages and deploys that show or reuse
    them. Starting an instance needs only `latest_version_id`."""
    return session.scalar(select(ProcessVersion).order_by(ProcessVersion.id.desc()).limit(1))


_LATEST = select(ProcessVersion.id, ProcessVersion.process_ids, ProcessVersion.content_hash,
                 ProcessVersion.lane_roles).order_by(ProcessVersion.id.desc()).limit(1)


def latest_version_id(session: Session) -> int | None:
    """The deployed version's id, without its files (a start reads no more); its form and lane caches' keys are
    read with it."""
    found = session.execute(_LATEST).first()
    if found is None:
        return None
    know_content(session, found.id, found.content_hash)
    know_lanes(session, found.id, found.lane_roles)
    return found.id


def latest_process_ids(session: Session) -> list[str]:
    found = session.execute(_LATEST).first()
    return list(found.process_ids or []) if found is not None else []


def deploy_version(session: Session, engine: WorkflowEngine, files: Mapping[str, bytes],
                   forms: Mapping[str, bytes], *, user: User | None = None, message: str | None = None,
                   now: datetime | None = None, skip_if_unchanged: bool = False, lane_roles: dict | None = None,
                   scenarios: Mapping[str, bytes] | None = None):
    """Validate and store a new version. Returns (version, warnings, created).

    `scenarios` (name -> JSON, workflows.scenarios) must all pass on the new version, else the deploy is refused
    like any other problem; None keeps the latest version's scenarios, so a change must still pass them.

    `lane_roles` maps lanes the diagrams name (from another tool, say) to roles, on top of the latest version's
    mapping, which a new version keeps. Raises Forbidden (not a process owner), BadRequest (the lane mapping) or
    workflows.ValidationFailed; nothing is stored then.
    """
    require(user, Permission.DEPLOY_PROCESSES, "only process owners may deploy diagrams")
    now = now or utcnow()
    mapping = lane_mapping(session, lane_roles)
    current = latest_version(session)
    if scenarios is None:
        scenarios = current.scenario_files() if current is not None else {}
    if skip_if_unchanged:
        if current is not None and current.content_hash == content_hash(files, forms) \
                and (current.lane_roles or {}) == mapping and current.scenario_files() == dict(scenarios):
            return current, [], False
    with unit_of_work(session):
        version_id, compiled = bound(engine, session, user, now=now).deploy(
            files, forms, author=getattr(user, "username", None) or "system", message=message,
            extra_checks=[*deploy_checks(lane_roles=mapping), scenario_gate(scenarios)])
        version = session.get(ProcessVersion, version_id)
        version.lane_roles = mapping or None
        version.files += [VersionFile(kind=SCENARIO_KIND, name=n, content=c) for n, c in sorted(scenarios.items())]
        record(session, "version.deployed", actor=user, at=now, payload={
            "version_id": version_id, "hash": compiled.content_hash, "message": message,
            "processes": compiled.process_ids, "files": sorted(files), "forms": sorted(forms),
            **({"scenarios": sorted(scenarios)} if scenarios else {}),
            **({"lane_roles": mapping} if mapping else {})})
    return session.get(ProcessVersion, version_id), compiled.problems, True


def lane_mapping(session: Session, given: dict | None) -> dict:
    """The lane mapping a new version gets: the latest version's, with `given` on top. Raises BadRequest naming
    the lane that is wrong."""
    latest = latest_version(session)
    try:
        added = lanes.checked(given, ROLES)
    except ValueError as exc:
        raise BadRequest(str(exc), {"lane_roles": str(exc)}) from None
    return {**((latest.lane_roles if latest is not None else None) or {}), **added}


# -------------------------------------------------------------------- instances
def start_instance(session: Session, engine: WorkflowEngine, *, user: User | None, process_id: str = "lifecycle",
                   data: dict | None = None, title: str | None = None, version_id: int | None = None,
                   now: datetime | None = None, mail: MailSettings | None = None,
                   permission: Permission = Permission.START_RELATIONSHIPS) -> Result:
    """Start a process on the latest version (or `version_id`) when `user` holds `permission`. Raises NotFound,
    Forbidden, WorkflowError."""
    require(user, permission, f"your roles do not allow this: it needs the permission to {permission.value}")
    return _start(session, engine, user, process_id, data, title, version_id, now, mail)


def _start(session, engine, user, process_id, data, title, version_id, now, mail) -> Result:
    if version_id is None:
        version_id = latest_version_id(session)
        if version_id is None:
            raise NotFound("no process version is deployed yet")
    now = now or utcnow()
    bound_engine = bound(engine, session, user, now=now, started_by_id=getattr(user, "id", None), title=title)
    return run_action(session, engine, user, now, lambda: bound_engine.start(
        version_id, process_id, data or {}, now=now), mail=mail)


def _starts(session: Session, engine: WorkflowEngine) -> tuple[int | None, dict[str, StartDeclaration]]:
    """The latest version's id and, by process id, the processes of it people may start by hand."""
    version_id = latest_version_id(session)
    if version_id is None:
        return None, {}
    return version_id, {d.process_id: d for d in declarations(bound(engine, session).specs(version_id))
                        if d.how == PERSON}


def _may_start(user: User, declared: StartDeclaration) -> bool:
    return not user.is_partner and bool(set(declared.roles) & user.roles)  # partners start nothing of ours


def startable(session: Session, engine: WorkflowEngine, user: User) -> list[StartDeclaration]:
    """The processes of the latest version that `user` may start by hand: those whose start event names one of
    their roles (`workflows.starting`)."""
    return [d for d in _starts(session, engine)[1].values() if _may_start(user, d)]


def may_start(session: Session, engine: WorkflowEngine, user: User, process_id: str) -> bool:
    declared = _starts(session, engine)[1].get(process_id)
    return declared is not None and _may_start(user, declared)


def start_process(session: Session, engine: WorkflowEngine, user: User, process_id: str, data: dict | None = None,
                  *, now: datetime | None = None, mail: MailSettings | None = None) -> Result:
    """Start a process the diagram lets people start, with its start form's data. Raises NotFound (no such
    process may be started by hand), Forbidden (not one of its roles), InvalidData (the start form)."""
    version_id, found = _starts(session, engine)
    declared = found.get(process_id)
    if declared is None:
        raise NotFound(f"no process {process_id!r} may be started by hand in the deployed version")
    if not _may_start(user, declared):
        raise Forbidden(f"{declared.name!r} is started by: {', '.join(declared.roles)}")
    data = dict(data or {})
    validate_submission(form_schema(session, version_id, declared.form), data)
    title = str(data.get(declared.title_field) or "").strip() if declared.title_field else ""
    return _start(session, engine, user, process_id, data, title[:300] or declared.name, version_id, now, mail)


def completion_load(dialect: str, *extra):
    """SQL (bound parameter `task_id`): a task row with all that completing it reads, in one statement: whether its
    instance is suspended, its version's content hash and lane mapping (the form and lane caches' keys), and the
    instance itself with its ready tasks, which the store then does not read again. `extra` columns follow."""
    return (select(HumanTask, ProcessInstance.suspended_at, ProcessVersion.content_hash, ProcessVersion.lane_roles,
                   *instance_columns(dialect), *extra)
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .join(ProcessVersion, ProcessVersion.id == ProcessInstance.version_id)
            .where(HumanTask.id == bindparam("task_id")))


_COMPLETION_LOAD = {dialect: completion_load(dialect) for dialect in ("postgresql", "sqlite")}


def complete_task(session: Session, engine: WorkflowEngine, *, user: User, human_task_id: int,
                  data: dict | None = None, now: datetime | None = None,
                  expected_revision: int | None = None,
                  before_run: Callable[[HumanTask, dict | None, dict], None] | None = None,
                  mail: MailSettings | None = None, loaded=None) -> Result:
    """Complete a human task with form data.

    `before_run(row, form schema, data)` runs after the checks, in the same transaction as the completion
    (a caller's own checks and writes: one commit, all or nothing). `loaded`: the row of `completion_load` when
    the caller has read it already.
    Raises NotFound, Forbidden (role, organisation, assignee, four eyes), InvalidData (per-field errors),
    TaskNotReady (already done), Conflict (someone saved the instance first), ScriptFailed, and what
    `before_run` raises.
    """
    found = loaded if loaded is not None else session.execute(
        _COMPLETION_LOAD[dialect_of(session)], {"task_id": human_task_id}).first()
    if found is None:
        raise NotFound(f"task {human_task_id} does not exist")
    row, suspended_at, content, lanes = found[:4]
    version_id = found.version_id
    know_content(session, version_id, content)  # (one statement instead of three: the form and lane caches' keys)
    know_lanes(session, version_id, lanes)
    if row.state != "ready":
        raise TaskNotReady(f"the task {row.name!r} is already {row.state}", task_id=row.task_id)
    if suspended_at is not None:
        raise suspended(session.get(ProcessInstance, row.instance_id), f"the task {row.name!r} cannot be completed")
    check_can_work_on(session, user, row)
    data = dict(data or {})
    schema = validated_schema(session, engine, row, version_id, data, preloaded=found)
    now = now or utcnow()
    bound_engine = bound(engine, session, user, now=now, submitted={row.task_id: data}, preloaded=found)

    def act():
        if before_run is not None:
            before_run(row, schema, data)
        return bound_engine.complete_task(row.instance_id, row.task_id, data, now=now,
                                          expected_revision=expected_revision)
    return run_action(session, engine, user, now, act, mail=mail)


def validated_schema(session: Session, engine: WorkflowEngine, row: HumanTask, version_id: int, data: dict, *,
                     preloaded=None) -> dict | None:
    """The task's form schema, with the choices its UI form takes from the process's data (only those values are
    accepted), once `data` has passed it. Raises InvalidData (per-field errors). `preloaded`: as for `bound`."""
    schema = form_schema(session, version_id, row.form_key)
    ui = form_schema(session, version_id, row.ui_form_key)
    if has_choices(ui):
        schema = with_choices(schema, ui, bound(engine, session, preloaded=preloaded).get_task(
            row.instance_id, row.task_id).data)
    validate_submission(schema, data)
    return schema


def send_signal(session: Session, engine: WorkflowEngine, *, user: User | None, instance_id: int, name: str,
                payload: dict | None = None, now: datetime | None = None,
                mail: MailSettings | None = None) -> Result:
    """Throw a signal (e.g. an exit trigger) into an instance. Raises EventNotExpected, Conflict, Suspended."""
    instance = _instance_or_404(session, instance_id)
    if instance.suspended_at is not None:
        raise suspended(instance, f"it cannot receive the signal {name!r}")
    now = now or utcnow()
    return run_action(session, engine, user, now, lambda: bound(engine, session, user, now=now).send_signal(
        instance_id, name, payload or {}, now=now), mail=mail)


def cancel_instance(session: Session, engine: WorkflowEngine, *, user: User | None, instance_id: int,
                    reason: str | None = None, now: datetime | None = None,
                    mail: MailSettings | None = None) -> Result:
    require(user, Permission.ADMINISTER_INSTANCES, "only an administrator may cancel an instance")
    _instance_or_404(session, instance_id)
    now = now or utcnow()
    return run_action(session, engine, user, now, lambda: bound(engine, session, user, now=now).cancel(
        instance_id, now=now, reason=reason), mail=mail)


def fire_due_timers(session: Session, engine: WorkflowEngine, *, now: datetime | None = None,
                    limit: int = 500,
                    mail: MailSettings | None = None) -> list[Result]:
    """Fire every timer due before `now`: one transaction per instance, loading only instances with due rows.

    "Due before" is SpiffWorkflow's own rule (a timer fires once its time has passed), so a wake-up exactly
    at a due time fires nothing and the next one does; the scheduler wakes just after due times.

    Exactly once, with any number of schedulers: on PostgreSQL each instance is claimed with
    `FOR UPDATE SKIP LOCKED` (another scheduler's instance is skipped, not waited for) and its timers are
    re-checked after the claim; everywhere, the save's revision check refuses a second firing. A failing
    script is recorded once (audit event + the instance's `error`), and that instance is left out of
    later rounds until someone clears the error, instead of failing every minute. A suspended instance is left
    out until it is resumed (`waits_for_timers`).
    """
    now = now or utcnow()
    due = list(session.scalars(
        select(Timer.instance_id).join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
        .where(Timer.due_at < now, *waits_for_timers()).group_by(Timer.instance_id)
        .order_by(func.min(Timer.due_at)).limit(limit)))
    session.rollback()  # end the read before the writes (SQLite: never hold a read snapshot while writing)
    results = []
    scheduler = bound(engine, session, now=now)
    for instance_id in due:
        try:
            if not _claim_due(session, instance_id, now):
                session.rollback()
                continue
            result = run_action(session, engine, "scheduler", now, lambda i=instance_id: scheduler.fire_timers(i, now=now),
                                mail=mail)
            if result.events:  # empty when another scheduler fired it first: nothing was saved
                results.append(result)
        except Conflict:
            continue
        except (ScriptFailed, WorkflowError) as exc:
            record_failure(session, instance_id, now, exc.message, _jsonable(exc.details))
            log.warning("timer firing failed for instance %s: %s", instance_id, exc)
        except DBAPIError as exc:  # a deadlock or lost connection: nothing was saved, the timer stays due
            session.rollback()
            log.warning("timer firing for instance %s hit a database error, will retry: %s", instance_id, exc)
    return results


def waits_for_timers():
    """SQL: the instances whose timers the scheduler fires: not failed (an administrator retries it) and not
    suspended (resuming fires what fell due meanwhile)."""
    return ProcessInstance.error.is_(None), ProcessInstance.suspended_at.is_(None)


def suspended(instance: ProcessInstance, what: str) -> Suspended:
    """The refusal for acting on a suspended instance, saying who suspended it, when and why."""
    why = f": {instance.suspended_reason}" if instance.suspended_reason else ""
    return Suspended(f"instance {instance.id} is suspended by an administrator since "
                     f"{instance.suspended_at:%Y-%m-%d %H:%M} UTC{why}; {what} until it is resumed")


def _claim_due(session: Session, instance_id: int, now: datetime) -> bool:
    """Lock the instance for this transaction (PostgreSQL: skip it if another scheduler holds it) and
    confirm a timer of it is still due (another scheduler may have fired it since the list was read)."""
    if session.get_bind().dialect.name == "postgresql":
        claimed = session.scalar(select(ProcessInstance.id).where(ProcessInstance.id == instance_id)
                                 .with_for_update(skip_locked=True))
        if claimed is None:
            return False
    return session.scalar(select(Timer.id).join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
                          .where(Timer.instance_id == instance_id, Timer.due_at < now, *waits_for_timers())
                          .limit(1)) is not None


def record_failure(session: Session, instance_id: int, now: datetime, message: str, details) -> None:
    session.rollback()
    session.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id)
                    .values(error=message[:2000], error_at=now))
    record(session, "instance.error", actor="scheduler", instance_id=instance_id, at=now,
           payload={"error": message, "details": details})
    session.commit()


# -------------------------------------------------------------------- rules
def check_can_work_on(session: Session, user: User, row: HumanTask) -> None:
    """Raise Forbidden unless `user` may complete `row`: lane role, organisation side, assignee, four eyes."""
    if read_only(user):
        raise Forbidden("assessors read everything and change nothing")
    if row.assignee_id is not None and row.assignee_id != user.id:
        raise Forbidden(f"the task {row.name!r} is assigned to someone else")
    refused = lane_refusal(user, row)
    if refused is not None:
        raise Forbidden(refused)
    if row.approval_gate:
        # the stage's work since its last approval, in every round: a rework may loop inside one run of the stage
        # or start a fresh run, and who prepared an earlier round still prepared what is approved now
        since = _last_approval(session, row)
        # preparing = doing the stage's work; an SER's own decisions inside the stage (appointing the SER,
        # agreeing to approach candidates) are not preparation, or a one-SER organisation could never approve,
        # unless the diagram marks the decision as preparing the gate (preparesGate: selecting the partner)
        done = session.execute(select(HumanTask.name, HumanTask.role, HumanTask.properties).where(
            HumanTask.instance_id == row.instance_id, HumanTask.process_id == row.process_id,
            HumanTask.completed_by_id == user.id, HumanTask.state == "completed",
            HumanTask.approval_gate.is_(False),
            *([HumanTask.completed_at > since] if since is not None else []))).all()
        prepared = next((name for name, role, properties in done
                         if role != "ser" or str((properties or {}).get("preparesGate", "")).lower() == "true"), None)
        if prepared is not None:
            what = "this stage" if row.process_id.startswith("stage") else "what this decision approves"
            raise Forbidden(f"four eyes: you prepared {what} ({prepared!r}), so someone else must decide it")


def _last_approval(session: Session, gate: HumanTask) -> datetime | None:
    """When this stage (the gate's process, in its instance) was last approved by our side, if ever."""
    for completed_at, submitted in session.execute(
            select(HumanTask.completed_at, HumanTask.submitted).where(
                HumanTask.instance_id == gate.instance_id, HumanTask.process_id == gate.process_id,
                HumanTask.approval_gate.is_(True), HumanTask.state == "completed")
            .order_by(HumanTask.completed_at.desc()).limit(20)):
        if (submitted or {}).get("decision") == "approve":
            return completed_at
    return None


def lane_refusal(user: User, row: HumanTask) -> str | None:
    """Why the task's lane is not `user`'s (its role, its organisation's side), or None: the lane part of
    `check_can_work_on`, also asked of rows already read (`app.inbox.queries.works_lane`)."""
    roles = user.roles
    needed = row.role or "staff"
    if needed not in roles:
        return (f"the task {row.name!r} is in the {row.lane or 'Staff'} lane and needs the role "
                f"{needed!r}; you have {', '.join(sorted(roles)) or 'no roles'}")
    if not row.joint and row.partner_side != user.is_partner:
        side = "the partner organisation" if row.partner_side else "our organisation"
        return f"the task {row.name!r} belongs to {side}"
    return None


# -------------------------------------------------------------------- helpers
def _instance_or_404(session, instance_id):
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"instance {instance_id} does not exist")
    return instance


def run_action(session: Session, engine: WorkflowEngine, actor, now: datetime, action, *,
               mail: MailSettings | None) -> Result:
    """Run one engine action, let the domains that react to it act in the same transaction (`reactions`), perform
    the connector calls of its service tasks (`connectors`), audit everything it changed, notify who has new tasks (and e-mail them when `mail` is set), commit once; roll back
    on any error."""
    with unit_of_work(session):
        result = action()
        for _receiver, more in reactions.send(session, engine=engine, result=result, now=now, actor=actor, mail=mail):
            result.linked.extend(more or [])
        audit = connectors.perform(session, result, now=now, actor=actor, mail=mail)  # its service tasks' calls
        for part in result.all():
            for task in part.became_ready:
                audit.append(dict(action="task.created", actor=actor, instance_id=part.instance_id, task_id=task.id,
                                  at=now, payload={"bpmn_id": task.bpmn_id, "name": task.name, "lane": task.lane}))
            for event in part.events:
                audit.append(dict(action=event.action, actor=actor, instance_id=part.instance_id,
                                  task_id=event.payload.get("task_id"), payload=_jsonable(event.payload), at=now))
            for task_id in part.cancelled:
                audit.append(dict(action="task.cancelled", actor=actor, instance_id=part.instance_id,
                                  task_id=task_id, at=now))
        record_many(session, audit)
        notify_tasks(session, [_notice(session, part, task) for part in result.all() for task in part.became_ready],
                     now, mail=mail)
        session.commit()
        _expire_written(session)
        dues = [timer.due_at for part in result.all() for timer in part.timers]
        if dues:
            timer_notices.publish(min(dues))
        return result


# What higher domains do after an engine action, inside its transaction (connected by create_app, the composition
# root): a receiver gets (session, engine=, result=, now=, actor=, mail=) and returns the Results of any further
# engine actions it took, which are audited and notified with the action's own.
reactions = Signal("engine action ran")


def _expire_written(session: Session) -> None:
    """The store writes instances, task rows and timers with Core statements: ORM copies of them read earlier in
    this session are stale now. Expire just those (everything else, the user and their roles, stays loaded)."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, HumanTask | ProcessInstance | Timer):
            session.expire(obj)


def _notice(session: Session, part: Result, task) -> TaskNotice:
    instance_id = part.instance_id
    mapped = lane_role(task.lane, version_lanes(session, part.version_id))
    gate = str(task.properties.get("approvalGate", "")).lower() == "true"
    return TaskNotice(instance_id=instance_id, task_id=task.id, name=task.name,
                      kind=notice_kind(task.properties, gate), role=mapped.role if mapped else None,
                      partner_side=bool(mapped and mapped.partner_side), joint=bool(mapped and mapped.joint))


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool | type(None)):
        return value
    return str(value)


__all__ = ["cancel_instance", "check_can_work_on", "complete_task", "deploy_version", "lane_refusal",
           "fire_due_timers", "latest_version", "run_action", "send_signal", "start_instance", "suspended",
           "waits_for_timers"]
