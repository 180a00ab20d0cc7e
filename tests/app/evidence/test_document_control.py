"""Document control for evidence: a new version of a document keeps the earlier ones with their checksums,
and what a task cited still points to the version it cited."""

from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.errors import BadRequest, Forbidden
from app.evidence import services as evidence
from app.inbox import services as inbox
from app.processes.models import HumanTask
from app.relationships import services as relationships
from tests.support.web import Browser, set_password


def test_a_new_version_supersedes_and_keeps_the_old_one(app, session, wf_engine, users, bundled):
    rel = relationships.start(session, wf_engine, users["staff"], title="Docs", partner="Docs Ltd", now=utcnow())
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == rel.instance_id,
                                                  HumanTask.state == "ready").order_by(HumanTask.id))
    first = inbox.attach_evidence(session, users["admin"], task.id, evidence.Upload("policy.txt", io.BytesIO(b"v1")),
                                  field=None, max_bytes=10_000, now=utcnow())
    second = evidence.supersede(session, users["ser"], first.id, evidence.Upload("policy.txt", io.BytesIO(b"v2")),
                                max_bytes=10_000, now=utcnow())
    assert (second.version, second.document_id) == (2, first.id)
    with pytest.raises(BadRequest):  # only the current version can be superseded
        evidence.supersede(session, users["ser"], first.id, evidence.Upload("p.txt", io.BytesIO(b"v3")),
                           max_bytes=10_000, now=utcnow())
    session.rollback()
    with pytest.raises(Forbidden):
        evidence.supersede(session, users["assessor"], second.id, evidence.Upload("p.txt", io.BytesIO(b"v3")),
                           max_bytes=10_000, now=utcnow())
    session.rollback()
    found = evidence.versions(session, users["assessor"], first.id)
    assert [(f.version, f.sha256, f.superseded_at is not None) for f in found] == [
        (2, hashlib.sha256(b"v2").hexdigest(), False), (1, hashlib.sha256(b"v1").hexdigest(), True)]
    assert [f.id for f in evidence.for_relationship(session, rel.instance_id)] == [second.id]
    assert evidence.download(session, users["staff"], first.id, now=utcnow())[1] == b"v1"  # still readable

    set_password(session, users["staff"])
    browser = Browser(app.test_client())
    browser.sign_in("staff")
    page = browser.get(f"/evidence/{second.id}/versions").get_data(as_text=True)
    assert hashlib.sha256(b"v1").hexdigest() in page and "superseded" in page
    posted = browser.post(f"/evidence/{second.id}/versions", {"file": (io.BytesIO(b"v3"), "policy.txt")},
                          page=f"/evidence/{second.id}/versions", content_type="multipart/form-data")
    assert posted.status_code == 302
    assert [f.version for f in evidence.versions(session, users["staff"], first.id)] == [3, 2, 1]
