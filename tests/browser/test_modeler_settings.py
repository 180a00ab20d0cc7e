"""The modeller's script editors and review cadences in Debian's Chromium, on the bundled lifecycle: a forbidden call
typed into a script task is reported at its line and clears once fixed; with nothing selected, the performance
review's cadence changes from quarterly to monthly with its next due times, Ctrl+Z undoes it, and the saved draft
holds the new value."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lxml import etree
from playwright.sync_api import expect
from sqlalchemy import select

from app.modeler.models import Draft
from tests.support.browser import sign_in

SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def _months_ahead(months: int) -> str:
    today = datetime.now(UTC).date()
    month = today.month - 1 + months
    year, month = today.year + month // 12, month % 12 + 1
    for day in range(today.day, 27, -1):
        try:
            return today.replace(year=year, month=month, day=day).isoformat()
        except ValueError:
            continue
    return today.replace(year=year, month=month, day=min(today.day, 28)).isoformat()


def test_a_script_is_checked_as_typed_and_the_performance_review_becomes_monthly(page, live_server, session, users,
                                                                                 bundled):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, live_server, session, users["owner"])
    page.goto(live_server + "/processes/diagrams/lifecycle.bpmn")
    page.wait_for_selector("#canvas-box[data-drawn=true]")

    # nothing selected: the process's review cadences, named from the catalogue
    cadences = page.locator("#review-cadences")
    expect(cadences).to_be_visible()
    expect(cadences.locator(".cadence")).to_have_count(8)
    expect(page.locator('.cadence[data-review="R.PM"] .cadence-name')).to_have_text(
        "Actual values against the agreed measures, from stage 5 on (R.PM)")
    expect(page.locator("#cadence-R-PM-words")).to_have_text("every 3 months (quarterly)")
    due = page.locator("#cadence-R-PM-due li")
    expect(due).to_have_text([_months_ahead(3), _months_ahead(6), _months_ahead(9)])

    page.locator("#cadence-R-PM-amount").fill("1")
    page.locator("#cadence-R-PM-amount").press("Tab")
    expect(page.locator("#cadence-R-PM-words")).to_have_text("every month (monthly)")
    expect(page.locator("#cadence-R-PM-value")).to_have_text("P1M")
    expect(due).to_have_text([_months_ahead(1), _months_ahead(2), _months_ahead(3)])
    expect(page.locator("#dirty")).to_be_visible()

    # Ctrl+Z on the canvas undoes it like any other change, and Ctrl+Y brings it back
    page.locator("#canvas-box .canvas").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+z")
    expect(page.locator("#cadence-R-PM-value")).to_have_text("P3M")
    page.keyboard.press("Control+y")
    expect(page.locator("#cadence-R-PM-value")).to_have_text("P1M")

    # a script task: a forbidden call is reported at its line, and clears once fixed
    # (the properties panel covers the right of the diagram: move the canvas left, as a person drags it)
    page.evaluate("() => window.collabflowModeler.get('canvas').scroll({dx: -450, dy: 0})")
    page.locator('.djs-element[data-element-id="lc_premature"]').first.click()
    expect(page.locator("#prop-id")).to_have_text("lc_premature")
    editor = page.locator("#script-script")
    expect(editor).to_be_visible()
    expect(page.locator("#script-script-state")).to_have_text("The sandbox accepts this script.")
    original = editor.input_value()
    lines = original.rstrip("\n").count("\n") + 1
    editor.fill(original.rstrip("\n") + '\nhandle = open("/etc/passwd")')
    problem = page.locator("#script-script-problems li")
    expect(problem).to_have_text(f"line {lines + 1} of the script: name 'open' is not allowed in diagram scripts")
    expect(page.locator(f'#script-script-lines div[data-line="{lines + 1}"]')).to_have_class("bad")
    expect(page.locator("#script-script-lines div.bad")).to_have_count(1)
    editor.fill(original.rstrip("\n") + '\nhandle = "no file"')
    expect(problem).to_have_count(0)
    expect(page.locator("#script-script-lines div.bad")).to_have_count(0)
    expect(page.locator("#script-script-state")).to_have_text("The sandbox accepts this script.")
    page.locator("#prop-id").click()  # leaving the editor keeps the change (a bpmn-js command)

    # another activity gets pre- and post-script editors (a script task has none: the engine would not run them)
    page.evaluate("() => window.collabflowModeler.get('canvas').scroll({dx: 450, dy: 0})")
    page.locator('.djs-element[data-element-id="lc_review_cadence"]').first.click()
    expect(page.locator("#script-postScript")).to_have_value(
        re.compile(r"^# The process's review cadences, .*review_cadence\.items\(\) if v\},\s+\*\*given\}\ndel given\s*$", re.S))
    expect(page.locator("#script-preScript")).to_have_value("")
    expect(page.locator("#script-postScript-state")).to_have_text("The sandbox accepts this post-script.")

    page.get_by_role("button", name="Save draft").click()
    page.wait_for_function("() => (document.getElementById('status').textContent || '').includes('Draft saved')",
                           timeout=20000)
    assert not errors, errors

    session.expire_all()
    draft = session.scalars(select(Draft).where(Draft.name == "lifecycle.bpmn")).one()
    tree = etree.fromstring(draft.content)
    cadences = {p.get("name"): p.get("value") for p in tree.iter(f"{{{SPIFF}}}property")
                if p.get("name", "").startswith("cadence:")}
    assert cadences == {"cadence:R.S5": "P6M", "cadence:R.S7": "P3M", "cadence:R.EX": "P12M", "cadence:R.RK": "P3M",
                        "cadence:R.PM": "P1M", "cadence:R.VL": "P3M", "cadence:R.GV": "P3M", "cadence:R.CH": "P6M"}
    script = tree.find(".//{*}scriptTask[@id='lc_premature']/{*}script").text
    assert 'handle = "no file"' in script
