"""Relationships: start one, list them with their progress through the eight stages, and show one.

Progress is read from rows (ready and past human tasks, timers), never by loading a workflow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from workflows import Result, WorkflowEngine

from ..access import services as access
from ..audit.models import AuditEvent
from ..audit.services import record
from ..auth.models import Organisation, RelationshipPartner, RelationshipProfile, User
from ..auth.permissions import Permission, may
from ..errors import BadRequest, Forbidden
from ..evidence import services as evidence
from ..evidence.models import EvidenceFile
from ..inbox.queries import TaskRow, open_tasks
from ..management import services as management
from ..notifications.services import MailSettings, notify_people
from ..processes.models import HumanTask, ProcessInstance, Timer
from ..processes.services import latest_process_ids, start_instance
from ..stages import ISSUE_PROCESS, ISSUE_STAGES, STAGE_NAMES, stage_of
from . import diagrams

LIFECYCLE = "lifecycle"
LIST_LIMIT = 200


@dataclass
class Progress:
    """Where a relationship stands: one of eight stages, and whether it still runs."""

    current: int | None  # the stage being worked, or the last one worked
    status: str  # running | completed | cancelled
    outcome: str | None = None

    def state_of(self, number: int) -> str:
        if self.current is None:
            return "todo"
        if number < self.current:
            return "done"
        if number == self.current:
            return "done" if self.status == "completed" else ("stopped" if self.status == "cancelled" else "current")
        return "skipped" if self.status != "running" else "todo"

    @property
    def label(self) -> str:
        if self.current is None:
            return "Not started" if self.status == "running" else self.status.capitalize()
        return f"Stage {self.current} · {STAGE_NAMES[self.current]}"


@dataclass
class Summary:
    instance: ProcessInstance
    partner: str | None
    progress: Progress
    open_tasks: int = 0
    overdue: int = 0
    next_review: datetime | None = None
    partners: list[str] = field(default_factory=list)  # every partner organisation's name, the lead partner first

    @property
    def title(self) -> str:
        return self.instance.title or f"Relationship #{self.instance.id}"


def _root_of_instance():
    """(instance alias, SQL root id, joins): an instance's relationship is its indexed `root_id`."""
    instance = aliased(ProcessInstance)
    return instance, instance.root_id, lambda query: query


def summaries(session: Session, *, now: datetime, status: str = "", limit: int = LIST_LIMIT,
              only: int | None = None, viewer: User | None = None) -> list[Summary]:
    """The relationships (top-level instances) `viewer` may see, newest first, each with progress and counts
    (a partner's counts are of the joint tasks only)."""
    query = select(ProcessInstance, RelationshipProfile.partner_name).outerjoin(
        RelationshipProfile, RelationshipProfile.instance_id == ProcessInstance.id).where(
        ProcessInstance.parent_id.is_(None))
    partner = viewer is not None and not access.sees_everything(viewer)
    if partner:
        query = query.where(ProcessInstance.id.in_(access.relationships_of(viewer.organisation_id)))
    if only is not None:  # any top-level instance has its page (a process started by hand, the management system)
        query = query.where(ProcessInstance.id == only)
    else:  # the list: relationships only
        query = query.where(ProcessInstance.process_id == LIFECYCLE)
    if status in ("running", "completed", "cancelled"):
        query = query.where(ProcessInstance.status == status)
    roots = session.execute(query.order_by(ProcessInstance.created_at.desc(), ProcessInstance.id.desc())
                            .limit(limit)).all()
    ids = [r.ProcessInstance.id for r in roots]
    if not ids:
        return []
    instance, root, joins = _root_of_instance()
    ready = session.execute(joins(select(root, HumanTask.process_id, HumanTask.due_at).select_from(HumanTask)
                                  .join(instance, instance.id == HumanTask.instance_id))
                            .where(HumanTask.state == "ready", root.in_(ids))).all()
    history = session.execute(joins(select(root, HumanTask.process_id, func.max(HumanTask.id))
                                    .select_from(HumanTask).join(instance, instance.id == HumanTask.instance_id))
                              .where(root.in_(ids), HumanTask.process_id.like("stage%"))
                              .group_by(root, HumanTask.process_id)).all()
    reviews = dict(session.execute(joins(select(root, func.min(Timer.due_at)).select_from(Timer)
                                         .join(instance, instance.id == Timer.instance_id))
                                   .where(root.in_(ids)).group_by(root)).all())
    by_root: dict[int, Summary] = {}
    last_stage: dict[int, tuple[int, int]] = {}
    for root_id, process_id, newest in history:
        number = stage_of(process_id).number
        if number and newest > last_stage.get(root_id, (0, 0))[1]:
            last_stage[root_id] = (number, newest)
    for found in roots:
        row = found.ProcessInstance
        outcome = (row.data or {}).get("outcome") if row.status != "running" else None
        by_root[row.id] = Summary(row, found.partner_name, Progress(last_stage.get(row.id, (None, 0))[0], row.status,
                                                                    outcome if isinstance(outcome, str) else None),
                                  next_review=reviews.get(row.id))
    running_stage: dict[int, int] = {}
    for root_id, process_id, due_at in ready:
        summary = by_root[root_id]
        if not partner or access.joint_process(process_id):
            summary.open_tasks += 1
            summary.overdue += bool(due_at is not None and due_at < now)
        number = stage_of(process_id).number
        if number:
            running_stage[root_id] = max(running_stage.get(root_id, 0), number)
    for root_id, number in running_stage.items():
        by_root[root_id].progress.current = number
    for root_id, names in access.partner_names(session, ids).items():
        by_root[root_id].partners = names
    return [by_root[i] for i in ids]


@dataclass
class Detail:
    summary: Summary
    tasks: list[TaskRow]
    events: list[tuple[AuditEvent, str | None]]
    event_count: int
    files: list[EvidenceFile]
    linked: list[ProcessInstance]
    diagrams: list[diagrams.Diagram] = field(default_factory=list)
    people: dict[int, User] = field(default_factory=dict)
    issues: list[LinkedIssue] = field(default_factory=list)
    partner_without_ser: str | None = None  # the partners' names ("A and B") with no active SER (our users only)
    partners_without_ser: list[str] = field(default_factory=list)  # the same, one by one

    @property
    def other_linked(self) -> list[ProcessInstance]:
        """The linked processes that are not issues (periodic reviews, ...): issues have their own list."""
        return [m for m in self.linked if m.process_id != ISSUE_PROCESS]


@dataclass
class LinkedIssue:
    """An issue-resolution instance of a relationship: its title, status and the level it is worked at."""

    instance: ProcessInstance
    title: str
    level: str | None  # "Level 2", "Being logged", ... while running; None once it ended
    tasks: list[HumanTask] = field(default_factory=list)  # its ready tasks

    @property
    def outcome(self) -> str | None:
        outcome = (self.instance.data or {}).get("outcome") if self.instance.status != "running" else None
        return outcome.replace("_", " ") if isinstance(outcome, str) else None


_LEVEL = re.compile(r"^ir_level(\d+)")


def level_of(bpmn_ids) -> str | None:
    """The escalation level of an issue from the ids of its ready tasks (ir_level1, ir_level3_ser, ...)."""
    levels = sorted({int(m.group(1)) for m in map(_LEVEL.match, bpmn_ids) if m})
    if levels:
        return f"Level {levels[-1]}"
    return "Being logged" if "ir_log_issue" in bpmn_ids else None


def linked_issues(session: Session, relationship_id: int) -> list[LinkedIssue]:
    """The issues raised on a relationship, newest first, read from rows (never by loading a workflow).

    The title is the instance's title; an issue started without one (`raise_issue` passes it in the start
    data as `issue_title`) is named from the data its tasks were completed with, else "Issue #id".
    """
    found = list(session.scalars(select(ProcessInstance).where(
        ProcessInstance.parent_id == relationship_id, ProcessInstance.process_id == ISSUE_PROCESS)
        .order_by(ProcessInstance.created_at.desc(), ProcessInstance.id.desc())))
    if not found:
        return []
    rows = session.scalars(select(HumanTask).where(HumanTask.instance_id.in_([i.id for i in found]),
                                                   HumanTask.state.in_(("ready", "completed")))
                           .order_by(HumanTask.id)).all()
    ready: dict[int, list[HumanTask]] = {}
    titles: dict[int, str] = {}
    for row in rows:
        if row.state == "ready":
            ready.setdefault(row.instance_id, []).append(row)
        title = (row.submitted or {}).get("issue_title")
        if isinstance(title, str) and title.strip():
            titles[row.instance_id] = title.strip()
    issues = []
    for instance in found:
        title = instance.title or titles.get(instance.id) or (instance.data or {}).get("issue_title")
        tasks = ready.get(instance.id, [])
        level = level_of([t.bpmn_id for t in tasks]) if instance.status == "running" else None
        issues.append(LinkedIssue(instance, title if isinstance(title, str) and title else f"Issue #{instance.id}",
                                  level, tasks))
    return issues


def may_raise(user: User, relationship: ProcessInstance, stage: int | None) -> bool:
    """Whether the page offers raising issues and exit triggers: the roles and stages the lifecycle allows
    (`app.lifecycle.services.raise_issue` decides again, and its refusal is what counts)."""
    allowed = may(user, Permission.START_RELATIONSHIPS)
    return allowed and relationship.status == "running" and stage in ISSUE_STAGES


def relationship(session: Session, relationship_id: int, *, now: datetime, trail: int | None = 50,
                 viewer: User | None = None) -> Detail:
    """One relationship with its open tasks, audit trail, evidence and diagrams, as `viewer` may see it: a
    partner organisation's user sees only its own relationships' joint parts. Raises NotFound."""
    root = access.relationship_or_404(session, relationship_id)
    partner = viewer is not None and not access.sees_everything(viewer)
    if viewer is not None:
        access.require_relationship(session, viewer, root.id)
    summary = summaries(session, now=now, only=root.id, viewer=viewer)[0]
    instance, root_id, joins = _root_of_instance()
    members = list(session.scalars(joins(select(instance).select_from(instance)).where(root_id == root.id)
                                   .order_by(instance.id)))
    member_ids = [m.id for m in members]
    in_trail = AuditEvent.instance_id.in_(member_ids)
    if partner:
        in_trail = in_trail & partner_trail(session, root.id, member_ids)
    events = session.execute(select(AuditEvent, User.display_name).outerjoin(User, User.id == AuditEvent.actor_id)
                             .where(in_trail).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                             .limit(trail or 10_000)).all()
    count = session.scalar(select(func.count()).select_from(AuditEvent).where(in_trail))
    tasks = open_tasks(session, root.id, now=now)
    files = evidence.for_relationship(session, root.id)
    if partner:
        tasks = [t for t in tasks if access.joint_process(_process_of(session, t.id))]
        files = evidence.visible_to(session, viewer, files)
    detail = Detail(summary, tasks, [(e, name) for e, name in events], count, files,
                    [m for m in members if m.id != root.id])
    detail.diagrams = _diagrams(session, root, members, tasks, summary.progress)
    detail.issues = linked_issues(session, root.id)
    if not partner:
        detail.partners_without_ser = access.partners_without_ser(session, [root.id]).get(root.id) or []
        detail.partner_without_ser = " and ".join(detail.partners_without_ser) or None
    return detail


def _process_of(session: Session, human_task_id: int) -> str | None:
    return session.scalar(select(HumanTask.process_id).where(HumanTask.id == human_task_id))


def partner_trail(session: Session, root_id: int, member_ids: list[int]):  # SQL condition on AuditEvent
    """The audit events a partner may read: those of linked joint processes (issues, reviews), and those of
    the relationship itself that concern a joint task (never our stages 1-4)."""
    internal_ids = list(session.scalars(select(HumanTask.task_id).where(
        HumanTask.instance_id == root_id, or_(*(HumanTask.process_id.like(f"stage{n}%")
                                                for n in sorted(access.INTERNAL_STAGES))))))
    others = [m for m in member_ids if m != root_id]
    return or_(AuditEvent.instance_id.in_(others),
               (AuditEvent.instance_id == root_id) & AuditEvent.task_id.is_not(None)
               & AuditEvent.task_id.not_in(internal_ids or [""]))


def _diagrams(session, root, members, tasks, progress: Progress) -> list[diagrams.Diagram]:
    """The relationship's own diagram, then the diagram of each process with ready tasks (the current stage).

    Each is marked with where the relationship is now (ready tasks, the call activities leading to them) and
    the path it took (its completed tasks, the call activities of its completed stages).
    """
    version_of = {m.id: m.version_id for m in members}
    ready = session.execute(select(HumanTask.instance_id, HumanTask.process_id, HumanTask.bpmn_id).where(
        HumanTask.id.in_([t.id for t in tasks]))).all() if tasks else []
    running = {p for _i, p, _b in ready}
    ready_ids = {b for _i, _p, b in ready}
    active = diagrams.active_processes(session, root.version_id, running)
    completed = _completed_tasks(session, [m.id for m in members])
    worked = {stage_of(p).number for p, _b in completed.get(root.id, set())}
    done_stages = {n for n in STAGE_NAMES if progress.state_of(n) == "done" and n in worked}  # not skipped by an exit
    shown = [diagrams.diagram(session, root.version_id, root.process_id, "The relationship's lifecycle",
                              ready_bpmn_ids=ready_ids, active=active, completed=completed.get(root.id, set()),
                              done_stages=done_stages)]
    seen = {shown[0].file} if shown[0] else set()
    for instance_id, process_id, _bpmn in sorted(ready, key=lambda r: -(stage_of(r[1]).number or 0)):
        version_id = version_of.get(instance_id, root.version_id)
        found = diagrams.diagram(session, version_id, process_id, f"Current stage: {stage_of(process_id).label}"
                                 if stage_of(process_id).number else f"Now running: {stage_of(process_id).label}",
                                 ready_bpmn_ids=ready_ids, active=active, completed=completed.get(instance_id, set()),
                                 done_stages=done_stages if instance_id == root.id else set())
        if found and found.file not in seen and len(seen) < 3:
            seen.add(found.file)
            shown.append(found)
    return [d for d in shown if d is not None]


def _completed_tasks(session, instance_ids) -> dict[int, set[tuple[str, str]]]:
    """Per instance, the (process id, bpmn id) of its completed human tasks."""
    done: dict[int, set[tuple[str, str]]] = {}
    for instance_id, process_id, bpmn_id in session.execute(
            select(HumanTask.instance_id, HumanTask.process_id, HumanTask.bpmn_id).where(
                HumanTask.instance_id.in_(instance_ids), HumanTask.state == "completed").distinct()):
        done.setdefault(instance_id, set()).add((process_id, bpmn_id))
    return done


def partner_organisation(session: Session, name: str) -> Organisation:
    """The partner organisation of that name (any case), created when new: its users, once an administrator
    adds them, see this relationship's joint parts."""
    found = session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower(),
                                                      Organisation.kind == "partner"))
    if found is None:
        if session.scalar(select(Organisation.id).where(func.lower(Organisation.name) == name.lower())):
            raise BadRequest(f"{name!r} is our own organisation's name, not a partner's",
                             {"partner": "name the partner organisation"})
        found = Organisation(name=name, kind="partner")
        session.add(found)
        session.flush()
    return found


def partner_errors(session: Session, names: list[str], *, field: str = "partners",
                   already: list[str] = ()) -> dict[str, str]:
    """What is wrong with these partner organisations' names (nothing is created here): each named, under 200
    characters, named once, not our own organisation, not a deactivated one, not a partner already."""
    taken = {n.casefold() for n in already}
    seen: set[str] = set()
    problems = []
    for name in names:
        if not name:
            problems.append("Name the partner organisation.")
        elif len(name) > 200:
            problems.append(f"Keep the partner's name under 200 characters ({name[:40]}…).")
        elif name.casefold() in seen or name.casefold() in taken:
            problems.append(f"{name} is named twice: each partner organisation once.")
        else:
            seen.add(name.casefold())
            found = session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower()))
            if found is not None and found.kind != "partner":
                problems.append(f"{name} is our own organisation, not a partner.")
            elif found is not None and not found.active:
                problems.append(f"{name} is deactivated: an administrator must reactivate it first.")
    if not names:
        problems.append("Name the partner organisation.")
    return {field: " ".join(problems)} if problems else {}


def lifecycle_deployed(session: Session) -> bool:
    return LIFECYCLE in latest_process_ids(session)


def start(session: Session, engine: WorkflowEngine, user: User, *, title: str, partner: str = "",
          partners: list[str] | None = None, now: datetime, mail: MailSettings | None = None) -> Result:
    """Start a relationship on the deployed lifecycle with one partner organisation (`partner`) or several
    (`partners`, an alliance; the first is the lead partner). Raises BadRequest (fields, nothing deployed),
    Forbidden; nothing is changed then."""
    title = (title or "").strip()
    names = [(n or "").strip() for n in ([partner] if partner or not partners else []) + list(partners or [])]
    names = [n for n in names if n] if len(names) > 1 else names  # an empty extra row of the form is no partner
    errors = {}
    if not title:
        errors["title"] = "Give the relationship a name."
    elif len(title) > 300:
        errors["title"] = "Keep the name under 300 characters."
    errors.update(partner_errors(session, names, field="partner"))
    if user.is_partner:
        raise Forbidden("relationships are started by our own organisation; a partner joins at stage 5")
    if errors:
        session.rollback()
        raise BadRequest("some fields need attention", errors)
    if not lifecycle_deployed(session):
        session.rollback()
        raise BadRequest("no lifecycle is deployed yet: a process owner must deploy the diagrams first "
                         "(collabflow deploy)", {"(form)": "no lifecycle process deployed"})
    session.rollback()
    result = start_instance(session, engine, user=user, process_id=LIFECYCLE, title=title, now=now,
                            data={"relationship_name": title, "partner_organisation": names[0],
                                  "partner_organisations": names}, mail=mail)
    organisations = [partner_organisation(session, name) for name in names]
    session.add(RelationshipProfile(instance_id=result.instance_id, partner_name=names[0], created_at=now,
                                    partner_organisation_id=organisations[0].id))
    session.add_all(RelationshipPartner(instance_id=result.instance_id, organisation_id=org.id, partner_name=name,
                                        position=i, created_at=now)
                    for i, (name, org) in enumerate(zip(names, organisations, strict=True)))
    management.record_foundation(session, result.instance_id, now)
    record(session, "relationship.described", actor=user, instance_id=result.instance_id, at=now,
           payload={"title": title, "partner": names[0], "partner_organisation_id": organisations[0].id,
                    **({"partners": names, "partner_organisation_ids": [o.id for o in organisations]}
                       if len(names) > 1 else {})})
    session.flush()
    _warn_without_ser(session, result.instance_id, title, now)
    session.commit()
    return result


def _warn_without_ser(session: Session, relationship_id: int, title: str, now: datetime) -> None:
    missing = access.partners_without_ser(session, [relationship_id]).get(relationship_id)
    if missing:
        verb = "have" if len(missing) > 1 else "has"
        notify_people(session, management.our_sers(session), kind="no_partner_ser", instance_id=relationship_id,
                      now=now, title=f"{' and '.join(missing)} {verb} no SER yet: {title} will wait at its first "
                                     "joint gate (stage 5)")


def may_add_partner(user: User, relationship: ProcessInstance) -> bool:
    """Whether the page offers adding a partner organisation (`add_partner` decides again)."""
    return (not user.is_partner and may(user, Permission.MANAGE_LANE_TASKS) and relationship.parent_id is None
            and relationship.process_id == LIFECYCLE and relationship.status == "running")


def add_partner(session: Session, user: User, relationship_id: int, name: str, *, now: datetime) -> Organisation:
    """Add a partner organisation to a running relationship (an alliance grows): our SERs and administrators.
    Its users see the joint parts from now on, and its SER decides the joint partner tasks still open as well
    as later ones (`app.inbox.partner_decisions`). Raises Forbidden, NotFound, BadRequest; nothing is changed
    then."""
    if user.is_partner or not may(user, Permission.MANAGE_LANE_TASKS):
        raise Forbidden("only our SERs and administrators add partner organisations to a relationship")
    root = access.relationship_or_404(session, relationship_id, user, process_id=LIFECYCLE)
    name = (name or "").strip()
    current = access.partners(session, root.id)
    errors = partner_errors(session, [name], field="partner",
                            already=[n for _org, n in current] + access.partner_names(session, [root.id]).get(root.id, []))
    if root.status != "running":
        errors.setdefault("(form)", f"the relationship is {root.status}: partners join a running relationship")
    if errors:
        session.rollback()
        raise BadRequest("the partner cannot be added", errors)
    organisation = partner_organisation(session, name)
    session.add(RelationshipPartner(instance_id=root.id, organisation_id=organisation.id, partner_name=name,
                                    position=len(current), created_at=now))
    profile = session.get(RelationshipProfile, root.id)
    if profile is None:  # a relationship started without a partner: this one leads
        session.add(RelationshipProfile(instance_id=root.id, partner_name=name, created_at=now,
                                        partner_organisation_id=organisation.id))
    record(session, "relationship.partner_added", actor=user, instance_id=root.id, at=now,
           payload={"partner": name, "partner_organisation_id": organisation.id,
                    "partners": [n for _org, n in current] + [name]})
    session.flush()
    _warn_without_ser(session, root.id, root.title or f"Relationship #{root.id}", now)
    session.commit()
    return organisation
