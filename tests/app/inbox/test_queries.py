"""The inbox queries (issue 9, benchmark B3): what the store writes for them (a relationship id on every
instance, a concrete role on every task), what migration 0007 backfills, and that the inbox still lists the
same tasks in the same order with the same counts, filters and drop-down choices, as the rules say them
in plain Python below."""

from __future__ import annotations

import os
import random
import uuid
from datetime import timedelta
from itertools import count, product

import pytest
from sqlalchemy import create_engine, insert, select, text, update

from app.auth.models import RelationshipProfile
from app.inbox import queries
from app.inbox.queries import PAGE_SIZE, InboxFilters
from app.processes.models import HumanTask, ProcessInstance, ProcessVersion
from app.processes.store import SqlInstanceStore
from app.stages import stage_of
from tests.support.bundles import T0
from workflows import InstanceRecord, UserTask

LANES = [None, "Staff", "SER", "Joint management team", "Partner SER", "A lane nobody mapped"]
PROCESSES = ["lifecycle", "stage1_awareness", "stage2_knowledge", "stage5_working_together", "issue_resolution"]


def _version(session) -> int:
    return session.execute(insert(ProcessVersion).values(
        content_hash="0" * 64, created_at=T0, process_ids=[], spec_json="{}").returning(ProcessVersion.id)).scalar()


def _task(n: int, lane: str | None, process_id: str, due_at=None) -> UserTask:
    return UserTask(id=str(uuid.UUID(int=n)), bpmn_id=f"task_{n % 7}", name=f"Task {n % 9:02d}", lane=lane,
                    process_id=process_id, form=None, ui_form=None, instructions=None, documentation=None,
                    due_at=due_at)


def _create(session, version_id, *, parent_id=None, title=None, tasks=(), now=T0) -> int:
    store = SqlInstanceStore(session, now=now, title=title)
    record = InstanceRecord(None, version_id, "lifecycle" if parent_id is None else "issue_resolution", "running",
                            "{}", 1, 0, parent_id, ready_tasks=list(tasks))
    return store.create_instance(record)


# ------------------------------------------------------------------------------ what the store writes
def test_every_instance_knows_its_relationship(session):
    version_id = _version(session)
    top = _create(session, version_id, title="Top")
    child = _create(session, version_id, parent_id=top)
    grandchild = _create(session, version_id, parent_id=child)
    other = _create(session, version_id, title="Other")
    session.commit()
    roots = dict(session.execute(select(ProcessInstance.id, ProcessInstance.root_id)).all())
    assert roots == {top: top, child: top, grandchild: top, other: other}
    for instance_id in (top, child, grandchild):
        assert queries.root_instance(session, instance_id).id == top


def test_a_task_outside_the_mapped_lanes_is_stored_as_staff_work(session):
    version_id = _version(session)
    _create(session, version_id, title="Lanes", tasks=[_task(n, lane, "lifecycle") for n, lane in enumerate(LANES)])
    session.commit()
    stored = dict(session.execute(select(HumanTask.lane, HumanTask.role)).all())
    assert stored == {None: "staff", "Staff": "staff", "SER": "ser", "Joint management team": "jmt",
                      "Partner SER": "ser", "A lane nobody mapped": "staff"}


# ------------------------------------------------------------------------------ the same inbox as the rules say
@pytest.fixture
def crowd(session, users):
    """Relationships with linked instances two levels down, tasks in every lane, stage and state, some claimed,
    some due (with ties on due date, creation time and name, so the tie-breaks count)."""
    rng = random.Random(9)
    version_id = _version(session)
    numbers = count()
    due = [None, None, T0 - timedelta(days=1), T0 + timedelta(days=2), T0 + timedelta(days=2)]

    def tasks(k):
        return [_task(next(numbers), rng.choice(LANES), rng.choice(PROCESSES), rng.choice(due)) for _ in range(k)]

    instances = []
    for r in range(7):
        created = T0 + timedelta(minutes=rng.choice([0, 1, 2]))
        top = _create(session, version_id, title=f"Relationship {r % 5:02d}", tasks=tasks(9), now=created)
        child = _create(session, version_id, parent_id=top, tasks=tasks(4), now=created + timedelta(minutes=1))
        grandchild = _create(session, version_id, parent_id=child, tasks=tasks(3), now=created)
        instances += [top, child, grandchild]
    people = [u.id for u in users.values()] + [None] * 12
    for row_id in session.scalars(select(HumanTask.id)):
        session.execute(update(HumanTask).where(HumanTask.id == row_id).values(
            assignee_id=rng.choice(people), state=rng.choice(["ready"] * 5 + ["completed", "cancelled"])))
    session.commit()
    return instances


def _expected(session, user, filters: InboxFilters, now):
    """The inbox as the rules say it, over every row, in Python."""
    instances = {i.id: i for i in session.scalars(select(ProcessInstance))}

    def root(instance):
        while instance.parent_id is not None:
            instance = instances[instance.parent_id]
        return instance

    roles = user.roles
    # a partner works only on the relationships its organisation is the partner of
    theirs = set(session.scalars(select(RelationshipProfile.instance_id).where(
        RelationshipProfile.partner_organisation_id == user.organisation_id)))

    def workable(t):
        if "assessor" in roles and not roles & {"staff", "ser", "jmt", "admin"}:
            return False
        if user.is_partner and root(instances[t.instance_id]).id not in theirs:
            return False
        return (t.role or "staff") in roles and (t.joint or t.partner_side == user.is_partner)

    visible = [t for t in session.scalars(select(HumanTask)) if t.state == "ready" and (
        t.assignee_id == user.id or (t.assignee_id is None and workable(t)))]
    overdue = lambda t: t.due_at is not None and t.due_at < now  # noqa: E731
    counts = {"mine": sum(t.assignee_id == user.id for t in visible),
              "claimable": sum(t.assignee_id is None for t in visible),
              "overdue": sum(overdue(t) for t in visible), "all": len(visible)}
    title = lambda t: root(instances[t.instance_id]).title  # noqa: E731
    chosen = [t for t in visible if (
        (filters.scope != "mine" or t.assignee_id == user.id)
        and (filters.scope != "claimable" or t.assignee_id is None)
        and (filters.relationship is None or root(instances[t.instance_id]).id == filters.relationship)
        and (not filters.stage or stage_of(t.process_id).key == filters.stage)
        and (not filters.role or (t.role or "staff") == filters.role)
        and (not filters.overdue or overdue(t)))]
    far = T0 + timedelta(days=10_000)
    key = {
        "due": lambda t: (t.due_at is None, t.due_at or far, t.created_at, t.id),
        "newest": lambda t: (-t.created_at.timestamp(), -t.id),
        "oldest": lambda t: (t.created_at, t.id),
        "name": lambda t: (t.name, t.id),
        "relationship": lambda t: (title(t), t.created_at, t.id),
    }[filters.sort]
    chosen.sort(key=key)
    pages = max(1, -(-len(chosen) // PAGE_SIZE))
    page = min(filters.page, pages)
    shown = [t.id for t in chosen[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]]
    relationships = sorted({(root(instances[t.instance_id]).id, title(t)) for t in visible},
                           key=lambda x: (x[1].lower(), x[0]))
    stages = sorted({stage_of(t.process_id) for t in visible}, key=lambda s: (s.number or 99, s.label))
    return shown, len(chosen), page, pages, counts, relationships, stages


FILTERS = [InboxFilters(scope=scope, relationship=relationship, stage=stage, role=role, overdue=overdue, sort=sort,
                        page=page)
           for scope, relationship, stage, role, overdue, sort, page in product(
               ["", "mine", "claimable"], [None, "first"], ["", "stage2", "issue_resolution"], ["", "staff", "jmt"],
               [False, True], ["due", "relationship"], [1])] + [
    InboxFilters(sort=sort, page=page) for sort in ["due", "newest", "oldest", "name", "relationship"]
    for page in (1, 2, 3, 99)]


@pytest.mark.parametrize("who", ["staff", "ser", "pser", "jmt", "admin", "assessor"])
def test_the_inbox_lists_what_the_rules_say(session, users, crowd, who):
    user, now = users[who], T0 + timedelta(hours=1)
    for filters in FILTERS:
        if filters.relationship == "first":
            filters = InboxFilters(**{**filters.__dict__, "relationship": crowd[0]})
        found = queries.inbox(session, user, filters, now=now)
        shown, total, page, pages, counts, relationships, stages = _expected(session, user, filters, now)
        assert ([r.id for r in found.rows], found.total, found.page, found.pages, found.counts) == (
            shown, total, page, pages, counts), filters
        for row in found.rows:
            assert queries.root_instance(session, session.get(HumanTask, row.id).instance_id).id == row.relationship_id
    assert (found.relationships, found.stages) == (relationships, stages)
    assert queries.filter_options(session, user) == (relationships, stages)
    assert queries.inbox_count(session, user) == counts["all"]


def test_open_tasks_of_a_relationship_include_its_linked_instances(session, crowd):
    top, child, grandchild = crowd[:3]
    expected = session.scalars(select(HumanTask.id).where(
        HumanTask.instance_id.in_([top, child, grandchild]), HumanTask.state == "ready")
        .order_by(HumanTask.created_at, HumanTask.id)).all()
    assert [t.id for t in queries.open_tasks(session, top, now=T0)] == expected
    assert {t.relationship_id for t in queries.open_tasks(session, top, now=T0)} == {top}


def test_the_header_count_reuses_the_pages_count_until_the_transaction_ends(session, users, crowd):
    staff = users["staff"]
    page = queries.inbox(session, staff, InboxFilters(), now=T0)
    claimable = session.scalar(select(HumanTask.id).where(queries.visible_to_work(staff),
                                                          HumanTask.assignee_id.is_(None)))
    assert queries.inbox_count(session, staff) == page.counts["all"]
    assert queries.inbox_count(session, users["ser"]) == queries.inbox(
        session, users["ser"], InboxFilters(), now=T0).counts["all"]
    session.execute(update(HumanTask).where(HumanTask.id == claimable).values(state="completed"))
    session.commit()
    assert queries.inbox_count(session, staff) == page.counts["all"] - 1


# ------------------------------------------------------------------------------ migration 0007 backfills
@pytest.fixture
def empty_database(tmp_path):
    """A database URL of its own: a SQLite file, or a fresh schema of the PostgreSQL test database."""
    url = os.environ.get("COLLABFLOW_TEST_DATABASE_URL")
    if url is None:
        yield f"sqlite:///{tmp_path / 'migration.sqlite3'}"
        return
    schema = f"inbox_migration_{os.getpid()}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


def test_migration_0007_backfills_relationships_and_roles(empty_database):
    from app.migrate import upgrade
    upgrade(empty_database, "0006")
    engine = create_engine(empty_database)
    instances = ProcessInstance.__table__
    try:
        with engine.begin() as connection:
            version_id = connection.execute(insert(ProcessVersion.__table__).values(
                content_hash="0" * 64, created_at=T0, process_ids=[], spec_json="{}")
                .returning(ProcessVersion.__table__.c.id)).scalar()

            def instance(parent_id=None):
                return connection.execute(insert(instances).values(
                    version_id=version_id, process_id="p", parent_id=parent_id, status="running", state="{}",
                    state_format=1, revision=1, data={}, created_at=T0, updated_at=T0)
                    .returning(instances.c.id)).scalar()

            top = instance()
            child = instance(top)
            grandchild = instance(child)
            deeper = instance(grandchild)
            alone = instance()
            for n, (lane, role) in enumerate([(None, None), ("Staff", "staff"), ("SER", "ser"), ("X", None)]):
                connection.execute(insert(HumanTask.__table__).values(
                    instance_id=child, task_id=f"t{n}", bpmn_id="b", name="n", process_id="p", lane=lane, role=role,
                    partner_side=False, approval_gate=False, properties={}, state="ready", created_at=T0))
        upgrade(empty_database, "0007")
        with engine.connect() as connection:
            roots = dict(connection.execute(text("SELECT id, root_id FROM process_instances")).all())
            roles = dict(connection.execute(text("SELECT task_id, role FROM human_tasks")).all())
    finally:
        engine.dispose()
    assert roots == {top: top, child: top, grandchild: top, deeper: top, alone: alone}
    assert roles == {"t0": "staff", "t1": "staff", "t2": "ser", "t3": "staff"}


def test_the_drop_downs_are_read_again_when_the_inbox_changes_and_only_then(services, session, users):
    """The page's drop-down choices are kept per user and inbox content (B3): the same inbox reads them from the
    app's cache without a statement; a task arriving in the inbox, or leaving it, reads them again."""
    from sqlalchemy import event

    version_id = _version(session)
    alpha = _create(session, version_id, title="Alpha", tasks=[_task(9001, "Staff", "stage2_knowledge")])
    session.commit()
    staff, now = users["staff"], T0 + timedelta(hours=1)

    def choices():
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(services.db_engine, "before_cursor_execute", listener)
        try:
            with services.sessions() as fresh:  # as a request would: its own session, the app's cache
                found = queries.inbox(fresh, fresh.get(type(staff), staff.id), InboxFilters(), now=now,
                                      options_cache=services.inbox_options)
                shown = found.relationships, [s.key for s in found.stages]
        finally:
            event.remove(services.db_engine, "before_cursor_execute", listener)
        drop_downs = [s for s in map(" ".join, map(str.split, statements))  # filter_options' two statements
                      if s.startswith("SELECT DISTINCT human_tasks.process_id")
                      or s.startswith("SELECT process_instances.id, process_instances.title FROM process_instances")]
        return (*shown, len(drop_downs))

    assert choices() == ([(alpha, "Alpha")], ["stage2"], 2)
    assert choices() == ([(alpha, "Alpha")], ["stage2"], 0)  # the same inbox: from the cache
    beta = _create(session, version_id, title="Beta", tasks=[_task(9002, "Staff", "stage5_working_together")])
    session.commit()
    assert choices() == ([(alpha, "Alpha"), (beta, "Beta")], ["stage2", "stage5"], 2)
    session.execute(update(HumanTask).where(HumanTask.instance_id == alpha).values(state="completed"))
    session.commit()
    assert choices() == ([(beta, "Beta")], ["stage5"], 2)
