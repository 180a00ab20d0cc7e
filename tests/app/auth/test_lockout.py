"""Issue 18: the lockout holds under concurrency. 30 wrong passwords for one account sent at the same moment
check at most 5 passwords (before, 17 were checked before the lock took); the rest are refused as locked."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth import signin
from app.auth.models import User
from app.auth.services import hash_password

PARALLEL = 30
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.mark.commits
def test_thirty_simultaneous_wrong_passwords_check_at_most_five(app, session, users, monkeypatch):
    """Runs on SQLite and PostgreSQL; every row it makes is removed by the `app` fixture (tables emptied)."""
    staff = users["staff"]
    staff.password_hash = hash_password("the right passphrase")
    session.merge(staff)
    session.commit()

    checked, lock = [], threading.Lock()
    real_verify = signin.verify_password

    def counting_verify(password_hash, password):  # counts, and still checks with the real argon2
        with lock:
            checked.append(password)
        return real_verify(password_hash, password)

    monkeypatch.setattr(signin, "verify_password", counting_verify)

    clients = []
    for _ in range(PARALLEL):  # each its own browser, with the CSRF token of its own sign-in page
        client = app.test_client()
        clients.append((client, _TOKEN.search(client.get("/sign-in").get_data(as_text=True)).group(1)))
    start = threading.Barrier(PARALLEL)

    def guess(client_and_token):
        client, csrf = client_and_token
        start.wait()
        response = client.post("/sign-in", data={"csrf_token": csrf, "username": "staff", "password": "wrong"})
        return response.status_code, response.get_data(as_text=True)

    with ThreadPoolExecutor(PARALLEL) as pool:
        answers = list(pool.map(guess, clients))

    assert {status for status, _page in answers} == {401}
    assert len(checked) <= signin.MAX_FAILED, f"{len(checked)} passwords were checked"
    locked = sum("This account is locked" in page for _status, page in answers)
    assert locked >= PARALLEL - signin.MAX_FAILED
    session.expire_all()
    row = session.get(User, staff.id)
    assert row.locked_until is not None  # locked now: even the right password is refused without a check
    before = len(checked)
    client, csrf = clients[0]
    refused = client.post("/sign-in", data={"csrf_token": csrf, "username": "staff",
                                            "password": "the right passphrase"})
    assert refused.status_code == 401 and "This account is locked" in refused.get_data(as_text=True)
    assert len(checked) == before
    assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "user.locked")) is not None
