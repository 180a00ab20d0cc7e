"""Two tabs saving the same new draft at the same moment: both saves succeed, one draft remains."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.modeler import services as modeler
from app.modeler.models import Draft

pytestmark = pytest.mark.commits  # two threads save at the same moment on their own connections


def test_simultaneous_first_saves_of_one_draft_do_not_fail(services, session, users):
    barrier, outcomes, looks = threading.Barrier(2), [], []
    original = modeler.draft

    def both_look_first(*args, **kwargs):  # both find no draft before either writes (first looks only)
        found = original(*args, **kwargs)
        looks.append(1)
        if len(looks) <= 2:
            barrier.wait(timeout=10)
        return found

    modeler.draft = both_look_first
    try:
        def save(content):
            with services.sessions() as own:
                owner = own.get(User, users["owner"].id)
                try:
                    modeler.save_draft(own, owner, "bpmn", "approval.bpmn", content)
                    outcomes.append("ok")
                except Exception as exc:  # noqa: BLE001 - the test reports whatever escaped
                    outcomes.append(repr(exc))

        threads = [threading.Thread(target=save, args=(text,)) for text in (b"<one/>", b"<two/>")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    finally:
        modeler.draft = original
    assert outcomes == ["ok", "ok"]
    assert session.scalar(select(func.count()).select_from(Draft)) == 1
