"""B8: PDF exports off the request path. A relationship walked through all eight stages with a year of reviews
(the compliance tests' scenario); over HTTP as its SER:

- the old way, printing inside the request (`exports.pack_download` / `plan_download`, what the page did);
- the request now: GET the PDF (a job is queued, 303 to its progress page) and the progress page;
- the print the scheduler does (`export_jobs.render_waiting`);
- asking again while nothing changed: the kept file, at once;
- after an unrelated change: a new job whose print reuses the kept file (no rendering).

Target: the page answers within 200 ms whatever the size (request p50 <= 200 ms) and a repeated request for an
unchanged export is at least 10x faster than printing it.

    .venv/bin/python bench/exports.py [--repeat 5] [--database-url URL] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import fresh_app  # noqa: E402


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    value = fn(*args, **kwargs)
    return (time.perf_counter() - started) * 1000, value


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    app, url = fresh_app(args.database_url, "exports", WTF_CSRF_ENABLED=False)
    svc = app.extensions["collabflow"]
    from sqlalchemy import delete

    from app.audit.services import record
    from app.compliance import export_jobs, exports, rmp
    from app.compliance.models import RenderedExport
    from app.db import utcnow
    from tests.support.compliance import build_scenario, make_users
    from tests.support.web import PASSWORD, set_password

    with svc.sessions() as session:
        users = make_users(session)
        facts = build_scenario(session, svc, users)
        rel, ser = facts["happy"], users["ser"]
        set_password(session, ser)
        number = rmp.versions(session, rel, viewer=ser)[-1].number
    client = app.test_client()
    assert client.post("/sign-in", data={"username": "ser", "password": PASSWORD}).status_code == 302
    rows, raw = [], {}
    for what, path, old in (
            ("assessor pack", f"/relationships/{rel}/assessor-pack.pdf",
             lambda s: exports.pack_download(s, s.get(type(ser), ser.id), rel, "pdf", now=utcnow())),
            ("plan", f"/relationships/{rel}/rmp/{number}.pdf",
             lambda s: exports.plan_download(s, s.get(type(ser), ser.id), rel, number, "pdf", now=utcnow()))):
        printed, asked, progress, render, kept, reused = [], [], [], [], [], []
        for _ in range(args.repeat):
            with svc.sessions() as session:
                printed.append(timed(old, session)[0])
                record(session, "bench.change", actor=ser.username, at=utcnow(), payload={})  # a new stamp
                session.commit()
            ms, response = timed(client.get, path)
            assert response.status_code == 303, (response.status_code, response.get_data(as_text=True)[:300])
            asked.append(ms)
            progress.append(timed(client.get, response.headers["Location"])[0])
            with svc.sessions() as session:  # a real print: forget the kept files first
                session.execute(delete(RenderedExport))
                session.commit()
                render.append(timed(export_jobs.render_waiting, session, now_fn=utcnow)[0])
            ms, again = timed(client.get, path)
            assert again.status_code == 200 and again.data.startswith(b"%PDF-"), again.status_code
            kept.append(ms)
            with svc.sessions() as session:  # unrelated change: a new job, the same source, no rendering
                record(session, "bench.unrelated", actor=ser.username, at=utcnow(), payload={})
                session.commit()
            assert client.get(path).status_code == 303
            with svc.sessions() as session:
                reused.append(timed(export_jobs.render_waiting, session, now_fn=utcnow)[0])
        p50 = {k: statistics.median(v) for k, v in (("print in request", printed), ("request", asked),
                                                    ("progress page", progress), ("print job", render),
                                                    ("unchanged again", kept), ("job reusing the file", reused))}
        raw[what] = p50
        rows.append((what, p50))

    database = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(f"B8 PDF exports, {database}, p50 ms over {args.repeat}")
    print("| export | print in the request (before) | request now | progress page | print job | "
          "unchanged, asked again | new job, same source | before / request now |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for what, p in rows:
        print(f"| {what} | {p['print in request']:.0f} | {p['request']:.1f} | {p['progress page']:.1f} | "
              f"{p['print job']:.0f} | {p['unchanged again']:.1f} | {p['job reusing the file']:.0f} | "
              f"{p['print in request'] / p['request']:.0f}x |")
    if args.json:
        Path(args.json).write_text(json.dumps({"database": database, "p50_ms": raw}, indent=1))


if __name__ == "__main__":
    main()
