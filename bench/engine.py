"""B0: what one task completion costs, raw engine vs collabflow's persisted service call, in the same run.

For instances with 10, 100 and 1,000 completed tasks (a rework loop: user task -> gateway -> back), it
measures per completion:
  raw      SpiffWorkflow in memory: find the ready task, set data, run, do_engine_steps (no storage)
  floor    raw SpiffWorkflow deserialize_json -> complete -> serialize_json (standard serializer): what any
           service that stores instance state must at least do
  service  collabflow's complete_task through the service layer on SQLite: authorization, form
           validation, load, complete, save with revision check, human-task and timer rows, audit, commit
and prints medians and the service/floor ratio (target <= 2x at every size).

    .venv/bin/python bench/engine.py [--sizes 10,100,1000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from tests.support.bpmn import LOOP_FORM, rework_loop  # noqa: E402

FORM = {"again": True, "form": {"summary": "x" * 60, "owner": "Sam Staff", "score": 3, "date": "2026-11-23"}}


def form_data(i):
    return {**FORM, "i": i}


def complete_in_memory(wf, i):
    task = wf.get_next_task(state=TaskState.READY, manual=True)
    task.task_spec.add_data_from_form(task, form_data(i))
    task.run()
    wf.do_engine_steps()


def build_raw(spec, n):
    wf = BpmnWorkflow(spec, {})
    wf.do_engine_steps()
    for i in range(n):
        complete_in_memory(wf, i)
    return wf


def median_ms(samples):
    return statistics.median(samples) * 1000


def bench_size(n, repeat, spec, compiled_specs, services_, user):
    from sqlalchemy import select

    from app.processes import services
    from app.processes.models import HumanTask
    from app.processes.store import SqlInstanceStore
    from workflows import InstanceRecord
    from workflows.serialization import STATE_FORMAT

    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))
    wf = build_raw(spec, n)

    raw = []
    for k in range(repeat):
        started = time.perf_counter()
        complete_in_memory(wf, n + k)
        raw.append(time.perf_counter() - started)

    wf = build_raw(spec, n)
    state = serializer.serialize_json(wf)
    floor = []
    for k in range(repeat):
        started = time.perf_counter()
        loaded = serializer.deserialize_json(state)
        complete_in_memory(loaded, n + k)
        state = serializer.serialize_json(loaded)
        floor.append(time.perf_counter() - started)

    # the same instance, stored by collabflow (built in memory, saved once through the store)
    wf = build_raw(spec, n)
    with services_.sessions() as session:
        engine = services_.workflows.using(SqlInstanceStore(session))
        wf.script_engine = engine.script_engine
        record = InstanceRecord(None, services_.version_id, "loop", "running", "", STATE_FORMAT)
        engine._snapshot(record, wf, [])
        instance_id = engine.store.create_instance(record)
        session.commit()
        service = []
        state_bytes = 0
        for k in range(repeat):
            row_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                               HumanTask.state == "ready"))
            session.commit()
            started = time.perf_counter()
            services.complete_task(session, services_.workflows, user=user, human_task_id=row_id,
                                   data=form_data(n + k))
            service.append(time.perf_counter() - started)
        from app.processes.models import ProcessInstance
        state_bytes = len(session.get(ProcessInstance, instance_id).state)
    return {
        "n": n, "tasks": len(wf.tasks), "raw": median_ms(raw), "floor": median_ms(floor),
        "service": median_ms(service), "state_kb": state_bytes / 1024, "full_kb": len(state) / 1024,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    from app import create_app
    from app.auth.services import create_user
    from app.migrate import upgrade
    from app.processes.services import deploy_version

    workdir = tempfile.mkdtemp(prefix="collabflow-bench-")
    url = f"sqlite:///{workdir}/bench.sqlite3"
    upgrade(url)
    os.environ["COLLABFLOW_INSTANCE"] = workdir
    app = create_app({"DATABASE_URL": url})
    services_ = app.extensions["collabflow"]
    with services_.sessions() as session:
        user = create_user(session, "bench", password=None, roles=["staff"])
        version, _, _ = deploy_version(session, services_.workflows, {"loop.bpmn": rework_loop()},
                                       {"loop.schema.json": LOOP_FORM})
        services_.version_id = version.id
    spec = services_.workflows.specs(version.id)["loop"]
    compiled = services_.workflows.specs(version.id)

    print(f"# bench/engine.py — {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} cores, SQLite {url.split('///')[1]}, repeat {args.repeat}, medians")
    print()
    print("| completed tasks | tasks in tree | raw in-memory ms | floor: deserialize→complete→serialize ms "
          "| collabflow service on SQLite ms | service / floor | state KB (collabflow / full JSON) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in (int(s) for s in args.sizes.split(",")):
        r = bench_size(n, args.repeat, spec, compiled, services_, user)
        print(f"| {r['n']:,} | {r['tasks']:,} | {r['raw']:.2f} | {r['floor']:.2f} | {r['service']:.2f} | "
              f"{r['service'] / r['floor']:.2f}× | {r['state_kb']:.0f} / {r['full_kb']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
