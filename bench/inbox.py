"""B3: the inbox at scale. 10,000 open tasks across 5,000 relationships, 50 users in 6 roles.

Measures, for a spread of users, the inbox page (`GET /inbox`, signed in, rendered) and the inbox query
service alone: p50 / p95 over repeated requests; prints the query plans (EXPLAIN) of the main queries so
index use can be checked. Target (issue 9): p95 <= 50 ms on PostgreSQL.

    .venv/bin/python bench/inbox.py [--database-url URL] [--tasks 10000] [--requests 40]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text, update  # noqa: E402

from bench.common import fresh_app  # noqa: E402

ROLES = ["staff", "ser", "jmt", "process_owner", "assessor", "admin"]
LANES = [("Staff", "staff", False), ("SER", "ser", False), ("Joint management team", "jmt", False),
         ("Partner SER", "ser", True)]
PASSWORD = "bench-password"


def build(svc, tasks: int, relationships: int, users: int):
    from app.auth.models import User
    from app.auth.services import create_user, hash_password
    from app.processes.models import HumanTask, ProcessInstance
    from app.processes.services import deploy_version
    from workflows import read_directory

    now = datetime.now(UTC)
    rng = random.Random(7)
    with svc.sessions() as session:
        owner = create_user(session, "owner", password=None, roles=["process_owner"])
        version, _, _ = deploy_version(session, svc.workflows, *read_directory(ROOT / "bpmn", ROOT / "forms"),
                                       user=owner)
        digest = hash_password(PASSWORD)
        people = []
        for n in range(users):
            role = ROLES[n % len(ROLES)]
            partner = role == "ser" and n % 4 == 3
            people.append(create_user(session, f"user{n:02d}", password=None, roles=[role],
                                      organisation="Partner Ltd" if partner else "Us",
                                      organisation_kind="partner" if partner else "own"))
        session.query(User).update({User.password_hash: digest})
        session.commit()
        connection = session.connection()
        instance_ids = []
        for n in range(relationships):
            instance_ids.append(connection.execute(insert(ProcessInstance).values(
                version_id=version.id, process_id="lifecycle", status="running", state="{}", state_format=1,
                revision=1, data={}, title=f"Relationship {n:05d}", created_at=now, updated_at=now)
                .returning(ProcessInstance.id)).scalar())
        connection.execute(update(ProcessInstance).values(root_id=ProcessInstance.id))  # relationships all
        rows = []
        stages = ["stage1_awareness", "stage2_knowledge", "stage3_internal_assessment", "stage4_partner_selection",
                  "stage5_working_together", "stage6_value_creation", "stage7_staying_together", "stage8_exit"]
        for n in range(tasks):
            lane, role, partner = LANES[n % len(LANES)]
            rows.append(dict(instance_id=instance_ids[n % relationships], task_id=f"{n:08d}-0000-0000-0000-000000000000",
                             bpmn_id=f"task_{n % 40}", name=f"Task {n % 40}", process_id=rng.choice(stages), lane=lane,
                             role=role, partner_side=partner, properties={}, state="ready",
                             created_at=now - timedelta(minutes=n), due_at=now + timedelta(days=rng.randint(-5, 30))
                             if n % 3 == 0 else None,
                             assignee_id=people[n % users].id if n % 10 == 0 else None))
        for start in range(0, len(rows), 1000):
            connection.execute(insert(HumanTask), rows[start:start + 1000])
        session.commit()
        return [p.username for p in people]


def percentiles(samples):
    samples = sorted(samples)
    return statistics.median(samples) * 1000, samples[max(0, int(len(samples) * 0.95) - 1)] * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--relationships", type=int, default=5_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()

    app, url = fresh_app(args.database_url, "inbox", WTF_CSRF_ENABLED=False)
    from app.auth.services import get_user
    from app.inbox.queries import InboxFilters, filter_options, inbox

    svc = app.extensions["collabflow"]
    usernames = build(svc, args.tasks, args.relationships, args.users)
    if url.startswith("postgresql"):
        with svc.db_engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    # our own organisation's workers (a partner's inbox holds only the relationships it is the partner of)
    workers = [u for n, u in enumerate(usernames) if ROLES[n % len(ROLES)] in ("staff", "ser", "jmt")
               and not (ROLES[n % len(ROLES)] == "ser" and n % 4 == 3)][:9]

    page, api, query, options = [], [], [], []
    sizes = {}
    for username in workers:
        client = app.test_client()
        response = client.post("/sign-in", data={"username": username, "password": PASSWORD})
        assert response.status_code in (302, 303), response.status_code
        client.get("/inbox")  # warm
        client.get("/api/v1/tasks")
        for _ in range(args.requests // len(workers) + 1):
            started = time.perf_counter()
            response = client.get("/inbox")
            page.append(time.perf_counter() - started)
            assert response.status_code == 200
            started = time.perf_counter()
            response = client.get("/api/v1/tasks")
            api.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
        with svc.sessions() as session:
            user = get_user(session, username)
            for _ in range(args.requests // len(workers) + 1):
                started = time.perf_counter()
                result = inbox(session, user, InboxFilters(), now=datetime.now(UTC))
                query.append(time.perf_counter() - started)
                started = time.perf_counter()
                filter_options(session, user)
                options.append(time.perf_counter() - started)
            sizes[username] = result.total

    kind = url.split(":", 1)[0].split("+")[0]
    print(f"# bench/inbox.py — {kind}, {os.cpu_count()} cores; {args.tasks:,} open tasks, "
          f"{args.relationships:,} relationships, {args.users} users; inbox sizes {min(sizes.values()):,}–"
          f"{max(sizes.values()):,}")
    print()
    print("| database | what | requests | p50 ms | p95 ms |")
    print("|---|---|---:|---:|---:|")
    for label, samples in (("GET /inbox (rendered page)", page), ("GET /api/v1/tasks", api),
                           ("inbox() query service", query), ("filter_options() (the page's drop-downs)", options)):
        p50, p95 = percentiles(samples)
        print(f"| {kind} | {label} | {len(samples)} | {p50:.1f} | {p95:.1f} |")
    if kind == "postgresql":
        explain(svc, workers[0])


def explain(svc, username):
    """EXPLAIN ANALYZE of the very statements the inbox runs for one worker's default view, then for the
    relationship filter and sort, and of its drop-downs' choices (PostgreSQL)."""
    from sqlalchemy import event

    from app.auth.services import get_user
    from app.inbox.queries import InboxFilters, filter_options, inbox

    seen = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    with svc.sessions() as session:
        user = get_user(session, username)
        relationship = inbox(session, user, InboxFilters(), now=datetime.now(UTC)).rows[0].relationship_id
        event.listen(svc.db_engine, "before_cursor_execute", record)
        try:
            inbox(session, user, InboxFilters(), now=datetime.now(UTC))
            inbox(session, user, InboxFilters(relationship=relationship, sort="relationship"), now=datetime.now(UTC))
            filter_options(session, user)
        finally:
            event.remove(svc.db_engine, "before_cursor_execute", record)
        cursor = session.connection().connection.cursor()
        for statement, parameters in seen:
            cursor.execute("EXPLAIN ANALYZE " + statement, parameters)
            print("\n    " + " ".join(statement.split())[:150] + " …")
            print("\n".join("    " + line for (line,) in cursor.fetchall()))


if __name__ == "__main__":
    main()
