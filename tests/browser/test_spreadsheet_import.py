"""Importing a register from a spreadsheet in a real browser: download the template, upload it with a bad row, see
the row and column named with nothing written, fix the file, confirm, and find the entries on the register."""

from __future__ import annotations

from playwright.sync_api import expect

from app.db import utcnow
from app.relationships import services as relationships
from tests.support.browser import sign_in
from tests.support.spreadsheets import edited, filled

ROWS = [{"Risk": "Late deliveries", "Owner": "Sam", "Likelihood (1-5)": 4, "Impact (1-5)": 3},
        {"Risk": "Key person leaves", "Owner": "Ana", "Likelihood (1-5)": 7, "Impact (1-5)": 5},
        {"Risk": "Currency swings", "Owner": "Lee", "Likelihood (1-5)": 2, "Impact (1-5)": 2,
         "Category": "sustainability"}]


def test_template_bad_row_fix_and_confirm(live_server, page, session, wf_engine, users, lifecycle, tmp_path):
    rel = relationships.start(session, wf_engine, users["staff"], title="Import Co", partner="Import Ltd",
                              now=utcnow()).instance_id
    session.commit()
    sign_in(page, live_server, session, users["staff"])
    page.goto(f"{live_server}/relationships/{rel}/registers/risks")
    page.get_by_role("link", name="Import from a spreadsheet").click()
    expect(page.get_by_role("heading", name="Import the risk register from a spreadsheet")).to_be_visible()
    with page.expect_download() as downloaded:
        page.locator("#template-link").click()
    template = tmp_path / "template.xlsx"
    downloaded.value.save_as(template)

    bad = tmp_path / "risks.xlsx"
    bad.write_bytes(filled(template.read_bytes(), ROWS))
    page.set_input_files("#import-file", str(bad))
    page.get_by_role("button", name="Preview the import").click()
    problems = page.locator("#import-problems li")
    expect(problems).to_have_text(["row 3, column Likelihood (1-5): must be a whole number from 1 to 5"])
    expect(page.locator("#import-rows tr[data-row='3']")).to_have_attribute("data-action", "invalid")
    expect(page.locator("#confirm-import")).to_have_count(0)

    page.goto(f"{live_server}/relationships/{rel}/registers/risks")
    expect(page.locator("table.register")).to_have_count(0)  # nothing was written
    page.get_by_role("link", name="Import from a spreadsheet").click()
    fixed = tmp_path / "risks-fixed.xlsx"
    fixed.write_bytes(edited(bad.read_bytes(), {(3, "Likelihood (1-5)"): 3}))
    page.set_input_files("#import-file", str(fixed))
    page.get_by_role("button", name="Preview the import").click()
    expect(page.locator("#import-summary")).to_have_attribute("data-create", "3")
    page.locator("#confirm-import").click()
    expect(page.locator(".flash.success")).to_contain_text(
        "Imported risks-fixed.xlsx into the risk register: 3 added, 0 changed, 0 unchanged.")
    rows = page.locator("table.register tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("table.register")).to_contain_text("Key person leaves")
    expect(page.locator("table.register")).to_contain_text("sustainability")
