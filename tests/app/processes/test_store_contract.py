"""One contract, two stores: the in-memory twin and the SQL store behave the same for the engine."""

from __future__ import annotations

import pytest

from app.processes.store import SqlInstanceStore
from tests.support.bundles import T0, read_test_bundle
from workflows import Conflict, InMemoryStore, InstanceNotFound, SpecNotFound, WorkflowEngine


@pytest.fixture(params=["memory", "sql"])
def engine(request):
    if request.param == "memory":
        yield WorkflowEngine(InMemoryStore())
        return
    session = request.getfixturevalue("session")
    yield WorkflowEngine(SqlInstanceStore(session, now=T0))
    session.commit()


def test_versions_round_trip(engine):
    files, forms = read_test_bundle()
    version_id, compiled = engine.deploy(files, forms, author="owner", message="m")
    stored = engine.store.get_version(version_id)
    assert (stored.files, stored.forms, stored.content_hash) == (files, forms, compiled.content_hash)
    assert stored.process_ids == compiled.process_ids
    with pytest.raises(SpecNotFound):
        engine.store.get_version(version_id + 100)


def test_instances_round_trip_with_derived_rows(engine):
    version_id, _ = engine.deploy(*read_test_bundle())
    started = engine.start(version_id, "timers", {"limit": "P5D"}, now=T0)
    record = engine.store.get_instance(started.instance_id)
    assert (record.status, record.revision, record.process_id) == ("running", 1, "timers")
    assert [t.name for t in record.ready_tasks] == ["Resolve at level 1"]
    assert [(t.bpmn_id, t.due_at) for t in record.timers] == [("deadline", started.timers[0].due_at)]
    with pytest.raises(InstanceNotFound):
        engine.store.get_instance(started.instance_id + 100)


def test_save_refuses_a_stale_revision(engine):
    version_id, _ = engine.deploy(*read_test_bundle())
    started = engine.start(version_id, "approval", {})
    stale = engine.store.get_instance(started.instance_id)
    engine.complete_task(started.instance_id, started.ready[0].id, {"plan": "x"})
    with pytest.raises(Conflict):
        engine.store.save_instance(stale)


def test_linked_instances_are_listed_by_parent_and_process(engine):
    version_id, _ = engine.deploy(*read_test_bundle())
    parent = engine.start(version_id, "parent", {}, now=T0)
    (child,) = parent.linked
    assert engine.store.linked_instances(parent.instance_id) == [child.instance_id]
    assert engine.store.linked_instances(parent.instance_id, "child") == [child.instance_id]
    assert engine.store.linked_instances(parent.instance_id, "other") == []
