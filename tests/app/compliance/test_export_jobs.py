"""Issue 19: the plan and assessor-pack PDFs print off the request path. The request answers at once with a
progress page; the scheduler prints the job; the page then links the file. Asking again while nothing changed
serves the kept file at once; after a change that leaves the pack as it was, the job reuses the printed file
instead of printing again. A printer that died mid-job leaves a lease that runs out, and the job is printed on
the next claim; a job that kills its printer every time fails with the reason. Nobody else reads your job."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.audit.services import record
from app.compliance import export_jobs
from app.compliance.models import ExportJob, RenderedExport
from app.db import utcnow
from tests.support.exports import print_waiting


@pytest.fixture(scope="module")
def app(scenario_app):
    return scenario_app


@pytest.fixture(scope="module")
def services(scenario_services):
    return scenario_services


@pytest.fixture(scope="module")
def session(scenario_session):
    return scenario_session


@pytest.fixture(scope="module")
def users(scenario_users):
    return scenario_users


def _renders(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(RenderedExport))


def test_the_pack_answers_at_once_prints_in_the_background_and_is_not_printed_twice(signed_in, session, services,
                                                                                     users, scenario):
    client, happy = signed_in("ser"), scenario["happy"]
    url = f"/relationships/{happy}/assessor-pack.pdf"
    started = time.perf_counter()
    asked = client.get(url)
    answered_in = time.perf_counter() - started
    assert asked.status_code == 303, asked.get_data(as_text=True)[:300]
    progress = asked.headers["Location"]
    assert re.fullmatch(r"/exports/\d+\?auto=1", progress), progress
    page = client.get(progress).get_data(as_text=True)
    assert 'data-status="queued"' in page and "Waiting for the printer" in page
    assert 'http-equiv="refresh"' in page, "the page follows the job by itself"
    assert answered_in < 5, "the request only queues the job (the print takes seconds)"

    before = _renders(session)
    assert print_waiting(services) == 1
    assert _renders(session) == before + 1
    page = client.get(progress).get_data(as_text=True)
    assert 'data-status="done"' in page
    link = re.search(r'href="(/exports/\d+/file)"', page).group(1)
    assert f'url={link}' in page, "the download starts when the page sees the job done"
    pdf = client.get(link)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-") and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith('attachment; filename="ACME-joint-bid-assessor-pack-')
    session.expire_all()
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "export.assessor_pack")
                            .order_by(AuditEvent.id.desc())).first()
    assert (event.actor, event.payload["rendered"]) == ("ser", True)

    # nothing changed: the kept file at once, no new job, nothing printed
    jobs = session.scalar(select(func.count()).select_from(ExportJob))
    again = client.get(url)
    assert again.status_code == 200 and again.data == pdf.data
    assert session.scalar(select(func.count()).select_from(ExportJob)) == jobs and _renders(session) == before + 1

    # a change elsewhere: a new job, but the pack reads the same, so the printed file is used, not printed again
    record(session, "test.unrelated_change", actor=users["admin"], at=utcnow(), payload={})
    session.commit()
    queued = client.get(url)
    assert queued.status_code == 303 and queued.headers["Location"] != progress
    assert print_waiting(services) == 1
    assert _renders(session) == before + 1
    page = client.get(queued.headers["Location"]).get_data(as_text=True)
    assert "nothing changed since it was last printed" in page
    reused = client.get(re.search(r'href="(/exports/\d+/file)"', page).group(1))
    assert reused.data == pdf.data
    session.expire_all()
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "export.assessor_pack")
                            .order_by(AuditEvent.id.desc())).first()
    assert event.payload["rendered"] is False

    # the job is its requester's: the assessor (who may export the pack too) is told it does not exist
    job_id = int(re.search(r"/exports/(\d+)", progress).group(1))
    assert signed_in("assessor").get(progress).status_code == 404
    assert signed_in("assessor").get(f"/exports/{job_id}/file").status_code == 404


def test_a_printer_that_dies_leaves_the_job_to_the_next_claim_and_gives_up_after_three(session, services, users,
                                                                                        scenario):
    happy, ser = scenario["happy"], users["ser"]
    now = utcnow()
    record(session, "test.another_change", actor=users["admin"], at=now, payload={})
    session.commit()
    job = export_jobs.request(session, ser, happy, "rmp", number=2, now=now)
    assert job.status == "queued"
    claimed = export_jobs.claim(session, now)  # ... and the process dies here
    assert (claimed.id, claimed.status, claimed.attempts) == (job.id, "rendering", 1)
    assert export_jobs.claim(session, now + timedelta(minutes=1)) is None, "its lease still runs"
    assert export_jobs.next_render_at(session) == now + export_jobs.LEASE

    later = now + export_jobs.LEASE + timedelta(seconds=1)
    again = export_jobs.claim(session, later)
    assert (again.id, again.attempts) == (job.id, 2)
    done = export_jobs.render(session, again, now=later)
    assert (done.status, done.filename) == ("done", "ACME-joint-bid-PRMP-v2.pdf")
    assert export_jobs.content(session, done).startswith(b"%PDF-")

    record(session, "test.third_change", actor=users["admin"], at=later, payload={})
    session.commit()
    doomed = export_jobs.request(session, ser, happy, "rmp", number=2, now=later)
    moment = later
    for attempt in (1, 2, 3):
        assert export_jobs.claim(session, moment).attempts == attempt  # dies every time
        moment += export_jobs.LEASE + timedelta(seconds=1)
    assert export_jobs.claim(session, moment) is None
    session.refresh(doomed)
    assert doomed.status == "failed" and "every time" in doomed.error


def test_bad_requests_are_answered_at_once_and_queue_nothing(signed_in, session, scenario):
    happy = scenario["happy"]
    jobs = session.scalar(select(func.count()).select_from(ExportJob))
    assert signed_in("ser").get(f"/relationships/{happy}/rmp/99.pdf").status_code == 404
    refused = signed_in("pser").get(f"/relationships/{happy}/assessor-pack.pdf")
    assert refused.status_code == 403 and "not shared with partner organisations" in refused.get_data(as_text=True)
    assert signed_in("other").get(f"/relationships/{happy}/rmp/6.pdf").status_code == 404
    assert signed_in("ser").get("/exports/999999").status_code == 404
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ExportJob)) == jobs


def test_finished_jobs_and_the_pdfs_only_they_used_are_deleted_a_month_on(session, services, users, scenario):
    """A kept PDF is a copy of records that stay: a month after its job finished, both go (printed again if asked
    again); a PDF a recent job still uses stays, and so does that job."""
    happy, ser = scenario["happy"], users["ser"]
    now = utcnow()
    record(session, "test.prune_change", actor=users["admin"], at=now, payload={})
    session.commit()
    old = export_jobs.request(session, ser, happy, "rmp", number=1, now=now)
    print_waiting(services)
    session.refresh(old)
    later = now + timedelta(days=20)
    record(session, "test.prune_change_2", actor=users["admin"], at=later, payload={})
    session.commit()
    recent = export_jobs.request(session, ser, happy, "rmp", number=3, now=later)
    export_jobs.render(session, export_jobs.claim(session, later), now=later)
    session.refresh(recent)
    assert old.status == recent.status == "done" and old.content_sha256 != recent.content_sha256
    old_id, old_sha, recent_id = old.id, old.content_sha256, recent.id

    assert export_jobs.prune(session, now=now + timedelta(days=29)) == (0, 0), "nothing is a month old yet"
    jobs, files = export_jobs.prune(session, now=now + export_jobs.KEPT_FOR + timedelta(hours=1))
    assert jobs >= 1 and files >= 1
    session.expire_all()
    assert session.get(ExportJob, old_id) is None and session.get(RenderedExport, old_sha) is None
    assert export_jobs.content(session, session.get(ExportJob, recent_id)).startswith(b"%PDF-")
