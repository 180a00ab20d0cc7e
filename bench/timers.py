"""B4: timers at scale. 10,000 instances wait on timers, 1,000 of them due now.

Reports, in the same run:
  fire all     wall time for the scheduler's firing pass to fire every due timer (one transaction each)
  loaded       how many instances the firing loaded (must be exactly the due ones: the due-time index)
  floor        raw SpiffWorkflow deserialize -> refresh_timers + do_engine_steps -> serialize of one such
               instance, times the due count: what any service that stores state must at least do
  idle         an idle scheduler's database statements per minute (SQLite: data_version polls;
               PostgreSQL: LISTEN/NOTIFY, so only the safety interval)

    .venv/bin/python bench/timers.py [--instances 10000] [--due 1000] [--database-url URL] [--idle-seconds 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, insert, select  # noqa: E402

from bench.common import fresh_app  # noqa: E402

T0 = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)


def build(services, user, instances: int, due: int):
    """Two instances through the real services, then cloned rows: the shape the scheduler sees, quickly."""
    from app.processes import services as process_services
    from app.processes.models import HumanTask, ProcessInstance, Timer

    with services.sessions() as session:
        now = datetime.now(UTC)
        templates = {
            "due": process_services.start_instance(session, services.workflows, user=user, process_id="timers",
                                                   data={"limit": "P5D"}, now=T0).instance_id,
            "later": process_services.start_instance(session, services.workflows, user=user, process_id="timers",
                                                     data={"limit": "P30D"}, now=now).instance_id,
        }
        rows = {}
        for kind, instance_id in templates.items():
            instance = session.get(ProcessInstance, instance_id)
            task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
            timer = session.scalar(select(Timer).where(Timer.instance_id == instance_id))
            rows[kind] = (instance, task, timer)
        connection = session.connection()
        for index in range(instances - 2):
            kind = "due" if index < due - 1 else "later"
            instance, task, timer = rows[kind]
            new_id = connection.execute(insert(ProcessInstance).values(
                version_id=instance.version_id, process_id=instance.process_id, status="running", state=instance.state,
                state_format=instance.state_format, revision=1, data={}, created_at=instance.created_at,
                updated_at=instance.updated_at, next_due_at=instance.next_due_at).returning(ProcessInstance.id)).scalar()
            connection.execute(insert(HumanTask).values(
                instance_id=new_id, task_id=task.task_id, bpmn_id=task.bpmn_id, name=task.name,
                process_id=task.process_id, lane=task.lane, role=task.role, form_key=task.form_key,
                properties=task.properties, state="ready", created_at=task.created_at, due_at=task.due_at))
            connection.execute(insert(Timer).values(instance_id=new_id, task_id=timer.task_id, bpmn_id=timer.bpmn_id,
                                                    name=timer.name, kind=timer.kind, due_at=timer.due_at))
        session.commit()
        return rows["due"][0].state


def floor_ms(services, state_json: str, repeat: int = 30) -> float:
    """Raw SpiffWorkflow cost of firing one due instance (full JSON with specs, standard serializer)."""
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG

    from workflows.serialization import load_state

    wf = load_state(state_json, services.workflows.specs(1))
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))
    full = serializer.serialize_json(wf)
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        loaded = serializer.deserialize_json(full)
        loaded.refresh_timers()
        loaded.do_engine_steps()
        serializer.serialize_json(loaded)
        samples.append(time.perf_counter() - started)
    samples.sort()
    return samples[len(samples) // 2] * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    args = parser.parse_args()

    app, url = fresh_app(args.database_url, "timers")

    from app.auth.services import create_user
    from app.jobs.scheduler import TimerScheduler
    from app.processes.services import deploy_version
    from app.processes.store import SqlInstanceStore
    from workflows import read_directory

    services = app.extensions["collabflow"]
    data = Path(__file__).resolve().parents[1] / "tests" / "workflows" / "data"
    with services.sessions() as session:
        user = create_user(session, "bench", password=None, roles=["staff"])
        deploy_version(session, services.workflows, *read_directory(data, data / "forms"))
        user = session.merge(user)
    started = time.perf_counter()
    due_state = build(services, user, args.instances, args.due)
    built = time.perf_counter() - started

    loads = {"count": 0}
    original = SqlInstanceStore.get_instance

    def counting(self, instance_id):
        loads["count"] += 1
        return original(self, instance_id)

    SqlInstanceStore.get_instance = counting
    scheduler = TimerScheduler(services, safety_interval=60)
    started = time.perf_counter()
    fired = scheduler.fire_due()
    fire_all = time.perf_counter() - started
    SqlInstanceStore.get_instance = original
    floor = floor_ms(services, due_state)

    statements = {"count": 0}
    event.listen(services.db_engine, "before_cursor_execute", lambda *a: statements.__setitem__(
        "count", statements["count"] + 1))
    idle = TimerScheduler(services, safety_interval=60).start()
    time.sleep(1.0)  # the start-up pass (catch-up) is not idle time
    statements["count"], idle.queries = 0, 0
    time.sleep(args.idle_seconds)
    idle_count = statements["count"] + idle.queries  # SQLite's watch uses a raw connection, counted by itself
    idle.shutdown()

    kind = url.split(":", 1)[0].split("+")[0]
    per_instance = fire_all * 1000 / max(fired, 1)
    print(f"# bench/timers.py — {kind}, {os.cpu_count()} cores; {args.instances:,} waiting instances, "
          f"{args.due:,} due (built in {built:.1f} s)")
    print()
    print("| database | due | fired | instances loaded | fire all s | per instance ms | floor per instance ms "
          "| per instance / floor | idle statements per minute |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {kind} | {args.due:,} | {fired:,} | {loads['count']:,} | {fire_all:.2f} | {per_instance:.2f} | "
          f"{floor:.2f} | {per_instance / floor:.2f}× | {idle_count * 60 / args.idle_seconds:.0f} |")


if __name__ == "__main__":
    main()
