"""B7 (storage): how many bytes of instance state one relationship leaves behind after the happy path.

The bundled lifecycle driven to its natural end through the services (the tests' driver: each task by a
person of its lane, forms filled with valid data), on SQLite. Counts the stored state of the relationship's
instance and of its linked instances (periodic reviews), against SpiffWorkflow's standard full JSON (with
the specs) of the same instances, and the rows kept beside it (human tasks, audit events). RSS per worker
is measured by bench/throughput.py.

    .venv/bin/python bench/memory.py [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.walker import PEOPLE, ROOT  # noqa: E402

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()

    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG
    from sqlalchemy import func, select

    from app.audit.models import AuditEvent
    from app.auth.services import create_user
    from app.processes.models import HumanTask
    from app.processes.services import deploy_version
    from bench.common import fresh_app
    from tests.support.driver import Driver, approve_organisation
    from workflows import read_directory
    from workflows.serialization import load_state

    app, _url = fresh_app(None, "memory")
    svc = app.extensions["collabflow"]
    standard = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))
    with svc.sessions() as session:
        users = {n: create_user(session, n, password=None, roles=roles, organisation_kind=kind,
                                organisation="Partner Ltd" if kind == "partner" else "Us")
                 for n, roles, kind in PEOPLE}
        deploy_version(session, svc.workflows, *read_directory(ROOT / "bpmn", ROOT / "forms"), user=users["owner"])
        approve_organisation(session, svc, users, START)  # stages 1 and 3 are the organisation's, done once
        rel = Driver.start(session, svc, users, "lifecycle", {"relationship_name": "Happy"}, now=START)
        completions = 0
        while rel.instance().status == "running" and rel.ready():
            rel.complete(rel.ready()[0])
            completions += 1
        assert rel.completed, "the happy path did not reach the end"
        instances = [rel.instance(), *rel.linked()]
        stored = [len(i.state) for i in instances]
        full = [len(standard.serialize_json(load_state(i.state, svc.workflows.specs(i.version_id))))
                for i in instances]
        ids = [i.id for i in instances]
        tasks = session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.instance_id.in_(ids)))
        events = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.instance_id.in_(ids)))
    r = {"completions": completions, "instances": len(instances), "state_bytes": sum(stored),
         "relationship_state_bytes": stored[0], "linked_state_bytes": sum(stored[1:]), "full_json_bytes": sum(full),
         "human_task_rows": tasks, "audit_events": events}
    print("# bench/memory.py — the bundled lifecycle's happy path, driven to its end on SQLite")
    print()
    print("| completions | instances (relationship + linked) | state KB: relationship + linked = total "
          "| standard full JSON KB | stored / full | human-task rows | audit events |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {completions} | {len(instances)} | {stored[0] / 1024:.0f} + {sum(stored[1:]) / 1024:.0f} = "
          f"{sum(stored) / 1024:.0f} | {sum(full) / 1024:.0f} | {sum(stored) / sum(full):.2f} | {tasks} | {events} |")
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=1))


if __name__ == "__main__":
    main()
