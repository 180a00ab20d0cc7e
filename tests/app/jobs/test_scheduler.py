"""Timers that never miss, with the real clock and real processes: the in-process scheduler fires just after
a due time, catches up on start, hears of saves made by other processes, and any number of scheduler
processes fire each due timer exactly once, even when one is killed half-way."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.jobs.scheduler import TimerScheduler
from app.processes import services as process_services
from app.processes.models import ProcessInstance
from tests.support.bundles import T0

pytestmark = pytest.mark.commits  # the scheduler fires from its own threads and other processes

ROOT = Path(__file__).resolve().parents[3]


def start_timers(session, wf_engine, users, limit, now=None, count=1):
    return [process_services.start_instance(session, wf_engine, user=users["staff"], process_id="timers",
                                            data={"limit": limit}, now=now).instance_id for _ in range(count)]


def fired_at(session, instance_id):
    session.expire_all()
    return session.scalar(select(AuditEvent.at).where(AuditEvent.instance_id == instance_id,
                                                      AuditEvent.action == "timer.fired"))


def wait_for(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    return condition()


@pytest.fixture
def scheduler(services):
    timers = TimerScheduler(services, safety_interval=3600, watch_interval=0.2).start()
    yield timers
    timers.shutdown()


def test_a_timer_fires_just_after_it_falls_due(session, wf_engine, users, version, scheduler):
    (instance_id,) = start_timers(session, wf_engine, users, "PT1S")
    due = session.get(ProcessInstance, instance_id).next_due_at
    at = wait_for(lambda: fired_at(session, instance_id), timeout=5)
    assert at is not None, "the timer did not fire"
    assert due <= at < due + timedelta(seconds=1), (due, at)


def test_timers_that_fell_due_while_nothing_ran_fire_on_start(session, wf_engine, users, version, services):
    ids = start_timers(session, wf_engine, users, "P5D", now=T0, count=3)   # due long ago
    timers = TimerScheduler(services, safety_interval=3600).start()
    try:
        assert wait_for(lambda: all(fired_at(session, i) for i in ids), timeout=5)
    finally:
        timers.shutdown()
    counts = session.execute(select(AuditEvent.instance_id, func.count()).where(
        AuditEvent.action == "timer.fired").group_by(AuditEvent.instance_id)).all()
    assert sorted(counts) == [(i, 1) for i in ids]


def test_a_save_by_another_process_wakes_the_scheduler(migrated, session, wf_engine, users, version, scheduler,
                                                        tmp_path):
    code = ("import sys; from app import create_app; from app.auth.services import get_user; "
            "from app.processes import services as s; app = create_app({'DATABASE_URL': sys.argv[1]}); "
            "svc = app.extensions['collabflow']; session = svc.sessions(); "
            "r = s.start_instance(session, svc.workflows, user=get_user(session, 'staff'), process_id='timers', "
            "data={'limit': 'PT1S'}); print(r.instance_id, r.timers[0].due_at.isoformat())")
    done = subprocess.run([sys.executable, "-c", code, migrated], cwd=ROOT, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # the due time the other process saved (as next_due_at), as it said: the row's next_due_at may already be
    # gone when read here, if the scheduler was quick and fired the timer
    instance_id, due = done.stdout.strip().splitlines()[-1].split()
    instance_id, due = int(instance_id), datetime.fromisoformat(due)
    at = wait_for(lambda: fired_at(session, instance_id), timeout=6)
    assert at is not None and at < due + timedelta(seconds=1.5), (due, at)


def _env(tmp_path, **extra):
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "TZ": "UTC",
            "COLLABFLOW_INSTANCE": str(tmp_path), **extra}


def scheduler_process(migrated, tmp_path, *args):
    return subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()", "scheduler", *args],
                            cwd=ROOT, env=_env(tmp_path, DATABASE_URL=migrated),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def fired_counts(session):
    session.expire_all()
    return dict(session.execute(select(AuditEvent.instance_id, func.count()).where(
        AuditEvent.action == "timer.fired").group_by(AuditEvent.instance_id)).all())


@pytest.mark.slow
def test_three_scheduler_processes_fire_each_of_500_timers_exactly_once(migrated, session, wf_engine, users,
                                                                        version, tmp_path):
    ids = start_timers(session, wf_engine, users, "P5D", now=T0, count=500)
    processes = [scheduler_process(migrated, tmp_path, "--once") for _ in range(3)]
    outputs = [p.communicate(timeout=300) for p in processes]
    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        assert "Traceback" not in err
    total = sum(int(re.search(r"of (\d+) instance", out).group(1)) for out, _ in outputs)
    assert total == 500
    assert fired_counts(session) == {i: 1 for i in ids}
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "instance.error")) == 0


@pytest.mark.slow
def test_a_scheduler_killed_mid_batch_loses_nothing_and_fires_nothing_twice(migrated, session, wf_engine, users,
                                                                           version, tmp_path):
    ids = start_timers(session, wf_engine, users, "P5D", now=T0, count=500)
    victim = scheduler_process(migrated, tmp_path, "--once")
    assert wait_for(lambda: len(fired_counts(session)) >= 20, timeout=120), "the first scheduler never got going"
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=30)  # reap it and close its pipes
    partly = len(fired_counts(session))
    assert partly < 500, "the batch should have been interrupted"
    survivor = scheduler_process(migrated, tmp_path, "--once")
    out, err = survivor.communicate(timeout=300)
    assert survivor.returncode == 0, err
    assert fired_counts(session) == {i: 1 for i in ids}
    # nothing was left locked: the survivor claimed (SKIP LOCKED) and fired every remaining instance
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ProcessInstance).where(
        ProcessInstance.next_due_at.is_(None))) == 500


@pytest.mark.slow
def test_collabflow_serve_fires_a_timer_with_no_request_arriving(migrated, session, wf_engine, users, version,
                                                                 tmp_path):
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()", "serve", "--port", str(port)],
                              cwd=ROOT, env=_env(tmp_path, DATABASE_URL=migrated),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_for(lambda: _listening(port), timeout=60), "serve did not start"
        time.sleep(1.5)                                   # let the worker's scheduler settle
        (instance_id,) = start_timers(session, wf_engine, users, "PT3S")
        due = session.get(ProcessInstance, instance_id).next_due_at
        at = wait_for(lambda: fired_at(session, instance_id), timeout=10)
        assert at is not None, "the timer never fired"
        assert at - due < timedelta(seconds=2), (due, at)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate(timeout=30)


def _listening(port):
    import socket
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_a_pdf_asked_for_is_printed_by_the_running_scheduler_at_once(session, services, users, working_together,
                                                                     scheduler):
    """Issue 19: asking for a PDF wakes the scheduler of this process (no polling interval to wait out); it
    prints the job in its own job and the progress page turns to the download."""
    from app.compliance import export_jobs, rmp
    from app.compliance.models import ExportJob
    from app.db import utcnow
    rel = working_together.instance_id
    number = rmp.versions(session, rel, viewer=users["ser"])[-1].number
    job = export_jobs.request(session, users["ser"], rel, "rmp", number=number, now=utcnow())

    def done():
        session.expire_all()
        return session.get(ExportJob, job.id).status == "done"
    assert wait_for(done, timeout=120), session.get(ExportJob, job.id).status
    assert export_jobs.content(session, session.get(ExportJob, job.id)).startswith(b"%PDF-")
