"""B2 and B6 on the bundled lifecycle: age does not slow a relationship; deploying and starting cost.

B2: a relationship in stage 7 that has lived five years (20 quarterly review cycles, 50 issues escalated to
the joint management team and resolved there, 10 exit triggers raised and dismissed) against a fresh one
at the same task: the cost of completing that task (load, complete, run, save), repeated from the same
stored state, and the state size. Target: aged / fresh <= 1.5.
B6: validate + deploy the whole bpmn/ + forms/ set, and start a relationship.

    .venv/bin/python bench/lifecycle.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.walker import PEOPLE  # noqa: E402

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
GREEN = {k: {"rating": "green", "evidence": "on plan"} for k in ("outputs", "risk", "alignment", "behaviours", "trust")}


def median_ms(samples):
    return statistics.median(samples) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=31)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="collabflow-bench-lifecycle-")
    url = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ["COLLABFLOW_INSTANCE"] = workdir

    from app import create_app
    from app.auth.services import create_user
    from app.migrate import upgrade
    from app.processes.services import deploy_version
    from app.processes.store import SqlInstanceStore
    from tests.support.driver import Driver, until_ready
    from workflows import InMemoryStore, StoredVersion, WorkflowEngine, read_directory, validate
    from workflows.scenarios import SCENARIO_FOLDER, read_scenarios

    upgrade(url)
    app = create_app({"DATABASE_URL": url})
    svc = app.extensions["collabflow"]
    files, forms = read_directory(ROOT / "bpmn", ROOT / "forms")
    scenarios = read_scenarios(ROOT / "bpmn" / SCENARIO_FOLDER)  # a deploy runs them, as `collabflow deploy` does

    # ---------------------------------------------------------------- B6
    started = time.perf_counter()
    validate(files, forms)
    validate_s = time.perf_counter() - started
    with svc.sessions() as session:
        users = {}
        for name, roles, kind in PEOPLE:
            users[name] = create_user(session, name, password=None, roles=roles, organisation_kind=kind,
                                      organisation="Partner Ltd" if kind == "partner" else "Us")
        started = time.perf_counter()
        version, _, _ = deploy_version(session, svc.workflows, files, forms, user=users["owner"], now=START,
                                       scenarios=scenarios)
        deploy_s = time.perf_counter() - started
        svc.workflows._specs.clear()  # a fresh process: the first start restores the specs from storage
        started = time.perf_counter()
        fresh = Driver.start(session, svc, users, "lifecycle", {"relationship_name": "Fresh"}, now=START)
        start_s = time.perf_counter() - started

        # ------------------------------------------------------------ B2: build the two relationships
        fresh.drive(until=until_ready("s7_manage_activities"))
        aged = Driver.start(session, svc, users, "lifecycle", {"relationship_name": "Aged"}, now=START)
        aged.drive(until=until_ready("s7_manage_activities"))
        anchor = aged.now
        from workflows import add_period
        for quarter in range(1, 21):
            aged.wake(at=add_period(anchor, "P3M", quarter) + timedelta(minutes=1))
            for child in aged.linked("periodic_review", status="running"):
                review = aged.linked_driver(child.id)
                review.now = aged.now
                review.drive({"pr_performance_review": {"performance_ratings": GREEN, "overall_rating": "green"},
                              "pr_ser_performance_feedback": {"overall_rating": "green",
                                                              "corrective_actions": []},
                              "pr_ser_performance_feedback_partner": {"partner_corrective_actions": []}})
        for n in range(50):
            issue = aged.raise_issue(f"Issue {n}")
            issue.complete("ir_log_issue")
            issue.complete("ir_level1", {"l1_resolution": "escalate", "l1_escalation_reason": "needs the JMT"})
            issue.complete("ir_level2", {"l2_resolution": "resolved", "l2_resolution_summary": "agreed"})
        for n in range(10):
            aged.raise_exit_trigger(f"Change of control rumour {n}")
            aged.complete("exit_review", {"exit_decision": "dismiss", "exit_rationale": "unfounded"})
            aged.complete("exit_review_partner", {"partner_exit_decision": "dismiss",
                                                  "partner_exit_rationale": "unfounded"})
        reviews = len(aged.linked("periodic_review"))
        issues = len(aged.linked("issue_resolution"))

        store = SqlInstanceStore(session)
        records = {name: store.get_instance(d.instance_id) for name, d in (("fresh", fresh), ("aged", aged))}
        stored = store.get_version(version.id)

    # ---------------------------------------------------------------- B2: measure from the same stored state
    memory = InMemoryStore()
    memory.add_version(StoredVersion(None, stored.files, stored.forms, stored.content_hash, stored.spec_json,
                                     stored.process_ids))
    engine = WorkflowEngine(memory)
    prepared = {}
    for name, record in records.items():
        instance_id = memory.create_instance(copy.deepcopy(record))
        pristine = copy.deepcopy(memory._instances[instance_id])
        task = next(t for t in record.ready_tasks if t.bpmn_id == "s7_manage_activities")
        data = engine.get_task(instance_id, task.id).data
        answer = {k: data[k] for k in ("joint_activities", "activity_status") if k in data}
        prepared[name] = (instance_id, pristine, task, answer, [])
    for _ in range(args.repeat):  # interleaved, so that load from other processes hits both alike
        for instance_id, pristine, task, answer, samples in prepared.values():
            memory._instances[instance_id] = copy.deepcopy(pristine)
            started = time.perf_counter()
            engine.complete_task(instance_id, task.id, answer, now=START + timedelta(days=2000))
            samples.append(time.perf_counter() - started)
    results = {name: (median_ms(samples), len(records[name].state), len(engine._load(pristine).get_tasks()))
               for name, (_i, pristine, _t, _a, samples) in prepared.items()}

    print(f"# bench/lifecycle.py — {os.cpu_count()} cores, SQLite, medians of {args.repeat}")
    print()
    print("B6 | validate bpmn/ + forms/ s | deploy (with its scenarios) s | start a relationship (specs restored) s")
    print("|---|---:|---:|---:|")
    print(f"| {len(files)} diagrams, {len(forms)} form files, {len(scenarios)} scenarios | {validate_s:.3f} | "
          f"{deploy_s:.3f} | {start_s:.3f} |")
    print()
    print(f"B2 | aged: {reviews} review instances, {issues} issue instances, 10 exit triggers dismissed")
    print("| relationship | complete s7_manage_activities ms | state KB | tasks in tree |")
    print("|---|---:|---:|---:|")
    for name, (ms, size, tasks) in results.items():
        print(f"| {name} | {ms:.2f} | {size / 1024:.0f} | {tasks} |")
    print(f"\naged / fresh = {results['aged'][0] / results['fresh'][0]:.2f}× (target <= 1.5×)")


if __name__ == "__main__":
    main()
