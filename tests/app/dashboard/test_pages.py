"""The dashboard page: the relationships' figures for every user of our organisation, the organisation's part
(its management system) for those who may read the management system, nothing for a partner."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from tests.app.dashboard.test_services import DAY, raise_nonconformity, set_up_organisation, start
from tests.support.bundles import T0


@pytest.fixture
def organisation(session, services, users, bundled):
    """The management system approved (maturity 2.5), a nonconformity raised by hand, one relationship."""
    approved = set_up_organisation(session, services, users, gate=DAY)
    raise_nonconformity(session, services, users, "Competence records missing", approved.now)
    start(session, services, users, "Alpha", now=T0)
    session.commit()
    return approved


def test_the_dashboard_shows_the_organisations_part(signed_in, organisation):
    response = signed_in("ser").get("/dashboard")
    assert response.status_code == 200
    page = lxml_html.fromstring(response.get_data(as_text=True))
    assert page.xpath('string(//*[@data-figure="relationships"]/b)') == "1"  # the management system is not one
    (part,) = page.xpath('//section[@id="organisation"]')
    assert part.get("data-set-up") == "yes"
    (state,) = part.xpath('.//*[@data-figure="assessment"]')
    assert state.get("data-ready") == "yes" and state.xpath("string(b)") == "Current"
    (score,) = part.xpath('.//*[@data-figure="maturity"]')
    assert score.get("data-score") == "2.5" and score.xpath("string(b)") == "2.5" and score.get("data-trend") is None
    assert part.xpath('string(.//*[@data-figure="open-nonconformities"]/b)') == "1"
    rows = part.xpath('.//table[@id="oldest-nonconformities"]/tbody/tr')
    assert [(r.xpath("string(td[1])"), r.get("data-step")) for r in rows] == [
        ("Competence records missing", "Correct it and find the root cause")]
    for chart_id in ("maturity-chart", "chart-nonconformities"):
        (chart,) = part.xpath(f'.//*[local-name()="svg"][@id="{chart_id}"]')
        assert chart.get("role") == "img"
        assert chart.xpath('./*[local-name()="title"]') and chart.xpath('./*[local-name()="desc"]')
    assert part.xpath('.//a[@href="/management"]')


def test_the_organisations_part_only_for_who_may_read_the_management_system(signed_in, organisation):
    owner = signed_in("owner")  # a process owner sees the relationships' figures, not the management system
    page = owner.get("/dashboard")
    assert page.status_code == 200 and 'id="organisation"' not in page.get_data(as_text=True)
    assert "organisation" not in owner.get("/dashboard?format=json").get_json()
    data = signed_in("assessor").get("/dashboard?format=json").get_json()
    assert data["relationships"] == 1
    assert data["organisation"]["assessment"]["current"] is True and data["organisation"]["open_nonconformities"] == 1
    assert signed_in("pser").get("/dashboard").status_code == 403  # partners never see the dashboard
