"""The compliance pages and exports through the browser's eyes, on one module-wide scenario (tests/app/
compliance/conftest.py builds it: the happy path with Partner Ltd, and a relationship stopped when stage 4 began):
the matrix, gap analysis, organisation matrix and plan pages render for staff, SER and assessor and change
nothing; the stopped relationship's gaps are exactly the stage 4-8 requirements; the comparison shows a
changed field side by side; exports are attachments named after the relationship and audited; partner users
get 403 on our records, 404 on other relationships, and the joint plan only."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.compliance.services import catalogue
from tests.support.compliance import BUSINESS_CASE, STAGE_HEADINGS
from tests.support.exports import download_pdf


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


def tree(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return lxml_html.fromstring(response.get_data(as_text=True))


def text_of(page) -> str:
    return " ".join(page.xpath("//main")[0].text_content().split())


def test_the_pages_render_for_staff_ser_and_assessor_and_change_nothing(signed_in, scenario):
    happy, stopped = scenario["happy"], scenario["stopped"]
    for name in ("staff", "ser", "assessor"):
        client = signed_in(name)
        matrix = tree(client.get(f"/relationships/{happy}/compliance"))
        assert len(matrix.xpath('//tr[@data-requirement]')) == 70, "the relationship's own requirements"
        assert {s for s in matrix.xpath('//tr[@data-requirement]/@data-status')} == {"evidenced"}
        assert matrix.xpath('string(//a[@data-status="evidenced"]/b)') == "70"
        assert not matrix.xpath('//tr[@data-requirement="S1.02"]'), "the policy is the organisation's"
        case = " ".join(matrix.xpath('//tr[@data-requirement="S2.05"]')[0].text_content().split())
        assert "business-case.pdf" in case and scenario["case_sha256"] in case and BUSINESS_CASE in case
        assert matrix.xpath(f'//tr[@data-requirement="S2.05"]//a[@href="/evidence/{scenario["case_file"]}"]')
        assert matrix.xpath('//tr[@data-requirement="X.01"]'), "the joint exit decision is the relationship's"
        assert "Risk register:" in text_of(matrix), "register entries the tasks fed are linked"

        assert "No gaps" in text_of(tree(client.get(f"/relationships/{happy}/gaps")))
        organisation = tree(client.get("/compliance"))
        assert {"ACME joint bid", "Stopped early"} <= set(organisation.xpath("//thead//a/text()"))
        assert len(organisation.xpath("//tbody/tr[@data-requirement]")) == 70
        assert organisation.xpath('string(//tr[@class="totals"]/td[@data-relationship=$id])', id=str(happy)) \
            == "70 / 70"

        plans = tree(client.get(f"/relationships/{happy}/rmp"))
        assert plans.xpath("//tr[@data-version]/@data-kind") == ["JRMP"] * 4 + ["PRMP"] + ["CRMP"]
        latest = tree(client.get(f"/relationships/{happy}/rmp/6"))
        assert [h.text_content() for h in latest.xpath('//section[@data-stage]/h2')] == [
            h for n, h in enumerate(STAGE_HEADINGS, 1) if n not in (1, 3)]
        assert "Approved at stage 8" in text_of(latest) and "CRMP version 3" in text_of(latest)

        # the organisation's level: its clauses, the policy with its file, on the management system's page
        home = tree(client.get("/management"))
        policy = " ".join(home.xpath('//tr[@data-requirement="S1.02"]')[0].text_content().split())
        assert "Write the collaborative working policy" in policy
        assert home.xpath('//tr[@data-requirement="M10.1"]/@data-status') == ["evidenced"]

        show = tree(client.get(f"/relationships/{happy}"))
        links = set(show.xpath('//nav[@aria-label="Compliance and plan"]//a/@href'))
        assert {f"/relationships/{happy}/compliance", f"/relationships/{happy}/gaps",
                f"/relationships/{happy}/rmp"} <= links
        assert show.xpath('//header//a[@href="/compliance"]'), "the Compliance link in the header"

        for page in (matrix, organisation, plans, latest, tree(client.get(f"/relationships/{stopped}/gaps"))):
            methods = {m.lower() for m in page.xpath("//main//form/@method")}
            assert methods <= {"get"}, "these pages change nothing"


def test_the_matrix_filters_by_status_and_stage(signed_in, scenario):
    client = signed_in("assessor")
    stopped = scenario["stopped"]
    page = tree(client.get(f"/relationships/{stopped}/compliance?status=not_started&stage=S5"))
    rows = page.xpath("//tr[@data-requirement]")
    assert rows and all(r.get("data-requirement").startswith("S5.") for r in rows)
    assert {r.get("data-status") for r in rows} == {"not_started"}
    page = tree(client.get(f"/relationships/{stopped}/compliance?status=evidenced&stage=S6"))
    assert not page.xpath("//tr[@data-requirement]") and "No requirement matches" in text_of(page)


def test_the_gap_page_of_a_relationship_stopped_before_stage_4_lists_exactly_stages_4_to_8(signed_in, session,
                                                                                           scenario):
    page = tree(signed_in("assessor").get(f"/relationships/{scenario['stopped']}/gaps"))
    expected = {r.id for r in catalogue() if r.stage in ("S4", "S5", "S6", "S7", "S8", "X")}
    assert set(page.xpath("//tr[@data-requirement]/@data-requirement")) == expected
    assert page.xpath("//section[@data-stage]/@data-stage") == ["S4", "S5", "S6", "S7", "S8", "X"]


def test_the_comparison_shows_a_changed_field_side_by_side(signed_in, scenario):
    page = tree(signed_in("ser").get(f"/relationships/{scenario['happy']}/rmp/compare?a=1&b=2"))
    (row,) = page.xpath('//section[@data-stage="0"]//tr[@data-field="Plan type"]')
    assert row.get("data-status") == "changed"
    assert row.xpath("string(td[@class='old'])") == "CRMP" and row.xpath("string(td[@class='new'])") == "PRMP"
    assert page.xpath('//section[@data-stage="4"]/@data-status') == ["added"]
    assert page.xpath('//section[@data-stage="2"]/@data-status') == ["same"]
    assert signed_in("ser").get(f"/relationships/{scenario['happy']}/rmp/compare?a=1&b=99").status_code == 404


def test_exports_are_attachments_named_after_the_relationship_and_audited(signed_in, session, services, scenario):
    client, happy = signed_in("assessor"), scenario["happy"]
    expected = {f"/relationships/{happy}/rmp/1.pdf": ("application/pdf", "ACME-joint-bid-CRMP-v1.pdf"),
                f"/relationships/{happy}/rmp/6.md": ("text/markdown", "ACME-joint-bid-JRMP-v6.md"),
                f"/relationships/{happy}/assessor-pack.csv": ("text/csv", "ACME-joint-bid-assessor-pack-"),
                f"/relationships/{happy}/assessor-pack.xlsx": ("application/vnd.openxmlformats", "ACME-joint-bid-")}
    for url, (mimetype, name) in expected.items():
        response = download_pdf(client, url, services)
        assert response.status_code == 200 and response.mimetype.startswith(mimetype), url
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith(f'attachment; filename="{name}'), disposition
    assert client.get(f"/relationships/{happy}/rmp/1.pdf").data.startswith(b"%PDF-"), "nothing changed: at once"
    assert "## Stage 8: Exit strategy" in client.get(f"/relationships/{happy}/rmp/6.md").get_data(as_text=True)
    session.expire_all()
    actions = [e.action for e in session.scalars(select(AuditEvent).where(
        AuditEvent.instance_id == happy, AuditEvent.action.like("export.%"), AuditEvent.actor == "assessor"))]
    assert actions.count("export.rmp") == 4 and actions.count("export.assessor_pack") == 2


def test_partners_are_refused_our_records_and_see_the_joint_plan_only(signed_in, scenario):
    happy = scenario["happy"]
    partner = signed_in("pser")
    for url in (f"/relationships/{happy}/compliance", f"/relationships/{happy}/gaps", "/compliance",
                f"/relationships/{happy}/assessor-pack.pdf", f"/relationships/{happy}/assessor-pack.csv",
                f"/relationships/{happy}/assessor-pack.xlsx"):
        response = partner.get(url)
        assert response.status_code == 403, url
        assert "not shared with partner organisations" in response.get_data(as_text=True)
    plans = tree(partner.get(f"/relationships/{happy}/rmp"))
    assert plans.xpath("//tr[@data-version]/@data-version") == ["6", "5", "4", "3"]
    latest = tree(partner.get(f"/relationships/{happy}/rmp/6"))
    assert [h.text_content() for h in latest.xpath('//section[@data-stage]/h2')] == STAGE_HEADINGS[4:]
    assert BUSINESS_CASE not in text_of(latest) and "Our cost model" not in text_of(latest)
    assert "CRMP version" not in text_of(latest), "the organisation's plan is not the partner's"
    assert partner.get("/management").status_code == 403
    assert not latest.xpath('//header//a[@href="/compliance"]')
    for number in (1, 2):
        assert partner.get(f"/relationships/{happy}/rmp/{number}").status_code == 404
        assert partner.get(f"/relationships/{happy}/rmp/{number}.md").status_code == 404
    markdown = partner.get(f"/relationships/{happy}/rmp/3.md").get_data(as_text=True)
    assert "## Stage 5: Working together" in markdown and "Stage 4" not in markdown

    other = signed_in("other")  # the partner of no relationship here
    for url in (f"/relationships/{happy}/compliance", f"/relationships/{happy}/rmp",
                f"/relationships/{happy}/rmp/6", f"/relationships/{happy}/rmp/6.pdf",
                f"/relationships/{happy}/rmp/compare?a=3&b=4"):
        assert other.get(url).status_code == 404, url
    assert other.get("/compliance").status_code == 403
