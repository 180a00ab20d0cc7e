"""Issue 19 in Debian's Chromium: an SER asks for the plan as PDF; the page answers at once with the export's
progress, the running scheduler prints it, and the download starts by itself."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.jobs.scheduler import TimerScheduler
from tests.support.browser import sign_in


@pytest.fixture
def scheduler(services):
    timers = TimerScheduler(services, safety_interval=3600, watch_interval=0.2).start()
    yield timers
    timers.shutdown()


def test_the_plan_pdf_shows_its_progress_and_downloads_by_itself(page, live_server, session, users,
                                                                 working_together, scheduler):
    rel = working_together.instance_id
    sign_in(page, live_server, session, users["ser"])
    page.goto(f"{live_server}/relationships/{rel}/rmp")
    with page.expect_download(timeout=120_000) as download:
        page.locator("tr[data-version]").first.get_by_role("link", name="PDF").click()
        page.wait_for_url(re.compile(r".*/exports/\d+(\?auto=1)?$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("as PDF")
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".pdf")
    with open(path, "rb") as f:
        assert f.read(5) == b"%PDF-"
    expect(page.locator("#export")).to_have_attribute("data-status", "done", timeout=30_000)
