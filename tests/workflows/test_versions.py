"""Versions of running instances: the diff between two versions, the migration dry run that names what
stops an instance, migrating one, and undoing it."""

from __future__ import annotations

import pytest

from tests.support.bundles import read_test_bundle
from tests.support.versions import version_2, version_3
from workflows import Conflict, InMemoryStore, MigrationRefused, WorkflowEngine


@pytest.fixture
def versions():
    engine = WorkflowEngine(InMemoryStore())
    files, forms = read_test_bundle()
    v1, _ = engine.deploy(files, forms)
    v2, _ = engine.deploy(version_2(files), forms)
    return engine, v1, v2


def test_the_diff_lists_added_removed_and_changed_elements(versions):
    engine, v1, v2 = versions
    diff = engine.diff(v1, v2)
    assert [(c.process_id, c.element_id, c.name) for c in diff.added] == [("approval", "check", "Check the plan")]
    assert diff.removed == [] and diff.added_processes == diff.removed_processes == []
    changed = {c.element_id: c for c in diff.changed}
    assert "approve" in changed and "bpmn_name" in changed["approve"].attributes
    assert engine.diff(v1, v1).empty


def test_an_instance_whose_open_task_survives_migrates_and_follows_the_new_path(versions):
    engine, v1, v2 = versions
    started = engine.start(v1, "approval", {})
    assert engine.check_migration(started.instance_id, v2).can_migrate
    moved = engine.migrate(started.instance_id, v2)
    assert [e.action for e in moved.events] == ["instance.migrated"]
    assert engine.store.get_instance(started.instance_id).version_id == v2
    (task,) = moved.ready
    nxt = engine.complete_task(started.instance_id, task.id, {"plan": "grow"})
    assert [t.name for t in nxt.ready] == ["Check the plan"], "the new step of version 2"


def test_the_dry_run_names_the_open_task_that_would_be_lost(versions):
    engine, v1, _v2 = versions
    files, forms = read_test_bundle()
    v3, _ = engine.deploy(version_3(files), forms)
    started = engine.start(v1, "approval", {})
    at_approval = engine.complete_task(started.instance_id, started.ready[0].id, {"plan": "p"})
    verdict = engine.check_migration(started.instance_id, v3)
    assert not verdict.can_migrate
    assert verdict.reasons == ("approve (Approve the plan) is ready here but does not exist in the new version",)
    revision = engine.store.get_instance(started.instance_id).revision
    with pytest.raises(MigrationRefused, match="approve"):
        engine.migrate(started.instance_id, v3)
    assert engine.store.get_instance(started.instance_id).revision == revision, "a refusal changes nothing"
    assert [t.name for t in engine.ready_tasks(started.instance_id)] == [t.name for t in at_approval.ready]


def test_a_migration_can_be_undone_unless_someone_changed_the_instance_since(versions):
    engine, v1, v2 = versions
    started = engine.start(v1, "approval", {})
    before = engine.store.get_instance(started.instance_id)
    moved = engine.migrate(started.instance_id, v2)
    back = engine.restore(started.instance_id, v1, before.state, expected_revision=moved.revision)
    assert engine.store.get_instance(started.instance_id).version_id == v1
    assert [e.action for e in back.events] == ["instance.restored"]
    nxt = engine.complete_task(started.instance_id, back.ready[0].id, {"plan": "p"})
    assert [t.name for t in nxt.ready] == ["Approve the plan"], "version 1's path again"

    again = engine.migrate(started.instance_id, v2)
    engine.complete_task(started.instance_id, again.ready[0].id, {"decision": "rework", "comments": "x"})
    with pytest.raises(Conflict):
        engine.restore(started.instance_id, v1, before.state, expected_revision=again.revision)


def test_history_of_a_removed_element_also_stops_a_move(versions):
    """An instance whose history holds a task of a removed element could not be loaded after the move."""
    engine, v1, _v2 = versions
    files, forms = read_test_bundle()
    v3, _ = engine.deploy(version_3(files), forms)
    started = engine.start(v1, "approval", {})
    at_approval = engine.complete_task(started.instance_id, started.ready[0].id, {"plan": "p"})
    back = engine.complete_task(started.instance_id, at_approval.ready[0].id, {"decision": "rework", "comments": "x"})
    assert [t.name for t in back.ready] == ["Prepare the plan"]
    verdict = engine.check_migration(started.instance_id, v3)
    assert verdict.reasons == ("approve (Approve the plan) is in this instance's history but does not exist "
                               "in the new version",)


def test_the_diff_gives_each_changed_setting_with_its_old_and_new_value(versions):
    engine, v1, v2 = versions
    changed = {c.element_id: c for c in engine.diff(v1, v2).changed}
    details = {d.attribute: (d.old, d.new) for d in changed["approve"].details}
    assert details["name"] == ("Approve the plan", "Approve the checked plan")
    prepare = {d.attribute: (d.old, d.new) for d in changed["prepare"].details}
    assert prepare == {"next elements": ("approve", "check")}


def test_a_script_change_comes_with_the_lines_that_changed():
    from workflows.element_changes import changes
    old = {"typename": "ScriptTask", "script": "a = 1\nb = 2\nc = 3\n", "extensions": {}}
    new = {"typename": "ScriptTask", "script": "a = 1\nb = 20\nc = 3\n", "extensions": {}}
    (change,) = changes(old, new)
    assert change.attribute == "script"
    assert "- b = 2" in change.lines and "+ b = 20" in change.lines and "  a = 1" in change.lines


def test_the_full_dry_run_says_where_the_instance_is_and_the_new_task_ahead(versions):
    engine, v1, v2 = versions
    started = engine.start(v1, "approval", {})
    preview = engine.preview_migration(started.instance_id, v2)
    assert preview.verdict.can_migrate
    (at,) = preview.at
    assert (at.element_id, at.exists, at.form_changed) == ("prepare", True, False)
    assert [(c.process_id, c.element_id, c.name) for c in preview.ahead] == [("approval", "check", "Check the plan")]
    # past the place where the new task goes in, it is still ahead: the approval may send the plan back
    engine.complete_task(started.instance_id, started.ready[0].id, {"plan": "p"})
    preview = engine.preview_migration(started.instance_id, v2)
    assert [a.element_id for a in preview.at] == ["approve"] and [c.element_id for c in preview.ahead] == ["check"]


def test_an_element_only_predicted_ahead_does_not_stop_a_move_back(versions):
    engine, v1, v2 = versions
    started = engine.start(v2, "approval", {})  # at 'prepare'; 'check' is only predicted after it
    verdict = engine.check_migration(started.instance_id, v1)
    assert verdict.can_migrate, verdict.reasons
    engine.migrate(started.instance_id, v1)
    (task,) = engine.ready_tasks(started.instance_id)
    nxt = engine.complete_task(started.instance_id, task.id, {"plan": "p"})
    assert [t.name for t in nxt.ready] == ["Approve the plan"], "version 1's path, without the check"
    at_check = engine.start(v2, "approval", {})
    engine.complete_task(at_check.instance_id, at_check.ready[0].id, {"plan": "p"})
    assert engine.check_migration(at_check.instance_id, v1).reasons == (
        "check (Check the plan) is ready here but does not exist in the new version",)
