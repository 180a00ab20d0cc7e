"""Registers in a real browser: the risk heat map counts per cell, adding a risk through the form (a wrong
field named, what was typed kept), and an assessor who can read every page but change nothing."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from app.db import utcnow
from app.processes.models import HumanTask
from app.registers import services as registers
from app.relationships import services as relationships
from tests.support.browser import sign_in

RISKS = [("Late deliveries", 4, 3), ("Currency swings", 4, 3), ("Key person leaves", 2, 5), ("Data breach", 1, 5)]


def cell_counts(page) -> dict[tuple[int, int], int]:
    cells = page.locator("svg.heatmap g.cell")
    return {(int(c.get_attribute("data-likelihood")), int(c.get_attribute("data-impact"))):
            int(c.get_attribute("data-count")) for c in cells.all()}


def test_heat_map_counts_each_cell_and_a_new_risk_lands_in_its_cell(live_server, page, session, wf_engine, users,
                                                                    bundled):
    rel = relationships.start(session, wf_engine, users["staff"], title="Heat", partner="Heat Ltd", now=utcnow())
    for name, likelihood, impact in RISKS:
        registers.create(session, users["staff"], rel.instance_id, "risks", {
            "risk": name, "owner": "Sam", "likelihood": likelihood, "impact": impact}, joint=False, now=utcnow())
    sign_in(page, live_server, session, users["staff"])
    page.goto(f"{live_server}/relationships/{rel.instance_id}/registers/risks")
    counts = cell_counts(page)
    assert len(counts) == 25
    assert counts[(4, 3)] == 2 and counts[(2, 5)] == 1 and counts[(1, 5)] == 1
    assert sum(counts.values()) == 4
    assert page.locator("svg.heatmap g.cell[data-likelihood='4'][data-impact='3'] text").first.text_content() == "2"

    form = page.locator("form.register-form")
    form.get_by_label("Risk", exact=True).fill("Supplier insolvency")
    form.get_by_label("Owner", exact=True).fill("Pat")
    form.get_by_label("Likelihood (1-5)").fill("9")
    form.get_by_label("Impact (1-5)").fill("3")
    page.evaluate("document.querySelectorAll('form.register-form input[type=number]')"
                  ".forEach(i => { i.removeAttribute('max'); i.removeAttribute('min'); })")  # let the server judge
    form.get_by_role("button", name="Add").click()
    assert "9 is greater than the maximum of 5" in page.locator("#f-likelihood-error").inner_text()
    assert page.get_by_label("Risk", exact=True).input_value() == "Supplier insolvency"  # what was typed is kept
    assert sum(cell_counts(page).values()) == 4  # nothing was added
    page.get_by_label("Likelihood (1-5)").fill("4")
    page.locator("form.register-form").get_by_role("button", name="Add").click()
    assert "Added to the risk register" in page.locator(".flash").inner_text()
    assert cell_counts(page)[(4, 3)] == 3

    page.locator("svg.heatmap g.cell[data-likelihood='4'][data-impact='3']").click()
    assert "likelihood=4" in page.url
    expect(page.locator("table.register tbody tr")).to_have_count(3)


def test_an_assessor_reads_every_page_and_finds_nothing_to_change(live_server, page, session, wf_engine, users,
                                                                  bundled):
    rel = relationships.start(session, wf_engine, users["staff"], title="Audit me", partner="Audit Ltd", now=utcnow())
    entry = registers.create(session, users["staff"], rel.instance_id, "risks", {
        "risk": "Scope creep", "owner": "Sam", "likelihood": 3, "impact": 2}, joint=False, now=utcnow())
    task_id = session.scalar(select(HumanTask.id).where(HumanTask.state == "ready").order_by(HumanTask.id))
    sign_in(page, live_server, session, users["assessor"])
    pages = [f"/relationships/{rel.instance_id}", f"/relationships/{rel.instance_id}/registers",
             f"/registers/entries/{entry.id}", f"/tasks/{task_id}", "/relationships", "/inbox", "/agenda"]
    pages += [f"/relationships/{rel.instance_id}/registers/{name}" for name in
              ("risks", "value", "knowledge", "exit-triggers", "actions", "issues")]
    for path in pages:
        response = page.goto(live_server + path)
        assert response.status == 200, path
        forms = page.locator("form[method=post], form[method=POST]")
        actions = {forms.nth(i).get_attribute("action") for i in range(forms.count())}
        assert actions <= {"/sign-out"}, f"{path} offers the assessor {actions - {'/sign-out'}}"
    # and the server refuses what the pages do not offer
    csrf = page.locator("input[name=csrf_token]").first.input_value()  # the sign-out form's token
    response = page.request.post(f"{live_server}/registers/entries/{entry.id}", form={
        "version": "1", "risk": "Changed", "owner": "x", "likelihood": "1", "impact": "1", "csrf_token": csrf},
        fail_on_status_code=False)
    assert response.status == 403
    assert registers.entry(session, users["staff"], entry.id, now=utcnow())[1].data["risk"] == "Scope creep"
