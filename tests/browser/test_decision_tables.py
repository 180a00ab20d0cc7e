"""A process owner edits the partner selection rules (bpmn/partner_selection.dmn) in the dmn-js editor in Debian's
Chromium, validates and deploys them, and the next partner selection ranks by the new table; a cell that cannot run
is refused, listed and marked, as a diagram's problems are."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.db import utcnow
from app.processes.models import ProcessVersion
from app.relationships import services as relationships
from tests.app.lifecycle.test_stages import CANDIDATES, CRITERIA, evaluate_all
from tests.support.browser import sign_in
from tests.support.decisions import cell
from tests.support.driver import Driver, approve_organisation, until_ready

# dmn-js 17's production bundle carries Inferno's development build, which says so on the console on every page
INFERNO_NOTICE = "It looks like you're using a minified copy of the development build of Inferno."


def _status(page, text):
    page.wait_for_function(
        "t => (document.getElementById('status').textContent || '').includes(t)", arg=text, timeout=20000)


def ranking_of_a_new_relationship(session, services, users, title) -> list[tuple[str, float]]:
    """A relationship started now (on the latest version), driven by its people to stage 4's candidate ranking."""
    now = utcnow()
    started = relationships.start(session, services.workflows, users["staff"], title=title, partner="Partner Ltd",
                                  now=now)
    rel = Driver(session, services, users, started.instance_id, now)
    rel.drive(until=until_ready("s4_nominate_candidates"))
    rel.complete("s4_nominate_candidates", {"candidates": CANDIDATES})
    rel.complete("s4_ser_agree_approach", {"approach_decision": "agree"})
    evaluate_all(rel)
    session.commit()
    return [(r["name"], r["weighted_score"]) for r in rel.task_data("s4_action_plans")["candidate_ranking"]]


def edit_cell(page, element_id, text):
    """Type `text` into one cell of the decision table, as a person does: click it, select what is there, type."""
    target = page.locator(f'td[data-element-id="{element_id}"]')
    target.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.locator("h1").click()  # leave the cell: dmn-js writes it into the table
    expect(target).to_have_text(text)


def test_an_owner_edits_the_partner_selection_table_and_the_next_selection_ranks_by_it(
        live_server, page, session, services, users, bundled):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and not m.text.startswith(
        INFERNO_NOTICE) else None)
    approve_organisation(session, services, users, utcnow(),
                         {"s3_selection_criteria": {"selection_criteria": CRITERIA}})
    # the bundled rules: financial standing (60) and culture (40) as weighted in stage 3
    assert ranking_of_a_new_relationship(session, services, users, "Before the edit") == [
        ("Alpha Ltd", 7.2), ("Beta GmbH", 6.6), ("Gamma SA", 6.2)]

    sign_in(page, live_server, session, users["owner"])
    page.get_by_role("link", name="Processes").click()
    page.locator("#decision-files").get_by_role("link", name="partner_selection.dmn").click()
    page.wait_for_selector("#table-box[data-drawn=true]")
    expect(page.locator(".tjs-table")).to_be_visible()  # the decision table view, not the requirements diagram
    expect(page.locator('td[data-element-id="rule_culture_factor"]')).to_have_text("1")

    # a cell that is not an expression: the verdict names it, and the cell is marked
    edit_cell(page, "rule_culture_factor", "[1..5]")
    page.get_by_role("button", name="Validate").click()
    _status(page, "Validation found 1 error(s)")
    expect(page.locator("#problem-table")).to_contain_text("rule 4, output 'Weight factor'")
    expect(page.locator("#table-box")).to_have_attribute("data-problems", "rule_culture_factor")
    expect(page.locator('td[data-element-id="rule_culture_factor"]')).to_have_class(re.compile(r"\bcf-problem\b"))

    # culture counts three times its stage 3 weight
    edit_cell(page, "rule_culture_factor", "3")
    page.get_by_role("button", name="Save draft").click()
    _status(page, "Draft saved")
    page.get_by_role("button", name="Validate").click()
    _status(page, "Valid: no errors")
    page.get_by_placeholder("What changed (deploy message)").fill("Culture counts triple in partner selection")
    page.get_by_role("button", name="Deploy").click()
    _status(page, f"Deployed version {bundled.id + 1}")
    page.get_by_role("link", name="See the version history").click()
    expect(page.locator(f'#history tr[data-version="{bundled.id + 1}"]')).to_contain_text("Culture counts triple")
    assert not errors, errors

    session.expire_all()
    deployed = session.get(ProcessVersion, bundled.id + 1)
    table = next(f.content for f in deployed.files if f.name == "partner_selection.dmn")
    assert next(f.kind for f in deployed.files if f.name == "partner_selection.dmn") == "dmn"
    assert cell(table, "rule_culture_factor") == "3" and cell(table, "rule_financial_standing_factor") == "1"
    # the next partner selection ranks by the edited table: culture x3 puts Beta first
    assert ranking_of_a_new_relationship(session, services, users, "After the edit") == [
        ("Beta GmbH", 7.7), ("Alpha Ltd", 6.7), ("Gamma SA", 4.3)]


def test_the_modeller_shows_which_table_a_business_rule_task_calls_and_opens_it(live_server, page, session, users,
                                                                              bundled):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, live_server, session, users["owner"])
    page.goto(live_server + "/processes/diagrams/stage4_partner_selection.bpmn")
    page.wait_for_selector("#canvas-box[data-drawn=true]")
    page.get_by_role("button", name="Fit").click()  # the stage opens readable at its start: see all of it
    page.locator('.djs-element[data-element-id="s4_weigh_criteria"]').first.click()
    assert page.text_content("#prop-id") == "s4_weigh_criteria"
    called = page.get_by_label("Decision table (called decision)")
    expect(called).to_have_value("criterion_weighting")
    expect(called.locator("option:checked")).to_have_text(
        "Weighting of a selection criterion (criterion_weighting) · partner_selection.dmn")
    page.locator("#open-decision").click()
    page.wait_for_selector("#table-box[data-drawn=true]")
    expect(page.locator("h1")).to_have_text("partner_selection.dmn")
    assert not errors, errors
