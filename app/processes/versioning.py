"""Process owners' actions on versions: compare two, roll back (redeploy an old one as new), and move running
instances to a newer version after a dry run, each move recorded with the old state so it can be undone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import Conflict, MigrationRefused, MigrationVerdict, VersionDiff, WorkflowEngine

from ..auth.models import User
from ..auth.permissions import Permission, require
from ..db import utcnow
from ..errors import BadRequest, NotFound
from ..notifications.services import MailSettings
from .models import InstanceMove, ProcessInstance, ProcessVersion
from .services import deploy_version, run_action
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


def roll_back(session: Session, engine: WorkflowEngine, *, user: User | None, version_id: int,
              now: datetime | None = None) -> ProcessVersion:
    """Redeploy an old version's exact files as a new version (history is never rewritten)."""
    _require_owner(user)
    old = _version(session, version_id)
    files = {f.name: f.content for f in old.files if f.kind == "bpmn"}
    forms = {f.name: f.content for f in old.files if f.kind == "form"}
    version, _warnings, _created = deploy_version(session, engine, files, forms, user=user, now=now,
                                                  message=f"roll back to version {version_id}")
    return version


@dataclass(frozen=True)
class DryRunRow:
    instance_id: int
    title: str | None
    process_id: str
    from_version_id: int
    verdict: MigrationVerdict


def dry_run(session: Session, engine: WorkflowEngine, *, user: User | None, to_version_id: int,
            instance_ids: list[int] | None = None) -> list[DryRunRow]:
    """For each running instance on an older version (or the given ones): can it move, and if not, why."""
    _require_owner(user)
    _version(session, to_version_id)
    query = select(ProcessInstance).where(ProcessInstance.status == "running",
                                          ProcessInstance.version_id != to_version_id)
    if instance_ids is not None:
        query = query.where(ProcessInstance.id.in_(instance_ids))
    checker = bound(engine, session)
    return [DryRunRow(i.id, i.title, i.process_id, i.version_id, checker.check_migration(i.id, to_version_id))
            for i in session.scalars(query.order_by(ProcessInstance.id))]


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


def undo(session: Session, engine: WorkflowEngine, *, user: User | None, move_id: int,
         now: datetime | None = None, mail: MailSettings | None = None):
    """Put an instance back on its old version with its old state. Refused (Conflict) once it moved on."""
    _require_owner(user)
    move = session.get(InstanceMove, move_id)
    if move is None:
        raise NotFound(f"migration {move_id} does not exist")
    if move.undone_at is not None:
        raise BadRequest("this migration was already undone")
    now = now or utcnow()

    def act():
        result = bound(engine, session, user, now=now).restore(
            move.instance_id, move.from_version_id, move.old_state, expected_revision=move.revision_after, now=now)
        move.undone_at = now
        return result

    return run_action(session, engine, user, now, act, mail=mail)
