"""Safe changes through the API: the diff with old → new values and the forms, the full migration dry run, roll
back with a reason after its impact, and undo refused with 409 and the reason once the instance moved on."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from app.db import utcnow
from app.processes import services as processes
from app.processes.models import InstanceMove, ProcessInstance
from tests.support.bundles import T0, read_test_bundle
from tests.support.driver import Driver
from tests.support.versions import version_2


def _v2(session, services, users, *, form_change=False):
    files, forms = read_test_bundle()
    if form_change:
        forms = dict(forms)
        schema = json.loads(forms["note.schema.json"])
        first = next(iter(schema["properties"]))
        schema["properties"][first]["title"] = "Renamed field"
        schema["properties"]["urgency"] = {"type": "string", "title": "Urgency", "enum": ["low", "high"]}
        schema["required"] = sorted(set(schema.get("required", [])) | {"urgency"})
        forms["note.schema.json"] = json.dumps(schema).encode()
    version, _, _ = processes.deploy_version(session, services.workflows, version_2(files), forms,
                                             user=users["owner"], message="a check step", now=T0)
    return version, first if form_change else None


def test_the_diff_answers_old_and_new_values_and_the_forms(api, session, services, users, version):
    v2, first = _v2(session, services, users, form_change=True)
    diff = api("owner").get(f"processes/diff?from={version.id}&to={v2.id}").get_json()
    approve = next(c for c in diff["changed"] if c["element_id"] == "approve")
    assert {"attribute": "name", "old": "Approve the plan", "new": "Approve the checked plan", "lines": []} \
        in approve["details"]
    assert [(c["element_id"], c["name"]) for c in diff["added"]] == [("check", "Check the plan")]
    (note,) = [f for f in diff["forms"] if f["name"] == "note.schema.json"]
    fields = {f["field"]: f for f in note["fields"]}
    assert note["how"] == "changed"
    assert fields["urgency"]["how"] == "added" and fields["urgency"]["new"] == {
        "title": "Urgency", "type": "string", "required": "required", "choices": "low, high"}
    assert fields[first]["how"] == "changed" and fields[first]["aspects"] == ["title"]
    assert fields[first]["new"]["title"] == "Renamed field"


def test_the_dry_run_answers_where_each_instance_is_and_what_it_meets(api, session, services, users, version):
    v2, _ = _v2(session, services, users)
    started = processes.start_instance(session, services.workflows, user=users["staff"], process_id="approval",
                                       title="Plan for ACME", version_id=version.id, now=T0)
    (row,) = api("owner").get(f"processes/migrations/dry-run?to={v2.id}").get_json()
    assert (row["instance_id"], row["title"], row["can_migrate"]) == (started.instance_id, "Plan for ACME", True)
    assert row["ready"] == ["Prepare the plan"]
    assert row["at"] == [{"task": "Prepare the plan", "in_new_version": "is there, with the same form"}]
    assert row["ahead"] == ["will reach the new task 'Check the plan' in approval"]


def test_roll_back_through_the_api_needs_a_reason_and_reports_who_cannot_follow(api, session, services, users,
                                                                                 version):
    v2, _ = _v2(session, services, users)
    at_check = processes.start_instance(session, services.workflows, user=users["staff"], process_id="approval",
                                        title="At check", version_id=v2.id, now=T0)
    Driver(session, services, users, at_check.instance_id, T0).complete("prepare")
    owner = api("owner")
    impact = owner.get(f"processes/versions/{version.id}/roll-back").get_json()
    assert impact["latest_id"] == v2.id and impact["can_follow"] == []
    (blocked,) = impact["cannot_follow"]
    assert blocked["instance_id"] == at_check.instance_id and blocked["ready"] == ["Check the plan"]
    assert blocked["reasons"] == [f"check (Check the plan) is ready here but does not exist in version {version.id}"]
    refused = owner.post(f"processes/versions/{version.id}/roll-back", {"message": ""})
    assert refused.status_code == 422
    assert api("staff").post(f"processes/versions/{version.id}/roll-back", {"message": "x"}).status_code == 403
    done = owner.post(f"processes/versions/{version.id}/roll-back", {"message": "the check step is not ready"})
    assert done.status_code == 201
    assert done.get_json()["message"] == f"roll back to version {version.id}: the check step is not ready"


def test_a_stale_undo_through_the_api_answers_409_with_the_reason(api, session, services, users, version):
    from app.processes import versioning
    v2, _ = _v2(session, services, users)
    started = processes.start_instance(session, services.workflows, user=users["staff"], process_id="approval",
                                       title="Moved", version_id=version.id, now=T0)
    versioning.migrate(session, services.workflows, user=users["owner"], instance_ids=[started.instance_id],
                       to_version_id=v2.id)
    move = session.scalars(select(InstanceMove)).one()
    owner = api("owner")
    (listed,) = owner.get("processes/migrations").get_json()
    assert (listed["id"], listed["can_undo"], listed["undo_blocked"]) == (move.id, True, None)

    Driver(session, services, users, started.instance_id, utcnow() + timedelta(minutes=1)).complete("prepare")
    (listed,) = owner.get("processes/migrations").get_json()
    assert listed["can_undo"] is False
    assert listed["undo_blocked"] == "the relationship has moved on since: 1 task completed"
    refused = owner.post(f"processes/migrations/{move.id}/undo")
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["message"] == (f"migration {move.id} can no longer be undone: the relationship has "
                                             "moved on since: 1 task completed")
    session.expire_all()
    assert session.get(ProcessInstance, started.instance_id).version_id == v2.id
    assert session.get(InstanceMove, move.id).undone_at is None
