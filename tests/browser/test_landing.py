"""The landing page in a real browser: it renders what is deployed and running, with its own CSS."""

from sqlalchemy import select

from app.processes import services
from app.processes.models import ProcessVersion
from tests.support.browser import sign_in


def test_landing_page_shows_the_deployed_version_and_counts(live_server, page, session, wf_engine, users, lifecycle):
    version = lifecycle  # the pages' test lifecycle, with one relationship on it
    services.start_instance(session, wf_engine, user=users["staff"], process_id="lifecycle", title="ACME")
    sign_in(page, live_server, session, users["staff"])
    responses = []
    page.on("response", lambda r: responses.append((r.url, r.status)))
    page.goto(live_server + "/")
    assert page.locator("h1").inner_text() == "Collaborative relationships, run as the standard says"
    facts = page.locator("dl.facts").inner_text()
    content_hash = session.scalar(select(ProcessVersion.content_hash))
    assert f"#{version.id} ({content_hash[:12]})" in facts
    assert "Relationships\n1" in facts and "Open tasks\n1" in facts
    assert all(status in (200, 304) for _url, status in responses), responses  # 304: cached after sign-in
    assert any(url.endswith("/static/collabflow.css") for url, _ in responses)
    assert page.evaluate("getComputedStyle(document.querySelector('header.top')).backgroundColor") == "rgb(31, 58, 95)"


def test_unknown_page_is_a_readable_404(live_server, page):
    response = page.goto(live_server + "/no-such-page")
    assert response.status == 404
    assert "Back to the start page" in page.content()
