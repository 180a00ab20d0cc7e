"""B5 throughput and B7 memory per worker: the production shape under a steady load of people working.

gunicorn with 2 workers (`collabflow serve --workers 2 --no-scheduler`) and a `collabflow scheduler`
process beside it, on PostgreSQL, all on 127.0.0.1. Concurrent clients (threads, one keep-alive connection
per person each) walk their own relationships along the bundled lifecycle's happy path through the JSON API
for a fixed time, starting a new relationship when one ends: every completion also costs a task read and
evidence uploads, as it would for a person. Reports completions/s, all requests/s, errors (must be 0),
completion p50/p95, and compares the rate with the single-process floor rate (1 / the floor's median
completion, measured in the same run on a relationship walked alone afterwards, as B1 does). Then the RSS
of each worker and of the scheduler (B7).

    .venv/bin/python bench/throughput.py [--seconds 60] [--clients 4] [--database-url URL] [--json FILE]
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

from bench.http_tasks import PG, FloorCapture, percentile  # noqa: E402
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=PG)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()

    app, url, tokens = prepare(args.database_url, "throughput")
    with server(url, workers=args.workers, scheduler_process=True) as (port, master, scheduler):
        out = []
        started = time.monotonic()
        deadline = started + args.seconds
        threads = [threading.Thread(target=client, args=(port, tokens, n, deadline, out)) for n in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        rss = {"workers": [rss_mb(pid) for pid in worker_pids(master)], "scheduler": rss_mb(scheduler),
               "master": rss_mb(master)}
        capture, apis = FloorCapture(app.extensions["collabflow"]), {n: Api(port, t) for n, t in tokens.items()}
        try:
            walk(apis, "B5 floor relationship", before=capture)
        except ApiError as exc:  # keep the load's figures; the floor then rests on fewer completions
            print("floor walk stopped:", exc)
    floor = statistics.median(capture.floor) if capture.floor else float("nan")

    times = [t * 1000 for timings, *_ in out for t, _ in timings]
    errors = [e for _, errs, *_ in out for e in errs]
    rate = len(times) / elapsed
    r = {"database": url.split(":", 1)[0].split("+")[0], "seconds": elapsed, "clients": args.clients,
         "workers": args.workers, "completions": len(times), "rate": rate,
         "requests_rate": sum(o[3] for o in out) / elapsed, "errors": len(errors), "error_samples": errors[:3],
         "relationships": sum(o[2] for o in out), "p50": statistics.median(times), "p95": percentile(times, 0.95),
         "floor_ms": floor, "floor_rate": 1000 / floor, "rss": rss}
    print(f"# bench/throughput.py — {r['database']}, {os.cpu_count()} cores; {args.workers} gunicorn workers "
          f"(4 threads) + 1 scheduler process; {args.clients} clients for {elapsed:.0f} s")
    print()
    print("| completions | completions/s | requests/s | errors | completion p50 ms | p95 ms | floor ms "
          "| floor rate /s (one process) | rate / floor rate |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {r['completions']} | {rate:.1f} | {r['requests_rate']:.1f} | {r['errors']} | {r['p50']:.1f} "
          f"| {r['p95']:.1f} | {floor:.1f} | {r['floor_rate']:.1f} | {rate / r['floor_rate']:.2f}× |")
    print(f"\nB7 RSS after the run: workers {', '.join(f'{m:.0f}' for m in rss['workers'])} MB; "
          f"scheduler {rss['scheduler']:.0f} MB; gunicorn master {rss['master']:.0f} MB")
    for e in errors[:3]:
        print("error:", e)
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=1))


if __name__ == "__main__":
    main()
