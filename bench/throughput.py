"""B5 throughput and B7 memory per worker: the production shape under a steady load of people working.

gunicorn with 2 workers (`collabflow serve --workers 2 --no-scheduler`) and a `collabflow scheduler`
process beside it, on PostgreSQL, all on 127.0.0.1. Concurrent clients (threads, one keep-alive connection
per person each) walk their own relationships along the bundled lifecycle's happy path through the JSON API
for a fixed time, starting a new relationship when one ends: every completion also costs a task read and
evidence uploads, as it would for a person. Reports completions/s, all requests/s, errors (must be 0),
completion p50/p95, and compares the rate with the single-process floor rate (1 / the floor's median
completion, measured in the same run on a relationship walked alone afterwards, as B1 does). Then the RSS
of each worker and of the scheduler (B7).

With `--scaling`, the same load runs against 1 worker and then 2 (fresh servers, same database and clients) and
the ratio of their completion rates is printed (issue 19: 2 workers >= 1.7x 1 worker, 0 errors).

    .venv/bin/python bench/throughput.py [--seconds 60] [--clients 4] [--database-url URL] [--json FILE]
    .venv/bin/python bench/throughput.py --scaling [--seconds 30] [--clients 4]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.http_tasks import CHAIN_DATA, CHAIN_FORM, PG, FloorCapture, chain_bpmn, percentile  # noqa: E402
from bench.walker import Api, ApiError, prepare, rss_mb, server, walk, worker_pids  # noqa: E402


def client(port, tokens, index, deadline, out):
    apis = {name: Api(port, token) for name, token in tokens.items()}
    timings, errors, walks, requests = [], [], 0, 0
    while time.monotonic() < deadline:
        try:
            walk(apis, f"B5 client {index} relationship {walks}", timings=timings, deadline=deadline)
        except (ApiError, OSError) as exc:
            errors.append(str(exc))
            requests += sum(a.requests for a in apis.values())
            apis = {name: Api(port, token) for name, token in tokens.items()}
        walks += 1
    out.append((timings, errors, walks, requests + sum(a.requests for a in apis.values())))


def chain_client(port, tokens, index, deadline, out):
    """A light client: starts 20-task chains and completes them with a fixed form, so the servers, not the
    clients' form filling, take the machine's cores. A new connection per request: gunicorn keeps a kept-alive
    connection on the worker that accepted it, and one worker accepts them all when they arrive together (measured:
    9.3 CPU s against 0.07 for the other), which would measure one worker twice."""
    api, timings, errors, chains = Api(port, tokens["staff"], keep_alive=False), [], [], 0
    while time.monotonic() < deadline:
        try:
            tasks = api.call("POST", "processes/chain/start", {"data": {}})["next_tasks"]
            for i in range(20):
                if time.monotonic() >= deadline:
                    break
                began = time.perf_counter()
                tasks = api.call("POST", f"tasks/{tasks[0]['id']}/complete", {"data": {**CHAIN_DATA, "i": i}})[
                    "next_tasks"]
                timings.append((time.perf_counter() - began, time.monotonic()))
            chains += 1
        except (ApiError, OSError) as exc:
            errors.append(str(exc))
            api = Api(port, tokens["staff"], keep_alive=False)
    out.append((timings, errors, chains, api.requests))


def cpu_by_pid(pids) -> dict[int, float]:
    """User + system CPU seconds used so far by each of these processes (from /proc; gone ones are left out)."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all but idle and iowait, from /proc/stat): what a backend
    that exited meanwhile, the kernel's networking and everything else used too."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two readings; a process that appeared meanwhile (a PostgreSQL backend forked for a
    worker's first connection) counts from zero."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def postgres_pids() -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_text().strip() == "postgres":
                    found.append(int(entry))
            except OSError:
                continue
    return found


def load(app, url, tokens, *, workers: int, clients: int, seconds: float, floor: bool = True,
         workload: str = "lifecycle", threads: int = 4) -> dict:
    """`clients` walking relationships (or completing chains) for `seconds` against `workers` gunicorn workers and
    a scheduler."""
    target = chain_client if workload == "chain" else client
    with server(url, workers=workers, threads=threads, scheduler_process=True) as (port, master, scheduler):
        out = []
        started = time.monotonic()
        deadline = started + seconds
        people = [threading.Thread(target=target, args=(port, tokens, n, deadline, out)) for n in range(clients)]
        servers = [*worker_pids(master), scheduler]
        clients_before, servers_before, database_before = (time.process_time(), cpu_by_pid(servers),
                                                           cpu_by_pid(postgres_pids()))
        busy_before = machine_busy()
        for t in people:
            t.start()
        for t in people:
            t.join()
        elapsed = time.monotonic() - started
        cores = {"clients": (time.process_time() - clients_before) / elapsed,
                 "servers": cpu_used(servers_before, cpu_by_pid(servers)) / elapsed,
                 "postgresql": cpu_used(database_before, cpu_by_pid(postgres_pids())) / elapsed,
                 "machine": (machine_busy() - busy_before) / elapsed}
        rss = {"workers": [rss_mb(pid) for pid in worker_pids(master)], "scheduler": rss_mb(scheduler),
               "master": rss_mb(master)}
        capture, apis = FloorCapture(app.extensions["collabflow"]), {n: Api(port, t) for n, t in tokens.items()}
        if floor:
            try:
                walk(apis, f"B5 floor relationship {workers}", before=capture)
            except ApiError as exc:  # keep the load's figures; the floor then rests on fewer completions
                print("floor walk stopped:", exc)
    floor_ms = statistics.median(capture.floor) if capture.floor else float("nan")
    times = [t * 1000 for timings, *_ in out for t, _ in timings]
    errors = [e for _, errs, *_ in out for e in errs]
    rate = len(times) / elapsed
    return {"database": url.split(":", 1)[0].split("+")[0], "seconds": elapsed, "clients": clients,
            "workers": workers, "completions": len(times), "rate": rate,
            "requests_rate": sum(o[3] for o in out) / elapsed, "errors": len(errors), "error_samples": errors[:3],
            "relationships": sum(o[2] for o in out), "p50": statistics.median(times),
            "p95": percentile(times, 0.95), "floor_ms": floor_ms, "floor_rate": 1000 / floor_ms, "rss": rss,
            "cores": cores}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--scaling", action="store_true", help="1 worker, then 2: the ratio of their rates")
    parser.add_argument("--workload", choices=("lifecycle", "chain"), default="lifecycle",
                        help="with --scaling: walk the lifecycle (reads, uploads, forms) or complete 20-task chains")
    parser.add_argument("--database-url", default=PG)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()

    app, url, tokens = prepare(args.database_url, "throughput", {"chain.bpmn": chain_bpmn(20)},
                               {"chain.schema.json": CHAIN_FORM})
    if args.scaling:
        one, two = (load(app, url, tokens, workers=w, clients=args.clients, seconds=args.seconds, floor=False,
                         workload=args.workload, threads=args.threads) for w in (1, 2))
        print(f"# bench/throughput.py --scaling — {one['database']}, {os.cpu_count()} cores; {args.clients} clients "
              f"({args.workload}), {args.threads} threads per worker, {args.seconds:.0f} s each")
        print()
        print("| workers | completions | completions/s | errors | completion p50 ms | p95 ms | cores used: clients "
              "| servers | postgresql | whole machine |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in (one, two):
            c = r["cores"]
            print(f"| {r['workers']} | {r['completions']} | {r['rate']:.1f} | {r['errors']} | {r['p50']:.1f} "
                  f"| {r['p95']:.1f} | {c['clients']:.2f} | {c['servers']:.2f} | {c['postgresql']:.2f} "
                  f"| {c['machine']:.2f} |")
        ceiling = (os.cpu_count() or 1) / one["cores"]["machine"]
        print(f"\n2 workers / 1 worker: {two['rate'] / one['rate']:.2f}x (target >= 1.7x, 0 errors); the most this "
              f"machine allows: {os.cpu_count()} cores / {one['cores']['machine']:.2f} busy with 1 worker = "
              f"{ceiling:.2f}x")
        for e in one["error_samples"] + two["error_samples"]:
            print("error:", e)
        if args.json:
            Path(args.json).write_text(json.dumps({"one": one, "two": two, "scaling": two["rate"] / one["rate"],
                                                   "ceiling": ceiling},
                                                  indent=1))
        return
    r = load(app, url, tokens, workers=args.workers, clients=args.clients, seconds=args.seconds, threads=args.threads)
    rate, floor, rss, elapsed = r["rate"], r["floor_ms"], r["rss"], r["seconds"]
    print(f"# bench/throughput.py — {r['database']}, {os.cpu_count()} cores; {args.workers} gunicorn workers "
          f"({args.threads} threads) + 1 scheduler process; {args.clients} clients for {elapsed:.0f} s")
    print()
    print("| completions | completions/s | requests/s | errors | completion p50 ms | p95 ms | floor ms "
          "| floor rate /s (one process) | rate / floor rate |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {r['completions']} | {rate:.1f} | {r['requests_rate']:.1f} | {r['errors']} | {r['p50']:.1f} "
          f"| {r['p95']:.1f} | {floor:.1f} | {r['floor_rate']:.1f} | {rate / r['floor_rate']:.2f}× |")
    print(f"\nB7 RSS after the run: workers {', '.join(f'{m:.0f}' for m in rss['workers'])} MB; "
          f"scheduler {rss['scheduler']:.0f} MB; gunicorn master {rss['master']:.0f} MB")
    for e in r["error_samples"]:
        print("error:", e)
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=1))


if __name__ == "__main__":
    main()
