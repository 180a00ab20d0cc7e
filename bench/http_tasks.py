"""B1: what completing a task costs over HTTP, against the floor measured in the same run.

A real server (`collabflow serve`, one gunicorn worker, 127.0.0.1) and a client that walks relationships
along the bundled lifecycle's happy path through the JSON API (bearer tokens made once; each task read,
its form filled, evidence attached, then completed), then 20-task chains (the size the issue quotes
SpiffArena at: ~70 ms per completion) completed the same way, each chain started through
`POST /api/v1/processes/chain/start` (timed too: the start figure), and 200-cycle loops (one user task and a
gateway back to it, a recurring meeting: the age figure, the mean of the first 20 completions against the last 20).
Timed: each `POST /api/v1/tasks/<id>/complete`, from request to parsed response. Floor: just before every timed completion, the instance exactly as stored,
converted to SpiffWorkflow's standard full JSON, then raw deserialize_json -> set data, run,
do_engine_steps -> serialize_json in this process (median of 3): what any service that stores instance
state must at least do; measured interleaved so that both see the same machine load.
Targets: completion p50 <= 2x the floor's p50 and <= 6 ms for the chain (issue 19: ten times SpiffArena's 60 ms);
chain start p50 <= 10 ms; a loop's last 20 completions <= 1.5x its first 20.

    .venv/bin/python bench/http_tasks.py [--databases sqlite,postgresql] [--relationships 2] [--chains 3]
                                         [--loops 1] [--cycles 200] [--starts 20]
                                         [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.walker import Api, prepare, server, walk  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
CHAIN_LENGTH = 20


def percentile(samples, q):
    samples = sorted(samples)
    return samples[min(len(samples) - 1, max(0, round(q * (len(samples) - 1))))]


def floor_engine():
    """collabflow's script engine (the sandbox: diagrams' scripts and decision tables read dicts with dots, which
    SpiffWorkflow's plain Python engine cannot), its linked-instance effects as no-ops."""
    from workflows.engine import DEFAULT_TIME_LIMIT, default_helpers
    from workflows.scripting import SandboxEnvironment, SandboxScriptEngine
    helpers = default_helpers()
    helpers.update(start_process=lambda *a, **k: None, cancel_linked=lambda *a, **k: None,
                   signal_parent=lambda *a, **k: None)
    return SandboxScriptEngine(SandboxEnvironment(helpers, time_limit=DEFAULT_TIME_LIMIT))


class FloorCapture:
    """Called just before each timed completion: takes the instance as stored, as standard full JSON, and
    measures the floor on it at once (median of 3), so that floor and HTTP figures share the machine's load."""

    def __init__(self, svc):
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
        from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG
        self.svc, self.engine, self.floor, self.sizes = svc, floor_engine(), [], []
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))

    def __call__(self, human_task_id, data):
        from app.processes.models import HumanTask, ProcessInstance
        from workflows.serialization import load_state
        with self.svc.sessions() as session:
            row = session.get(HumanTask, human_task_id)
            instance = session.get(ProcessInstance, row.instance_id)
            wf = load_state(instance.state, self.svc.workflows.specs(instance.version_id))
            wf.subprocess_specs = called_specs(wf.spec, wf.subprocess_specs)  # as a standalone SpiffWorkflow has
            full = self.serializer.serialize_json(wf)
            self.sizes.append((len(instance.state), len(full)))
        self.floor.append(statistics.median(self.once(full, row.task_id, data) for _ in range(3)) * 1000)

    def once(self, state, task_id, data) -> float:
        started = time.perf_counter()
        wf = self.serializer.deserialize_json(state)
        wf.script_engine = self.engine
        task = wf.get_task_from_id(UUID(task_id))
        task.set_data(**json.loads(json.dumps(data)))
        task.run()
        wf.do_engine_steps()
        self.serializer.serialize_json(wf)
        return time.perf_counter() - started


def called_specs(spec, specs: dict) -> dict:
    """The specs `spec` reaches through call activities (the others belong to the deployed version, not to
    this instance: a standalone SpiffWorkflow would not carry them)."""
    from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
    found, todo = {}, [spec]
    while todo:
        for task_spec in todo.pop().task_specs.values():
            if isinstance(task_spec, CallActivity) and task_spec.spec not in found:
                found[task_spec.spec] = specs[task_spec.spec]
                todo.append(specs[task_spec.spec])
    return found


def chain_bpmn(n: int) -> bytes:
    """start -> n user tasks in a row -> end: the 20-task chain the issue compares SpiffArena with."""
    from tests.support.bpmn import HEAD
    prop = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
            'name="formJsonSchemaFilename" value="chain.schema.json" /></spiffworkflow:properties>'
            '</bpmn:extensionElements>')
    starter = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="start_roles" '
               'value="staff" /></spiffworkflow:properties></bpmn:extensionElements>')
    nodes = [f'<bpmn:startEvent id="start">{starter}<bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>']
    nodes += [f'<bpmn:userTask id="t{k}" name="Step {k}">{prop}<bpmn:incoming>f{k - 1}</bpmn:incoming>'
              f'<bpmn:outgoing>f{k}</bpmn:outgoing></bpmn:userTask>' for k in range(1, n + 1)]
    nodes.append(f'<bpmn:endEvent id="end"><bpmn:incoming>f{n}</bpmn:incoming></bpmn:endEvent>')
    flows = [f'<bpmn:sequenceFlow id="f{k}" sourceRef="{"start" if k == 0 else f"t{k}"}" '
             f'targetRef="{"end" if k == n else f"t{k + 1}"}" />' for k in range(n + 1)]
    return (HEAD + '<bpmn:process id="chain" isExecutable="true">' + "".join(nodes + flows)
            + "</bpmn:process></bpmn:definitions>").encode()


CHAIN_FORM = (b'{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", '
              b'"properties": {"i": {"type": "integer"}, "form": {"type": "object"}}}')
CHAIN_DATA = {"form": {"summary": "x" * 60, "owner": "Sam Staff", "score": 3, "date": "2026-11-23"}}


def walk_chains(svc, api, count, capture, timings, starts):
    """Start `count` chain instances over the API (timed into `starts`) and complete their 20 tasks as staff."""
    from sqlalchemy import select

    from app.processes.models import HumanTask
    for _ in range(count):
        started = time.perf_counter()
        instance_id = api.call("POST", "processes/chain/start", {"data": {}})["instance_id"]
        starts.append(time.perf_counter() - started)
        for i in range(CHAIN_LENGTH):
            with svc.sessions() as session:
                task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                                    HumanTask.state == "ready"))
            data = {**CHAIN_DATA, "i": i}
            capture(task_id, data)
            started = time.perf_counter()
            api.call("POST", f"tasks/{task_id}/complete", {"data": data})
            timings.append(time.perf_counter() - started)


def loop_bpmn(cycles: int) -> bytes:
    """start -> "Meet" (user task) -> "Again?" (gateway: back to Meet, or end after `cycles`): a recurring meeting."""
    return (chain_bpmn(1).decode().replace('id="chain"', 'id="meeting"')
            .replace('<bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>',
                     '<bpmn:exclusiveGateway id="again" default="f_done"><bpmn:incoming>f1</bpmn:incoming>'
                     '<bpmn:outgoing>f_again</bpmn:outgoing><bpmn:outgoing>f_done</bpmn:outgoing>'
                     '</bpmn:exclusiveGateway><bpmn:endEvent id="end"><bpmn:incoming>f_done</bpmn:incoming>'
                     '</bpmn:endEvent>')
            .replace('<bpmn:sequenceFlow id="f1" sourceRef="t1" targetRef="end" />',
                     '<bpmn:sequenceFlow id="f1" sourceRef="t1" targetRef="again" />'
                     '<bpmn:sequenceFlow id="f_again" sourceRef="again" targetRef="t1"><bpmn:conditionExpression>'
                     f'i &lt; {cycles - 1}</bpmn:conditionExpression></bpmn:sequenceFlow>'
                     '<bpmn:sequenceFlow id="f_done" sourceRef="again" targetRef="end" />')
            .replace('<bpmn:incoming>f0</bpmn:incoming>', '<bpmn:incoming>f0</bpmn:incoming>'
                     '<bpmn:incoming>f_again</bpmn:incoming>')).encode()


def walk_loops(api, count, cycles, timings: list[list[float]]):
    """Start `count` meetings over the API and complete each `cycles` times; one list of timings per loop."""
    for _ in range(count):
        started = api.call("POST", "processes/meeting/start", {"data": {}})
        task_id, times = started["next_tasks"][0]["id"], []
        for i in range(cycles):
            began = time.perf_counter()
            done = api.call("POST", f"tasks/{task_id}/complete", {"data": {**CHAIN_DATA, "i": i}})
            times.append(time.perf_counter() - began)
            if i < cycles - 1:
                task_id = done["next_tasks"][0]["id"]
        timings.append(times)


def summary(workload, kind, http_s, capture) -> dict:
    http_ms = [t * 1000 for t in http_s]
    return {"workload": workload, "database": kind, "completions": len(http_ms), "p50": statistics.median(http_ms),
            "p95": percentile(http_ms, 0.95), "floor_p50": statistics.median(capture.floor),
            "floor_p95": percentile(capture.floor, 0.95),
            "state_kb": statistics.median(s for s, _ in capture.sizes) / 1024,
            "full_kb": statistics.median(f for _, f in capture.sizes) / 1024}


def time_starts(api, count, starts):
    """`count` more chain starts over the API, timed (their instances are left waiting at the first task)."""
    for _ in range(count):
        began = time.perf_counter()
        api.call("POST", "processes/chain/start", {"data": {}})
        starts.append(time.perf_counter() - began)


def measure(database_url, relationships: int, chains: int, loops: int = 0, cycles: int = 200,
            more_starts: int = 20) -> list[dict]:
    app, url, tokens = prepare(database_url, "http", {"chain.bpmn": chain_bpmn(CHAIN_LENGTH),
                                                      "meeting.bpmn": loop_bpmn(cycles)},
                               {"chain.schema.json": CHAIN_FORM})
    svc = app.extensions["collabflow"]
    kind = url.split(":", 1)[0].split("+")[0]
    lifecycle, chain = FloorCapture(svc), FloorCapture(svc)
    lifecycle_s, chain_s, starts, loop_s = [], [], [], []
    with server(url) as (port, _master, _):
        apis = {name: Api(port, token) for name, token in tokens.items()}
        for n in range(relationships):
            timings = []
            walk(apis, f"B1 relationship {n}", before=lifecycle, timings=timings)
            lifecycle_s += [t for t, _ in timings]
        walk_chains(svc, apis["staff"], chains, chain, chain_s, starts)
        time_starts(apis["staff"], more_starts, starts)
        walk_loops(apis["staff"], loops, cycles, loop_s)
    rows = [summary("lifecycle happy path", kind, lifecycle_s, lifecycle)] if lifecycle_s else []
    rows += [summary(f"{CHAIN_LENGTH}-task chain", kind, chain_s, chain)] if chain_s else []
    if starts:
        ms = [t * 1000 for t in starts]
        rows.append({"workload": "chain start", "database": kind, "starts": len(ms), "p50": statistics.median(ms),
                     "p95": percentile(ms, 0.95)})
    if loop_s:
        first = statistics.mean(t * 1000 for times in loop_s for t in times[:20])
        last = statistics.mean(t * 1000 for times in loop_s for t in times[-20:])
        rows.append({"workload": f"{cycles}-cycle loop", "database": kind, "loops": len(loop_s),
                     "first20": first, "last20": last, "growth": last / first})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgresql-url", default=PG)
    parser.add_argument("--relationships", type=int, default=2, help="happy paths walked per database")
    parser.add_argument("--chains", type=int, default=3, help="20-task chains completed per database")
    parser.add_argument("--loops", type=int, default=1, help="200-cycle loops completed per database")
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--starts", type=int, default=20, help="chain starts timed beyond the chains' own")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    rows = [r for kind in args.databases.split(",")
            for r in measure(None if kind == "sqlite" else args.postgresql_url, args.relationships, args.chains,
                             args.loops, args.cycles, args.starts)]
    print(f"# bench/http_tasks.py — {os.cpu_count()} cores; {args.relationships} happy path(s) of the bundled "
          "lifecycle per database over the JSON API, one gunicorn worker")
    print()
    print("| workload | database | completions | p50 ms | p95 ms | floor p50 ms | floor p95 ms | p50 / floor p50 "
          "| state KB (collabflow / full JSON), median |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if "floor_p50" in r:
            print(f"| {r['workload']} | {r['database']} | {r['completions']} | {r['p50']:.1f} | {r['p95']:.1f} "
                  f"| {r['floor_p50']:.1f} | {r['floor_p95']:.1f} | {r['p50'] / r['floor_p50']:.2f}× "
                  f"| {r['state_kb']:.0f} / {r['full_kb']:.0f} |")
    for r in rows:
        if r["workload"] == "chain start":
            print(f"\nchain start over HTTP, {r['database']}: {r['starts']} starts, p50 {r['p50']:.1f} ms, "
                  f"p95 {r['p95']:.1f} ms (target p50 <= 10 ms)")
        elif "growth" in r:
            print(f"\n{r['workload']}, {r['database']}: first 20 completions {r['first20']:.1f} ms, last 20 "
                  f"{r['last20']:.1f} ms: x{r['growth']:.2f} (target <= 1.5)")
    print("\ntargets: chain p50 <= 6 ms and <= 2x the floor's p50; lifecycle p50 <= 3x the floor")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
