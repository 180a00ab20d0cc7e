"""Process owners' actions on versions: compare two, roll back (redeploy an old one as new), and move running
instances to a newer version after a dry run, each move recorded with the old state so it can be undone."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import (
    Conflict,
    MigrationPreview,
    MigrationRefused,
    MigrationVerdict,
    OpenElement,
    VersionDiff,
    WorkflowEngine,
)

from ..audit.services import record
from ..auth.models import User
from ..auth.permissions import Permission, require
from ..db import utcnow
from ..errors import BadRequest, NotFound
from ..notifications.services import MailSettings
from ..stages import STAGE_NAMES, stage_of_process
from .form_changes import FormChange, form_changes
from .models import HumanTask, InstanceMove, ProcessInstance, ProcessVersion
from .services import deploy_version, latest_version, run_action
from .store import bound


def _require_owner(user: User | None):
    require(user, Permission.DEPLOY_PROCESSES, "only process owners manage versions and migrations")


def _version(session: Session, version_id: int) -> ProcessVersion:
    version = session.get(ProcessVersion, version_id)
    if version is None:
        raise NotFound(f"version {version_id} does not exist")
    return version


def compare(session: Session, engine: WorkflowEngine, old_version_id: int, new_version_id: int) -> VersionDiff:
    """Elements added, removed and changed between two versions. Raises NotFound."""
    _version(session, old_version_id), _version(session, new_version_id)
    return bound(engine, session).diff(old_version_id, new_version_id)


@dataclass(frozen=True)
class DryRunRow:
    instance_id: int
    title: str | None
    process_id: str
    from_version_id: int
    verdict: MigrationVerdict
    stage: str | None = None  # "5 · Working together": where a lifecycle instance is
    ready: tuple[str, ...] = ()  # its ready tasks, by name
    at: tuple[tuple[str, str], ...] = ()  # (ready task, what the new version has for it, in words)
    ahead: tuple[str, ...] = ()  # what it will meet, in words ("the new task 'Check the plan' in stage 5")


def dry_run(session: Session, engine: WorkflowEngine, *, user: User | None, to_version_id: int,
            instance_ids: list[int] | None = None) -> list[DryRunRow]:
    """For each running instance on an older version (or the given ones): where it is (stage, ready tasks), what it
    will meet in the new version, whether it can move, and if not, why."""
    _require_owner(user)
    _version(session, to_version_id)
    return _rows(session, engine, to_version_id, instance_ids, full=True)


def _rows(session, engine, to_version_id, instance_ids, *, full: bool, include_same: bool = False):
    query = select(ProcessInstance).where(ProcessInstance.status == "running")
    if not include_same:
        query = query.where(ProcessInstance.version_id != to_version_id)
    if instance_ids is not None:
        query = query.where(ProcessInstance.id.in_(instance_ids))
    checker = bound(engine, session)
    rows = []
    forms: dict[int, dict[str, bytes]] = {}

    def forms_of(version_id):
        if version_id not in forms:
            forms[version_id] = _version(session, version_id).form_files()
        return forms[version_id]
    for i in session.scalars(query.order_by(ProcessInstance.id)):
        ready = session.execute(select(HumanTask.name, HumanTask.process_id).where(
            HumanTask.instance_id == i.id, HumanTask.state == "ready").order_by(HumanTask.id)).all()
        stages = [n for n in (stage_of_process(p) for _name, p in ready) if n]
        stage = max(stages) if stages else None
        common = dict(stage=f"{stage} · {STAGE_NAMES[stage]}" if stage else None,
                      ready=tuple(name for name, _p in ready))
        if i.suspended_at is not None:
            rows.append(DryRunRow(i.id, i.title, i.process_id, i.version_id, SUSPENDED, **common))
        elif i.version_id == to_version_id:
            rows.append(DryRunRow(i.id, i.title, i.process_id, i.version_id, SAME_FILES, **common))
        elif full:
            preview = checker.preview_migration(i.id, to_version_id)
            at = tuple((e.name or e.element_id, _at_in_words(e, forms_of(i.version_id), forms_of(to_version_id)))
                       for e in preview.at)
            rows.append(DryRunRow(i.id, i.title, i.process_id, i.version_id, preview.verdict, at=at,
                                  ahead=tuple(_ahead_in_words(preview)), **common))
        else:
            rows.append(DryRunRow(i.id, i.title, i.process_id, i.version_id,
                                  checker.check_migration(i.id, to_version_id), **common))
    return rows


def _at_in_words(element: OpenElement, old_forms: dict[str, bytes], new_forms: dict[str, bytes]) -> str:
    if not element.exists:
        return "is not in the new version"
    if element.old_form != element.new_form:
        return f"is there, with another form: {element.old_form or 'none'} → {element.new_form or 'none'}"
    if element.new_form and old_forms.get(element.new_form) != new_forms.get(element.new_form):
        (change,) = form_changes({element.new_form: old_forms.get(element.new_form, b"")},
                                 {element.new_form: new_forms.get(element.new_form, b"")}) or [None]
        counts = Counter(f.how for f in change.fields) if change else {}
        what = ", ".join(f"{n} field{'s' if n != 1 else ''} {how}" for how, n in sorted(counts.items()))
        return f"is there; its form {element.new_form} changed" + (f" ({what})" if what else "")
    return "is there, unchanged" if element.new_form is None else "is there, with the same form"


def _ahead_in_words(preview: MigrationPreview) -> list[str]:
    words = []
    for change in preview.ahead:
        stage = stage_of_process(change.process_id)
        where = f"in stage {stage}" if stage else f"in {change.process_id.replace('_', ' ')}"
        words.append(f"will reach the new task '{change.name or change.element_id}' {where}")
    return words


SAME_FILES = MigrationVerdict(True, ())  # already runs on these very diagrams
@dataclass(frozen=True)
class RollBackImpact:
    """What a roll back to `version` means for the running instances: which could follow the rolled-back version
    (moved to it afterwards) and which could not, with why."""
    version: ProcessVersion
    latest: ProcessVersion | None
    follow: list[DryRunRow]
    blocked: list[DryRunRow]


def compare_forms(session: Session, old_version_id: int, new_version_id: int) -> list[FormChange]:
    """The forms added, removed and changed between two versions, field by field. Raises NotFound."""
    return form_changes(_version(session, old_version_id).form_files(),
                        _version(session, new_version_id).form_files())


def roll_back_impact(session: Session, engine: WorkflowEngine, *, user: User | None,
                     version_id: int) -> RollBackImpact:
    """The confirmation before a roll back: every running instance checked against the old version's diagrams
    (the rolled-back version has the same files). Changes nothing. Raises NotFound, Forbidden."""
    _require_owner(user)
    version = _version(session, version_id)
    rows = [replace(r, verdict=MigrationVerdict(r.verdict.can_migrate, tuple(
        why.replace("the new version", f"version {version_id}") for why in r.verdict.reasons)))
        for r in _rows(session, engine, version_id, None, full=False, include_same=True)]
    return RollBackImpact(version, latest_version(session), [r for r in rows if r.verdict.can_migrate],
                          [r for r in rows if not r.verdict.can_migrate])


def roll_back(session: Session, engine: WorkflowEngine, *, user: User | None, version_id: int,
              message: str = "", now: datetime | None = None) -> ProcessVersion:
    """Redeploy an old version's exact files as a new version (history is never rewritten), with the process
    owner's reason in the version's message and in the audit event, which also names the instances that could
    not follow. Raises BadRequest (no reason given), NotFound, Forbidden."""
    _require_owner(user)
    message = (message or "").strip()
    if not message:
        raise BadRequest("say why you roll back: the reason goes into the version history",
                         errors={"message": "required"})
    impact = roll_back_impact(session, engine, user=user, version_id=version_id)
    now = now or utcnow()
    old = impact.version
    # recorded first so that the deploy's commit carries it: both or neither
    record(session, "version.rolled_back", actor=user, at=now, payload={
        "to_files_of": version_id, "latest_before": getattr(impact.latest, "id", None), "message": message,
        "cannot_follow": [{"instance_id": r.instance_id, "title": r.title, "reasons": list(r.verdict.reasons)}
                          for r in impact.blocked],
        "can_follow": [r.instance_id for r in impact.follow]})
    # the old version's own scenarios come back with it (they passed on its files)
    version, _warnings, _created = deploy_version(session, engine, old.engine_files(), old.form_files(), user=user,
                                                  now=now, message=f"roll back to version {version_id}: {message}",
                                                  scenarios=old.scenario_files())
    return version


# a move runs the instance on (its due timers fire), which a suspended instance must not do until it is resumed
SUSPENDED = MigrationVerdict(False, ("the instance is suspended: resume it first",))


def migrate(session: Session, engine: WorkflowEngine, *, user: User | None, instance_ids: list[int],
            to_version_id: int, now: datetime | None = None, progress=None,
            mail: MailSettings | None = None) -> dict[int, str | None]:
    """Move each instance in its own transaction; {instance id: None when moved, else why not}.
    `progress(done, total)` is called after each one (for a progress display)."""
    _require_owner(user)
    _version(session, to_version_id)
    outcome: dict[int, str | None] = {}
    for done, instance_id in enumerate(instance_ids, start=1):
        now_ = now or utcnow()
        instance = session.get(ProcessInstance, instance_id)
        if instance is None:
            outcome[instance_id] = "no such instance"
            continue
        if instance.suspended_at is not None:
            outcome[instance_id] = SUSPENDED.reasons[0]
            continue
        old_state, old_version = instance.state, instance.version_id
        try:
            result = run_action(session, engine, user, now_, partial(
                _move, session, bound(engine, session, user, now=now_), instance_id, old_version, to_version_id,
                old_state, user, now_), mail=mail)
            outcome[instance_id] = None if result else "unchanged"
        except (MigrationRefused, Conflict) as exc:
            outcome[instance_id] = exc.message
        session.expire_all()
        if progress is not None:
            progress(done, len(instance_ids))
    return outcome


def _move(session, engine, instance_id, old_version, to_version_id, old_state, user, now):
    result = engine.migrate(instance_id, to_version_id, now=now)
    session.add(InstanceMove(instance_id=instance_id, from_version_id=old_version, to_version_id=to_version_id,
                             old_state=old_state, revision_after=result.revision,
                             moved_by_id=getattr(user, "id", None), moved_at=now))
    return result


def undo_blocker(session: Session, move: InstanceMove) -> str | None:
    """Why this move can no longer be undone, in words (None: it can). An undo puts the old state back, so it
    works only while the instance is exactly as the move left it."""
    if move.undone_at is not None:
        return "this migration was already undone"
    instance = session.get(ProcessInstance, move.instance_id)
    if instance is None:
        return "the instance no longer exists"
    if instance.status != "running":
        return f"the relationship is {instance.status}"
    if instance.revision == move.revision_after:
        return None
    later = session.scalar(select(func.count()).select_from(InstanceMove).where(
        InstanceMove.instance_id == move.instance_id, InstanceMove.id > move.id))
    if later:
        return "the relationship was moved again since: undo the later migration first"
    done = session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.instance_id == move.instance_id, HumanTask.state == "completed",
        HumanTask.completed_at >= move.moved_at))
    if done:
        return f"the relationship has moved on since: {done} task{'s' if done != 1 else ''} completed"
    return "the relationship has changed since (a timer fired, or it was repaired or suspended)"


def undo(session: Session, engine: WorkflowEngine, *, user: User | None, move_id: int,
         now: datetime | None = None, mail: MailSettings | None = None):
    """Put an instance back on its old version with its old state. Refused (Conflict, with the reason in words)
    once it moved on."""
    _require_owner(user)
    move = session.get(InstanceMove, move_id)
    if move is None:
        raise NotFound(f"migration {move_id} does not exist")
    if move.undone_at is not None:
        raise Conflict("this migration was already undone")
    blocker = undo_blocker(session, move)
    if blocker is not None:
        raise Conflict(f"migration {move_id} can no longer be undone: {blocker}", reason=blocker)
    now = now or utcnow()

    def act():
        result = bound(engine, session, user, now=now).restore(
            move.instance_id, move.from_version_id, move.old_state, expected_revision=move.revision_after, now=now)
        move.undone_at = now
        return result

    try:
        return run_action(session, engine, user, now, act, mail=mail)
    except Conflict:  # changed between the check and the save
        session.rollback()
        raise Conflict(f"migration {move_id} can no longer be undone: the relationship changed meanwhile",
                       reason="the relationship changed meanwhile") from None
