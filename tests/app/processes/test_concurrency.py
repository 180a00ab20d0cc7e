"""Two people completing the same task at the same moment, with real threads and real connections:
exactly one succeeds, the other gets Conflict (or TaskNotReady if it read after the winner committed),
nothing is merged and nothing is lost."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from app.processes import services
from app.processes.models import HumanTask, ProcessInstance
from workflows import Conflict, TaskNotReady

pytestmark = pytest.mark.commits  # real threads race on their own connections


def run_race(services_, users, human_task_id, payloads, on_save_barrier):
    """Each thread has its own session; both read before either writes (the barrier sits in save_instance)."""
    outcomes = []

    def attempt(plan):
        with services_.sessions() as session:
            user = session.get(type(users["staff"]), users["staff"].id)
            try:
                services.complete_task(session, services_.workflows, user=user, human_task_id=human_task_id,
                                       data={"plan": plan})
                outcomes.append(("ok", plan))
            except (Conflict, TaskNotReady) as exc:
                outcomes.append((type(exc).__name__, plan))

    threads = [threading.Thread(target=attempt, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_concurrent_completions_of_one_task(services, session, users, version, monkeypatch):
    from app.processes.store import SqlInstanceStore
    result = services_start(services, session, users)
    row = session.scalar(select(HumanTask).where(HumanTask.instance_id == result.instance_id))
    barrier = threading.Barrier(2)
    original = SqlInstanceStore.save_instance

    def save_after_both_loaded(self, record):
        barrier.wait(timeout=10)
        return original(self, record)

    monkeypatch.setattr(SqlInstanceStore, "save_instance", save_after_both_loaded)
    outcomes = run_race(services, users, row.id, ["mine", "theirs"], barrier)
    assert sorted(o for o, _ in outcomes) == ["Conflict", "ok"], outcomes

    session.expire_all()
    instance = session.get(ProcessInstance, result.instance_id)
    assert instance.revision == 2
    rows = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == result.instance_id)
                                .order_by(HumanTask.id)))
    assert [(r.name, r.state) for r in rows] == [("Prepare the plan", "completed"), ("Approve the plan", "ready")]
    winner = next(p for o, p in outcomes if o == "ok")
    task = services.workflows.using(SqlInstanceStore(session)).get_task(result.instance_id, rows[1].task_id)
    assert task.data["plan"] == winner


def test_many_concurrent_attempts_one_winner(services, session, users, version):
    result = services_start(services, session, users)
    row = session.scalar(select(HumanTask).where(HumanTask.instance_id == result.instance_id))
    outcomes = run_race(services, users, row.id, [f"p{i}" for i in range(6)], None)
    assert [o for o, _ in outcomes].count("ok") == 1
    assert all(o in ("Conflict", "TaskNotReady") for o, _ in outcomes if o != "ok")
    session.expire_all()
    assert session.get(ProcessInstance, result.instance_id).revision == 2


def services_start(services_, session, users):
    return services.start_instance(session, services_.workflows, user=users["staff"], process_id="approval")
