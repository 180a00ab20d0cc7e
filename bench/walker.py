"""What the HTTP benchmarks (B1, B5, B7) share: a real server as a subprocess on 127.0.0.1, a keep-alive JSON
client with bearer tokens, and a walker that drives a relationship along the bundled lifecycle's happy path
through the public API only, the way an integrator would (read the task, fill its form, attach evidence,
complete). Kept apart so that every figure comes from the same code path.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import fresh_app  # noqa: E402

COLLABFLOW = str(ROOT / ".venv" / "bin" / "collabflow")
PEOPLE = (("staff", ["staff"], "own"), ("ser", ["ser"], "own"), ("ser2", ["ser"], "own"), ("jmt", ["jmt"], "own"),
          ("pser", ["ser"], "partner"), ("owner", ["process_owner"], "own"),
          ("top", ["top_management"], "own"))


# ----------------------------------------------------------------------------------------------- setup
def prepare(database_url: str | None, name: str, extra_files=None, extra_forms=None):
    """(app, url, tokens): an empty database, the bundled lifecycle (plus any extra diagrams and forms)
    deployed, the people and one bearer token each (made once, by the token service: 'sign-in done once'), and the
    organisation's management system approved through stage 3 (every relationship needs it before stage 4)."""
    from app.auth.services import create_user
    from app.db import utcnow
    from app.processes.services import deploy_version
    from app.tokens.services import create_token
    from workflows import read_directory

    app, url = fresh_app(database_url, name)
    svc = app.extensions["collabflow"]
    tokens = {}
    with svc.sessions() as session:
        users = {n: create_user(session, n, password=None, roles=roles, organisation_kind=kind,
                                organisation="Partner Ltd" if kind == "partner" else "Us")
                 for n, roles, kind in PEOPLE}
        files, forms = read_directory(ROOT / "bpmn", ROOT / "forms")
        deploy_version(session, svc.workflows, {**files, **(extra_files or {})}, {**forms, **(extra_forms or {})},
                       user=users["owner"])
        for n, user in users.items():
            tokens[n] = create_token(session, user, name="bench", days=1, now=utcnow()).secret
        session.commit()
        from tests.support.driver import approve_organisation
        approve_organisation(session, svc, users, utcnow())
    return app, url, tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(url: str) -> dict:
    return {**os.environ, "DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(16)}


@contextmanager
def server(url: str, *, workers: int = 1, threads: int = 4, scheduler_process: bool = False):
    """`collabflow serve` (gunicorn) on a free 127.0.0.1 port, timers off in the workers; with
    scheduler_process, a `collabflow scheduler` beside it. Yields (port, gunicorn master pid, scheduler pid)."""
    port = free_port()
    log = open(os.path.join(os.environ.get("COLLABFLOW_INSTANCE", "/tmp"), f"server-{port}.log"), "wb")
    procs = [subprocess.Popen([COLLABFLOW, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers",
                               str(workers), "--threads", str(threads), "--no-scheduler"], env=_env(url),
                              stdout=subprocess.DEVNULL, stderr=log)]
    if scheduler_process:
        procs.append(subprocess.Popen([COLLABFLOW, "scheduler"], env=_env(url), stdout=subprocess.DEVNULL,
                                      stderr=log))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200 and len(worker_pids(procs[0].pid)) == workers:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or procs[0].poll() is not None:
                raise RuntimeError(f"the server did not start; see {log.name}")
            time.sleep(0.2)
        yield port, procs[0].pid, procs[1].pid if scheduler_process else None
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(entry))
    return pids


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# ----------------------------------------------------------------------------------------------- client
class ApiError(Exception):
    pass


class Api:
    """One keep-alive connection speaking JSON to /api/v1 with a bearer token."""

    def __init__(self, port: int, token: str, *, keep_alive: bool = True):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.auth = {"Authorization": f"Bearer {token}"}
        self.requests, self.last = 0, 0.0
        self.keep_alive = keep_alive  # False: a new connection per request, as many people's browsers would make

    def call(self, method, path, body=None, content_type="application/json", expect=(200, 201)):
        if body is not None and content_type == "application/json":
            body = json.dumps(body).encode()
        headers = dict(self.auth, **({"Content-Type": content_type} if body is not None else {}))
        self.requests += 1
        if not self.keep_alive or time.monotonic() - self.last > 1.0:  # gunicorn drops idle ones after 2 s
            self.conn.close()
        self.conn.request(method, "/api/v1/" + path, body=body, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        self.last = time.monotonic()
        if response.status not in expect:
            raise ApiError(f"{method} {path}: {response.status} {payload[:300]!r}")
        return json.loads(payload) if payload else None

    def upload(self, task_id: int, field: str) -> str:
        boundary = uuid.uuid4().hex
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{field}.pdf"\r\n'
                f"Content-Type: application/pdf\r\n\r\n%PDF-1.4 evidence\r\n--{boundary}--\r\n").encode()
        return self.call("POST", f"tasks/{task_id}/evidence?field={field}", body,
                         f"multipart/form-data; boundary={boundary}")["id"]


# ----------------------------------------------------------------------------------------------- walking
def person_for(task: dict) -> str:
    """Who completes it on the happy path: the lane's role, the partner's SER for the Partner SER lane."""
    if task["role"] == "ser" and task["lane"] == "Partner SER":
        return "pser"
    if task["role"] == "ser":  # four eyes: the SER who selected the partner may not approve stage 4 alone
        return "ser2" if task.get("approval_gate") and task["stage"]["number"] == 4 else "ser"
    return "jmt" if task["role"] == "jmt" else "staff"


def form_data(schema: dict, current: dict, upload) -> dict:
    """What a person submits: current values kept, the rest sampled (tests' driver), evidence really attached."""
    from tests.support.driver import cite_evidence, fill_form

    return cite_evidence(schema, fill_form(schema, current), upload)


def walk(apis: dict[str, Api], title: str, *, until_stage: int = 99, before=None, timings=None, deadline=None):
    """Start a relationship and complete its lifecycle tasks over the API until `until_stage`, the end or
    `deadline` (monotonic). `before(task_id, data)` runs before each timed completion; `timings` gets
    (duration s, completed at monotonic). Returns (relationship id, completions)."""
    # the partner is pser's organisation, so its SER may see and decide the joint gates
    started = apis["staff"].call("POST", "relationships", {"title": title, "partner": "Partner Ltd"})
    tasks, done = started["tasks"], 0
    while deadline is None or time.monotonic() < deadline:
        lifecycle = [t for t in tasks if t["stage"]["number"]]
        if not lifecycle or lifecycle[0]["stage"]["number"] >= until_stage:
            break
        task = lifecycle[0]
        api = apis[person_for(task)]
        detail = api.call("GET", f"tasks/{task['id']}")
        if not detail["may_complete"]:
            raise ApiError(f"{person_for(task)} may not complete {task['name']}: {detail['refusal']}")
        data = form_data(detail["schema"] or {}, detail["data"], lambda f, a=api, t=task["id"]: a.upload(t, f))
        if before is not None:
            before(task["id"], data)
        t0 = time.perf_counter()
        result = api.call("POST", f"tasks/{task['id']}/complete", {"data": data})
        if timings is not None:
            timings.append((time.perf_counter() - t0, time.monotonic()))
        done += 1
        tasks = result["next_tasks"]
    return started["id"], done
