"""The portfolio dashboard in a real browser: its stage counts match the relationships seeded; partners get 403."""

from __future__ import annotations

from playwright.sync_api import expect

from app.db import utcnow
from app.relationships import demo
from app.relationships import services as relationships
from tests.support.browser import sign_in
from tests.support.driver import approve_organisation

SEEDED = [("North", 2), ("East", 2), ("South", 4), ("West", 4)]  # title, the stage it is driven to


def seed(session, services, users):
    now, people = utcnow(), list(users.values())
    approve_organisation(session, services, users, now)  # stages 1 and 3 are the organisation's, done once
    for title, stage in SEEDED:
        started = relationships.start(session, services.workflows, users["staff"], title=title,
                                      partner=f"{title} Ltd", now=now)
        reached = demo.advance(session, services.workflows, started.instance_id, stage, people, now=now)
        assert reached == stage, (title, reached)


def test_the_dashboard_counts_the_relationships_by_stage(live_server, page, session, services, users, bundled):
    seed(session, services, users)
    sign_in(page, live_server, session, users["ser"])
    page.get_by_role("link", name="Dashboard").click()
    page.wait_for_url(live_server + "/dashboard")
    assert page.get_by_role("heading", name="Portfolio dashboard", level=1).is_visible()

    expected = {str(n): sum(1 for _t, s in SEEDED if s == n) for n in range(1, 9)} | {"none": 0}
    bars = page.locator("#chart-stages g.bar")
    drawn = {bars.nth(i).get_attribute("data-stage"): int(bars.nth(i).get_attribute("data-count"))
             for i in range(bars.count())}
    assert drawn == expected
    rows = page.locator("#stage-counts tbody tr")
    table = {rows.nth(i).get_attribute("data-stage"): int(rows.nth(i).locator("td").last.inner_text())
             for i in range(rows.count())}
    assert table == expected
    assert page.locator('[data-figure="relationships"] b').inner_text() == str(len(SEEDED))
    assert page.locator("#chart-stages > title").text_content() == "Relationships by stage"

    # stage 2 was passed by two: its times are charted; the risk heat map is there
    assert page.locator('#stage-times tr[data-stage="2"]').get_attribute("data-count") == "2"
    expect(page.locator("svg.heatmap g.cell")).to_have_count(25)

    # printable without scripts: a print stylesheet, and the same figures as JSON
    expect(page.locator('style[media="print"]')).to_have_count(1)
    data = page.request.get(live_server + "/dashboard?format=json").json()
    assert data["by_stage"] == {("not_started" if k == "none" else k): v for k, v in expected.items()}


def test_a_partner_gets_the_403_page(live_server, page, session, users, bundled):
    sign_in(page, live_server, session, users["pser"])
    expect(page.get_by_role("link", name="Dashboard")).to_have_count(0)
    response = page.goto(live_server + "/dashboard")
    assert response.status == 403
    assert "not shared with partner organisations" in page.get_by_role("heading", level=1).inner_text()
