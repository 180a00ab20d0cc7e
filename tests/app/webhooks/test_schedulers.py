"""Several schedulers on PostgreSQL: each claims a subscription while its deliveries go out, so every delivery is
sent once and each subscription's in order. (SQLite runs one scheduler per database: docs/integrations.md.)"""

from __future__ import annotations

import threading

import pytest

from app.audit.services import record
from app.db import utcnow
from app.webhooks.delivery import DELIVERY_HEADER, deliver_due
from tests.support.webhooks import Receiver

pytestmark = pytest.mark.commits  # the schedulers deliver from their own threads, on their own connections


def test_two_schedulers_send_each_delivery_once_and_in_order(services, session, subscribe):
    if services.db_engine.dialect.name != "postgresql":
        pytest.skip("claiming a subscription needs PostgreSQL's SKIP LOCKED")
    receiver = Receiver(delay=0.02).start()
    try:
        hooks = [subscribe(receiver.url.replace("/hooks/", f"/hooks/{n}/"), ["version.deployed"]) for n in (1, 2)]
        for n in range(12):
            record(session, "version.deployed", actor="owner", payload={"version_id": n, "message": f"v{n}"})
        session.commit()
        now = utcnow()

        def scheduler():
            with services.sessions() as own:
                deliver_due(own, now)
        threads = [threading.Thread(target=scheduler) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        ids = [r.headers[DELIVERY_HEADER] for r in receiver.received]
        assert len(ids) == len(set(ids)) == 24, "each delivery once"
        for n, _hook in enumerate(hooks, start=1):
            versions = [r.json["data"]["version"]["id"] for r in receiver.received if r.path.startswith(f"/hooks/{n}/")]
            assert versions == list(range(12)), "in order"
    finally:
        receiver.stop()
