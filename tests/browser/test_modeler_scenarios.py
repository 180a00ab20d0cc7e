"""Scenarios in Debian's Chromium, as a process owner: record one from a relationship's page, run it and see it
pass, break it in the JSON editor and see the failing step, save it, and find it on the scenarios page."""

from __future__ import annotations

import json
from datetime import timedelta

from playwright.sync_api import expect

from app.inbox import services as inbox
from app.modeler import scenarios
from app.processes.services import start_instance
from tests.support.browser import sign_in
from tests.support.bundles import T0
from tests.support.tasks import VALID_POLICY, ready


def test_a_process_owner_records_a_scenario_runs_it_breaks_it_and_saves_it(page, live_server, session, users,
                                                                             lifecycle, wf_engine):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    rel = start_instance(session, wf_engine, user=users["staff"], process_id="lifecycle",
                         data={"relationship_name": "ACME"}, title="ACME joint bid", now=T0)
    inbox.submit(session, wf_engine, users["staff"], ready(session, "s1_policy").id, VALID_POLICY,
                 now=T0 + timedelta(hours=1))
    inbox.submit(session, wf_engine, users["ser"], ready(session, "s1_gate").id, {"decision": "approve"},
                 now=T0 + timedelta(hours=2))

    sign_in(page, live_server, session, users["owner"])
    page.goto(f"{live_server}/relationships/{rel.instance_id}")
    page.get_by_role("button", name="Save as a scenario").click()
    expect(page.get_by_role("heading", name="Scenario")).to_contain_text(f"acme_joint_bid_{rel.instance_id}")
    editor = page.get_by_label("Scenario (JSON)")
    expect(editor).to_contain_text('"complete": "s1_gate"')
    expect(page.locator("#json-state")).to_have_text("The JSON reads correctly.")

    page.get_by_role("button", name="Run against the latest version").click()
    expect(page.locator("#verdict")).to_have_text("Passed: every step as expected.")
    expect(page.locator('#steps tr[data-state="passed"]')).to_have_count(4)  # start, two tasks, the expectations

    text = editor.input_value()
    editor.fill(text.replace('"ready": [\n   "s2_case"\n  ]', '"ready": [\n   "s1_policy"\n  ]'))
    page.get_by_role("button", name="Run against the latest version").click()
    expect(page.locator("#verdict")).to_have_text(
        "Failed at step 3: expected the task 's1_policy' to be ready, but the ready tasks were: s2_case "
        "(Write the business case)")
    expect(page.locator('#steps tr[data-step="3"]')).to_have_attribute("data-state", "failed")

    editor.fill(text + ",")
    expect(page.locator("#json-state")).to_contain_text("Not valid JSON at line")
    editor.fill(text)
    page.get_by_label("File name (ends in .scenario.json)").fill("acme_stage1.scenario.json")
    page.get_by_role("button", name="Save to my drafts").click()
    expect(page.locator("#saved")).to_contain_text("Saved to your drafts")

    page.goto(f"{live_server}/processes")
    page.get_by_role("link", name="Scenarios").click()
    row = page.locator('#scenario-list tr[data-scenario="acme_stage1.scenario.json"]')
    expect(row).to_contain_text("draft")
    expect(row).to_contain_text("not run yet")  # (the runs above were of the recorded name)
    assert errors == []


def test_the_modeller_marks_where_a_scenario_fails_when_it_validates(page, live_server, session, users, lifecycle):
    scenarios.save(session, users["owner"], "gate_first.scenario.json", json.dumps({
        "name": "Gate first", "process": "lifecycle", "start": {"relationship_name": "ACME"},
        "steps": [{"expect": {"ready": ["s1_gate"]}}]}))
    sign_in(page, live_server, session, users["owner"])
    page.goto(f"{live_server}/processes/diagrams/web_stage1.bpmn")
    page.wait_for_selector("#canvas-box[data-drawn=true]")
    page.get_by_role("button", name="Validate").click()
    row = page.locator("#problems tr", has_text="gate_first.scenario.json")
    expect(row).to_contain_text("scenario 'Gate first' fails at step 1: expected the task 's1_gate' to be ready, "
                                "but the ready tasks were: s1_policy")
    expect(page.locator('.djs-element.cf-problem[data-element-id="s1_gate"]')).to_have_count(1)
