"""State survives a restart: a fresh process (no caches, no shared memory) loads an instance and continues it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select

from app.processes import services
from app.processes.models import HumanTask, ProcessInstance

pytestmark = pytest.mark.commits  # a fresh process must read what the test committed

ROOT = Path(__file__).resolve().parents[3]

CONTINUE = textwrap.dedent("""
    import json, sys
    from sqlalchemy import select
    from app import create_app
    from app.auth.models import User
    from app.processes import services
    from app.processes.models import HumanTask

    app = create_app({"DATABASE_URL": sys.argv[1]})
    svc = app.extensions["collabflow"]
    with svc.sessions() as session:
        row = session.scalar(select(HumanTask).where(HumanTask.instance_id == int(sys.argv[2]),
                                                     HumanTask.state == "ready"))
        ser = session.scalar(select(User).where(User.username == "ser"))
        result = services.complete_task(session, svc.workflows, user=ser, human_task_id=row.id,
                                        data={"decision": "approve"})
        print(json.dumps({"status": result.status, "outcome": result.data.get("outcome")}))
""")


def test_a_new_process_continues_an_instance(session, wf_engine, users, version, migrated, tmp_path):
    started = services.start_instance(session, wf_engine, user=users["staff"], process_id="approval")
    row = session.scalar(select(HumanTask).where(HumanTask.instance_id == started.instance_id))
    services.complete_task(session, wf_engine, user=users["staff"], human_task_id=row.id, data={"plan": "persist"})

    env = {"PATH": "/usr/bin:/bin", "COLLABFLOW_INSTANCE": str(tmp_path), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", CONTINUE, migrated, str(started.instance_id)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"status": "completed", "outcome": "approved: PERSIST"}
    session.expire_all()
    assert session.get(ProcessInstance, started.instance_id).status == "completed"
