"""Issue 19's export bar at five years: an assessor asks for the pack of a relationship that has lived five years
in stage 7 (tests/support/compliance.build_five_years); the page answers at once with progress and prints
nothing; the scheduler's export job prints it; the progress page leads to a real PDF holding all five years;
asking again for the unchanged pack serves the kept file and prints nothing, and so does a new job after a
change the pack does not show. Times are printed (`-s` or `-rP` shows them), never asserted: the machine is
shared."""

from __future__ import annotations

import hashlib
import io
import re
import time
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.compliance.models import ExportJob, RenderedExport
from app.jobs.scheduler import TimerScheduler
from tests.support.compliance import QUARTERS, build_five_years, issue_title, plan_update
from workflows import add_period

FILE_LINK = re.compile(r'href="(/exports/\d+/file)"')


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


@pytest.fixture(scope="module")
def five_years(session, services, users):
    started = time.perf_counter()
    facts = build_five_years(session, services, users)
    print(f"\nfive-year relationship built in {time.perf_counter() - started:.1f} s")
    return facts


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def _pack_events(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "export.assessor_pack"))


def _day(moment) -> str:
    """A date as the pack prints it: '26 Feb 2022'."""
    return f"{moment:%d %b %Y}".lstrip("0")


def _text(pdf: bytes) -> tuple[str, int]:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split()), len(pages)


def _render_exports(services) -> tuple[int, float]:
    """The scheduler's export job (its real function, run once, as an APScheduler wake-up would)."""
    started = time.perf_counter()
    taken = TimerScheduler(services).render_exports()
    return taken, time.perf_counter() - started


def test_the_five_year_pack_answers_at_once_prints_off_the_request_and_is_not_printed_twice(
        signed_in, session, services, users, five_years):
    rel = five_years["relationship"]
    assert five_years["reviews"] >= 5 * QUARTERS and len(five_years["issues"]) == 50
    client, url = signed_in("assessor"), f"/relationships/{rel}/assessor-pack.pdf"
    prints, jobs, events = _count(session, RenderedExport), _count(session, ExportJob), _pack_events(session)

    # 1. the request queues a job and answers with its progress page: nothing printed, nothing handed out
    started = time.perf_counter()
    asked = client.get(url)
    request_s = time.perf_counter() - started
    assert asked.status_code == 303, asked.get_data(as_text=True)[:300]
    progress = asked.headers["Location"]
    assert re.fullmatch(r"/exports/\d+\?auto=1", progress), progress
    assert _count(session, RenderedExport) == prints, "the request printed the pack"
    assert _count(session, ExportJob) == jobs + 1 and _pack_events(session) == events
    job = session.get(ExportJob, int(re.search(r"/exports/(\d+)", progress).group(1)))
    assert (job.what, job.relationship_id, job.user_id, job.status) == ("assessor_pack", rel, users["assessor"].id,
                                                                        "queued")
    assert job.content_sha256 is None and job.attempts == 0
    page = client.get(progress)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-status="queued"' in html and "<progress" in html and "Waiting for the printer" in html
    assert 'http-equiv="refresh"' in html, "the page follows the job by itself"

    # 2. the scheduler's export job prints it, once
    taken, render_s = _render_exports(services)
    assert taken == 1
    assert _count(session, RenderedExport) == prints + 1
    session.refresh(job)
    assert (job.status, job.rendered, job.attempts) == ("done", True, 1)

    # 3. the progress page leads to the PDF
    html = client.get(progress).get_data(as_text=True)
    assert 'data-status="done"' in html
    link = FILE_LINK.search(html).group(1)
    assert f"url={link}" in html, "the download starts when the page sees the job done"
    pdf = client.get(link)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")
    assert pdf.headers["Content-Disposition"].startswith('attachment; filename="Five-year-bid-assessor-pack-')
    text, pages = _text(pdf.data)
    _holds_five_years(text, five_years)
    print(f"\nfive-year assessor pack: request {request_s * 1000:.0f} ms (303 to the progress page), "
          f"print job {render_s:.1f} s, {pages} pages, {len(pdf.data) / 1024:.0f} KB")

    # 4. asked again while nothing changed: the kept file at once, no new job, nothing printed
    started = time.perf_counter()
    again = client.get(url)
    again_s = time.perf_counter() - started
    assert again.status_code == 200 and again.mimetype == "application/pdf"
    assert hashlib.sha256(again.data).hexdigest() == hashlib.sha256(pdf.data).hexdigest()
    assert _count(session, ExportJob) == jobs + 1 and _count(session, RenderedExport) == prints + 1
    session.expire_all()
    last = session.scalars(select(AuditEvent).where(AuditEvent.action == "export.assessor_pack")
                           .order_by(AuditEvent.id.desc())).first()
    assert (last.actor, last.payload["export_job"], last.payload["rendered"]) == ("assessor", job.id, True)
    print(f"five-year assessor pack, asked again unchanged: {again_s * 1000:.0f} ms (200, the kept file)")

    # 5. a change the pack does not show (a colleague added): a new job, whose print reuses the kept file
    from app.auth.services import create_user
    create_user(session, "newcomer", password=None, roles=["staff"], organisation="Us", organisation_kind="own",
                actor=users["admin"])
    session.commit()
    queued = client.get(url)
    assert queued.status_code == 303 and queued.headers["Location"] != progress
    taken, reuse_s = _render_exports(services)
    assert taken == 1 and _count(session, RenderedExport) == prints + 1, "the unchanged pack was printed again"
    html = client.get(queued.headers["Location"]).get_data(as_text=True)
    assert "nothing changed since it was last printed" in html
    reused = client.get(FILE_LINK.search(html).group(1))
    assert reused.data == pdf.data
    print(f"five-year assessor pack, new job for the unchanged pack: {reuse_s * 1000:.0f} ms, nothing printed")


def _holds_five_years(text: str, facts: dict) -> None:
    """The PDF holds every year: the issue log all 50 issues (a year-1 and a year-5 one with the days they were
    raised), the exit triggers of years 1 and 5, the first quarterly review (year 1, summarised with the earlier
    evidence) and the last (year 5, listed), the stage-7 plan update of year 5."""
    assert "Five-year bid" in text and "Issue log (50 entries)" in text
    for year in range(1, 6):
        n, _year, raised = next(i for i in facts["issues"] if i[1] == year)
        assert f"{issue_title(n, year)} {_day(raised)}, {raised:%H:%M} UTC" in text, f"no issue of year {year}"
        assert f"Year {year}: change of control rumour" in text, f"no exit trigger of year {year}"
    assert issue_title(50, 5) in text
    first_review, last_review = (add_period(facts["anchor"], "P3M", q) + timedelta(minutes=1) for q in (1, QUARTERS))
    assert re.search(rf"\d+ earlier pieces of evidence, first on {_day(first_review)}", text), \
        "the year-1 reviews are not accounted for"
    assert f"Rate outputs, risk, alignment, behaviours, trust; governance — jmt, {_day(last_review)}" in text, \
        "the year-5 review is not listed"
    assert plan_update(5) in text
