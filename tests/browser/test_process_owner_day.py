"""A process owner's routine change, end to end through the browser on the bundled lifecycle: the performance review
made monthly instead of quarterly (a setting of the lifecycle), a new user task in stage 5 with a renamed id, a due
period and a new form built in the field builder; leaving with unsaved edits warns, Ctrl+S saves; the deploy is refused
while the shipped scenarios walk past the new task, and goes through once the owner has added it to them; the
relationship already in stage 5 is moved to the new version from the migration page and reaches the new task, with
its form and due date, and then schedules its performance reviews monthly."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from lxml import etree
from playwright.sync_api import expect

from app.config import ROOT
from app.processes.models import ProcessVersion
from app.processes.services import deploy_version
from tests.support.browser import open_modeller, select_element, sign_in
from tests.support.driver import until_ready
from workflows import read_directory
from workflows.scenarios import SCENARIO_FOLDER, read_scenarios

SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
STAGE5 = "/processes/diagrams/stage5_working_together.bpmn"
LIFECYCLE = "/processes/diagrams/lifecycle.bpmn"


_open, _select = open_modeller, select_element


@pytest.mark.slow
def test_a_new_task_with_a_new_form_and_a_monthly_review_reach_a_moved_relationship(
        page, live_server, app, session, services, users, bundled, working_together):
    app.config["WORKBENCH_AUTOSAVE_MS"] = 0  # what saves here is the person: Ctrl+S, the builder, the deploy
    rel = working_together
    # the bundle as `collabflow deploy` ships it: with the scenarios of its main paths
    files, forms = read_directory(ROOT / "bpmn", ROOT / "forms")
    shipped = read_scenarios(ROOT / "bpmn" / SCENARIO_FOLDER)
    assert len(shipped) >= 5
    base, _warnings, created = deploy_version(session, services.workflows, files, forms, user=users["owner"],
                                              message="the bundle with its scenarios", scenarios=shipped)
    assert created
    errors, dialogs = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.type), d.dismiss()))  # "stay on the page"
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live_server, session, users["owner"])

    # 1. the performance review becomes monthly: a setting of the lifecycle, shown with nothing selected
    _open(page, live_server, LIFECYCLE)
    expect(page.locator("#cadence-R-PM-words")).to_have_text("every 3 months (quarterly)")
    page.locator("#cadence-R-PM-amount").fill("1")
    page.locator("#cadence-R-PM-amount").press("Tab")
    expect(page.locator("#cadence-R-PM-words")).to_have_text("every month (monthly)")
    expect(page.locator("#dirty")).to_have_text("unsaved changes")
    # leaving now would lose it: the browser asks, the person stays, and Ctrl+S saves the draft
    page.evaluate("location.href = '/processes'")
    expect(page.locator("#canvas-box")).to_be_visible()
    assert dialogs == ["beforeunload"] and page.url.endswith(LIFECYCLE)
    page.keyboard.press("Control+s")
    expect(page.locator("#status")).to_have_text(re.compile(r"Draft saved \d\d:\d\d\."))

    # 2. stage 5: a user task after the JRMP, its id and name, a due period
    _open(page, live_server, STAGE5)
    _select(page, "s5_jrmp")
    page.get_by_role("button", name="Insert a user task after").click()
    expect(page.locator("#prop-id")).not_to_have_text("s5_jrmp")
    page.locator("#prop-element-id").fill("s5_check_plan")
    page.locator("#prop-element-id").press("Tab")
    expect(page.locator("#prop-id")).to_have_text("s5_check_plan")
    page.get_by_label("Name").fill("Check the plan")
    page.get_by_label("Name").press("Tab")
    page.get_by_label("Due amount").fill("3")
    page.get_by_label("Due unit").select_option(label="days")
    page.get_by_role("button", name="Set due period").click()
    expect(page.locator("#prop-due-in")).to_have_value("P3D")

    # 3. a new form for it, built field by field; the modeller saves the draft before it goes
    page.get_by_role("button", name="New form for this task").click()
    page.wait_for_url(re.compile(r".*/processes/forms/new\?.*"))
    expect(page.get_by_label("Form name")).to_have_value("s5_check_plan")
    page.get_by_role("button", name="Build the form").click()
    expect(page.locator("#builder[data-ready=true]")).to_have_count(1)
    page.get_by_label("Form title").fill("Check the joint plan")
    page.locator("#fb-add").click()
    page.locator("#fb-0-title").fill("What was checked")
    page.locator("#fb-0-required").check()
    page.locator("#fb-add").click()
    page.locator("#fb-1-title").fill("Outcome")
    page.locator("#fb-1-type").select_option(label="Choice from a list")
    page.locator("#fb-1-choices").fill("Sound\nNeeds changes")
    expect(page.locator('#preview input[name="f.what_was_checked"]')).to_be_visible()
    page.get_by_role("button", name="Save to my drafts and go back").click()
    page.wait_for_url(re.compile(r".*/processes/diagrams/stage5_working_together\.bpmn.*"))
    page.wait_for_selector("#canvas-box[data-drawn=true]")
    expect(page.locator("#prop-id")).to_have_text("s5_check_plan")
    expect(page.get_by_label("Form (JSON Schema)")).to_have_value("s5_check_plan.schema.json")
    expect(page.get_by_label("Form layout (UI schema)")).to_have_value("s5_check_plan.uischema.json")
    page.keyboard.press("Control+s")
    expect(page.locator("#status")).to_have_text(re.compile(r"Draft saved \d\d:\d\d\."))

    # 4. deploy: the latest version's files with the owner's drafts (both diagrams, the form) in place; the shipped
    # scenarios walk from the JRMP straight to the gate, so the deploy is refused, naming each and its step
    message = page.get_by_placeholder("What changed (deploy message)")
    message.fill("Stage 5: check the plan; monthly performance review")
    page.get_by_role("button", name="Deploy").click()
    expect(page.locator("#status")).to_contain_text("Deploy refused: nothing changed", timeout=60000)
    refused = page.locator("#problems tr", has_text=".scenario.json")
    expect(refused.first).to_contain_text("s5_check_plan (Check the plan)")
    broken = sorted({re.search(r"\b(\w+\.scenario\.json)", refused.nth(i).inner_text()).group(1)
                     for i in range(refused.count())})
    assert "happy_path.scenario.json" in broken
    session.expire_all()
    assert session.get(ProcessVersion, base.id + 1) is None

    # the owner adds the new task to each broken scenario, in its editor, and saves it to the drafts
    for name in broken:
        page.goto(live_server + f"/processes/scenarios/{name}")
        editor = page.get_by_label("Scenario (JSON)")
        scenario = json.loads(editor.input_value())
        at = next(i for i, s in enumerate(scenario["steps"]) if s.get("complete") == "s5_jrmp")
        scenario["steps"].insert(at + 1, {"complete": "s5_check_plan",
                                          "data": {"what_was_checked": "the JRMP", "outcome": "sound"}})
        editor.fill(json.dumps(scenario, indent=1))
        page.get_by_role("button", name="Save to my drafts").click()
        expect(page.locator("#saved")).to_contain_text("Saved to your drafts")

    _open(page, live_server, STAGE5)
    page.get_by_role("button", name="Validate").click()
    expect(page.locator("#status")).to_contain_text("Valid", timeout=60000)
    message.fill("Stage 5: check the plan; monthly performance review")
    page.get_by_role("button", name="Deploy").click()
    expect(page.locator("#status")).to_contain_text(f"Deployed version {base.id + 1}", timeout=60000)
    session.expire_all()
    deployed = session.get(ProcessVersion, base.id + 1)
    files = {f.name: f.content for f in deployed.files}
    assert {"s5_check_plan.schema.json", "s5_check_plan.uischema.json"} <= set(files)
    cadences = {p.get("name"): p.get("value") for p in etree.fromstring(files["lifecycle.bpmn"]).iter(
        f"{{{SPIFF}}}property") if p.get("name", "").startswith("cadence:")}
    assert cadences["cadence:R.PM"] == "P1M" and cadences["cadence:R.S5"] == "P6M"
    assert set(deployed.scenario_files()) == set(shipped)
    assert b"s5_check_plan" in deployed.scenario_files()["happy_path.scenario.json"]

    # 5. the relationship in stage 5 moves to it from the migration page, told what it will meet
    page.goto(live_server + f"/processes/migrate?to={deployed.id}")
    row = page.locator(f'#dry-run tr[data-instance="{rel.instance_id}"]')
    expect(row.locator("td.meets")).to_contain_text("will reach the new task 'Check the plan'")
    row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Migrate selected").click()
    expect(page.locator(f'#moves tr:has-text("{rel.instance_id}")').first).to_be_visible(timeout=30000)
    session.expire_all()
    assert rel.instance().version_id == deployed.id

    # 6. it reaches the new task, with its form and due date, and schedules its performance reviews monthly
    rel.drive(until=until_ready("s5_check_plan"))
    task = rel.task("s5_check_plan")
    assert (task.name, task.form_key) == ("Check the plan", "s5_check_plan.schema.json")
    assert task.due_at - task.created_at == timedelta(days=3)
    rel.drive(until=until_ready("s6_value_definition"))
    intervals = {d["review_id"]: d["interval"] for d in rel.linked_data("periodic_review")}
    assert intervals["R.PM"] == "P1M" and intervals["R.S5"] == "P6M"
    assert not errors, errors
