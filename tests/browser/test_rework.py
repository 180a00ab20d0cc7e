"""The rework picker on the stage 2 (and stage 4) gate's task page: the SER ticks two of the stage's tasks and sends
the stage back; only those two come back to staff, each with the SER's reason shown once."""

from __future__ import annotations

from playwright.sync_api import expect

from app.db import utcnow
from app.relationships import services as relationships
from tests.support.browser import sign_in
from tests.support.driver import Driver, until_ready

REASON = "The business case lacks payback; the risks miss the partner's exit."
PICKED = ["Develop the business case and market analysis", "Bring risks and opportunities into the risk process"]
NOT_PICKED = ["Set the opportunity's objectives and key drivers", "Identify people, skills and authority",
              "Set up knowledge management and sharing rules", "Identify potential partners",
              "Make the initial exit assessment", "Review the implementation plan, update the RMP"]


def test_the_ser_reopens_two_tasks_and_staff_get_exactly_those_with_the_reason(
        live_server, page, browser, session, wf_engine, services, users, bundled):
    started = relationships.start(session, wf_engine, users["staff"], title="Picker", partner="Picker Ltd",
                                  now=utcnow())
    rel = Driver(session, services, users, started.instance_id, utcnow())
    rel.drive(until=until_ready("s2_ser_gate"))

    sign_in(page, live_server, session, users["ser"])
    page.goto(live_server + "/inbox")
    page.get_by_role("link", name="SER approves stage 2").click()
    page.get_by_label("Send back for rework").check()
    page.get_by_role("button", name="Record decision").click()  # no task picked: refused, the field named
    expect(page.get_by_role("link", name="Tasks to reopen")).to_be_visible()  # the error summary names it
    expect(page.get_by_role("group", name="Tasks to reopen")).to_be_visible()
    page.get_by_label("Send back for rework").check()
    for name in PICKED:
        page.get_by_label(name, exact=True).check()
    page.get_by_label("Comments").fill(REASON)
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator(".flash").first).to_contain_text(f"Sent back for rework: {PICKED[0]}, {PICKED[1]}.")

    staff = browser.new_context().new_page()
    sign_in(staff, live_server, session, users["staff"])
    for name in PICKED:  # the stage's tasks run in order: the second picked one follows the first
        staff.goto(live_server + "/inbox")
        expect(staff.get_by_role("link", name=name)).to_have_count(1)
        for other in NOT_PICKED:
            expect(staff.get_by_role("link", name=other)).to_have_count(0)
        staff.get_by_role("link", name=name).click()
        expect(staff.locator("#sent-back")).to_contain_text(REASON)
        expect(staff.locator(".instructions")).to_be_visible()
        expect(staff.locator(".instructions")).not_to_contain_text(REASON)  # once: not again in the instructions
        expect(staff.get_by_text(REASON).locator("visible=true")).to_have_count(1)
        expect(staff.get_by_role("button", name="Complete task")).to_be_visible()
        rel.now = utcnow()  # the driver acts now, after the SER decided in the browser
        rel.complete(rel.ready()[0])  # the answers it had, completed as staff would (its files cited)
    staff.goto(live_server + "/inbox")
    for name in PICKED + NOT_PICKED:
        expect(staff.get_by_role("link", name=name)).to_have_count(0)
    assert rel.ready_names() == ["s2_ser_gate"], "after the two picked tasks the stage is back with the SER"
    staff.context.close()


def test_stage_4_offers_its_own_tasks_and_the_staff_get_the_first_one_picked(
        live_server, page, browser, session, wf_engine, services, users, bundled):
    """Stage 4's gate: another SER than the one who selected the partner (four eyes) picks two tasks."""
    started = relationships.start(session, wf_engine, users["staff"], title="Picker 4", partner="Picker Ltd",
                                  now=utcnow())
    rel = Driver(session, services, users, started.instance_id, utcnow())
    rel.drive(until=until_ready("s4_ser_gate"))

    sign_in(page, live_server, session, users["ser2"])
    page.goto(live_server + "/inbox")
    page.get_by_role("link", name="SER approves stage 4").click()
    page.get_by_label("Send back for rework").check()
    picked = ["Appraise objectives, draft joint objectives", "Update the exit strategy with triggers"]
    for name in picked:
        page.get_by_label(name, exact=True).check()
    page.get_by_label("Comments").fill(REASON)
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator(".flash").first).to_contain_text(f"Sent back for rework: {picked[0]}, {picked[1]}.")

    staff = browser.new_context().new_page()
    sign_in(staff, live_server, session, users["staff"])
    staff.goto(live_server + "/inbox")
    for carried in ("Nominate candidate partners", "Write partner selection action plans", "Write the PRMP"):
        expect(staff.get_by_role("link", name=carried)).to_have_count(0)
    staff.get_by_role("link", name=picked[0]).click()
    expect(staff.locator("#sent-back")).to_contain_text(REASON)
    expect(staff.get_by_text(REASON).locator("visible=true")).to_have_count(1)
    staff.context.close()
