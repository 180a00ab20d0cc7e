"""Each page in a real browser (Debian's Chromium): sign in, inbox, task form, drafts, approval with four
eyes, send back and approve, a readable 403, evidence, relationships and the bpmn-js diagram with the active
task and the path already taken marked. (README's screenshots: tools/screenshots.py.)"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.services import create_user
from app.db import utcnow
from app.processes.models import HumanTask
from app.relationships import services as relationships
from tests.support.browser import assert_zoom_buttons_work, sign_in
from tests.support.tasks import VALID_POLICY, complete_policy
from tests.support.web import set_password


def start(session, wf_engine, user, title="ACME supply partnership", partner="ACME Ltd"):
    return relationships.start(session, wf_engine, user, title=title, partner=partner, now=utcnow())


def open_task(session, bpmn_id):
    return session.scalar(select(HumanTask.id).where(HumanTask.bpmn_id == bpmn_id, HumanTask.state == "ready")
                          .order_by(HumanTask.id.desc()))


def test_sign_in_is_required_and_wrong_passwords_are_told(live_server, page, session, users):
    page.goto(live_server + "/inbox")
    assert page.url.startswith(live_server + "/sign-in")
    set_password(session, users["staff"])
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    assert "Wrong username or password. 4 more failed attempts" in page.locator("[role=alert]").inner_text()
    sign_in(page, live_server, session, users["staff"])
    page.get_by_role("button", name="Sign out").click()
    assert "You are signed out." in page.content()


def test_inbox_lists_claims_and_releases(live_server, page, session, wf_engine, users, lifecycle):
    start(session, wf_engine, users["staff"])
    sign_in(page, live_server, session, users["staff"])
    row = page.locator("tr", has_text="Write the policy")
    assert "ACME supply partnership" in row.inner_text() and "1 · Awareness" in row.inner_text()
    row.get_by_role("button", name="Claim Write the policy").click()
    assert "You claimed this task." in page.locator(".flash").inner_text()
    assert page.locator("tr", has_text="Write the policy").locator(".badge.mine").is_visible()
    page.locator("tr", has_text="Write the policy").get_by_role("button", name="Release Write the policy").click()
    assert page.locator("tr", has_text="Write the policy").get_by_role("button", name="Claim Write the policy").is_visible()


def test_task_form_errors_keep_typed_values_draft_and_complete(live_server, page, session, wf_engine, users,
                                                               lifecycle):
    start(session, wf_engine, users["staff"])
    sign_in(page, live_server, session, users["staff"])
    page.get_by_role("link", name="Write the policy").click()
    assert page.locator(".instructions strong").inner_text() == "collaborative working policy"
    page.get_by_label("Policy statement").fill("We collaborate openly.")
    page.get_by_label("Review every (months)").fill("99")
    page.get_by_role("button", name="Complete task").click()
    summary = page.locator("#error-summary")
    assert "Enter a number no greater than 36." in summary.inner_text()
    assert "Tick this box to confirm." in summary.inner_text()
    assert page.locator("#fld-f-review_months-error").inner_text().endswith("Enter a number no greater than 36.")
    assert page.get_by_label("Policy statement").input_value() == "We collaborate openly."
    assert page.get_by_label("Review every (months)").input_value() == "99"
    assert page.get_by_label("Review every (months)").get_attribute("aria-invalid") == "true"

    page.get_by_label("Review every (months)").fill("12")
    page.get_by_role("button", name="Save draft").click()
    assert "Draft saved" in page.locator(".flash").inner_text()
    page.reload()
    assert page.get_by_label("Review every (months)").input_value() == "12"
    assert "You are looking at your draft" in page.content()

    page.get_by_label("Approved on").fill("2026-01-15")
    page.get_by_label("Scope").select_option(label="One division")
    page.get_by_label("Email").first.check()
    page.get_by_label("Commits to continual improvement").check()
    page.set_input_files("#fld-f-document", files=[{"name": "policy.pdf", "mimeType": "application/pdf",
                                                     "buffer": b"%PDF-1.4 test policy"}])
    rows = page.locator("[data-rows='f.communications'] [data-row]")
    expect(rows).to_have_count(1)
    rows.nth(0).get_by_label("Audience").fill("All staff")
    rows.nth(0).get_by_label("Channel").select_option("briefing")
    page.get_by_role("button", name="+ Add communication").click()  # JavaScript adds the row
    expect(rows).to_have_count(2)
    assert rows.nth(1).locator("h4").inner_text() == "Communication 2"
    rows.nth(1).get_by_label("Audience").fill("Key suppliers")
    rows.nth(1).get_by_label("Channel").select_option("email")
    page.get_by_role("button", name="Complete task").click()
    assert "Completed: Write the policy." in page.locator(".flash").first.inner_text()
    assert page.url == live_server + "/inbox"
    done = session.scalar(select(HumanTask).where(HumanTask.bpmn_id == "s1_policy"))
    session.refresh(done)
    assert done.state == "completed"
    assert [c["audience"] for c in done.submitted["communications"]] == ["All staff", "Key suppliers"]
    assert done.submitted["document"].isdigit()


def test_approval_page_explains_four_eyes_and_needs_a_reason_to_send_back(
        live_server, browser, page, session, wf_engine, users, lifecycle):
    both = create_user(session, "both", password=None, roles=["staff", "ser"], organisation="Us")
    start(session, wf_engine, users["staff"])
    complete_policy(session, wf_engine, both, open_task(session, "s1_policy"))
    gate = open_task(session, "s1_gate")

    sign_in(page, live_server, session, both)
    page.goto(f"{live_server}/tasks/{gate}")
    refusal = page.locator("#refusal").inner_text()
    assert "You cannot approve this stage" in refusal and "four eyes" in refusal.lower()
    expect(page.get_by_role("button", name="Record decision")).to_have_count(0)
    produced = page.locator("section", has=page.locator("#produced"))
    assert "Policy statement" in produced.inner_text() and VALID_POLICY["policy_text"] in produced.inner_text()
    assert "One division" in produced.inner_text()  # the option's label, not its value

    other = browser.new_context().new_page()
    sign_in(other, live_server, session, users["ser"])
    other.goto(f"{live_server}/tasks/{gate}")
    other.get_by_label("Send back for rework").check()
    other.get_by_role("button", name="Record decision").click()
    assert other.locator("#fld-f-comments-error").inner_text().endswith("This field is required.")
    assert other.get_by_label("Send back for rework").is_checked()
    other.get_by_label("Comments").fill("Name the policy owner.")
    other.get_by_role("button", name="Record decision").click()
    assert "Sent back for rework: SER approval: Awareness." in other.locator(".flash").first.inner_text()
    other.context.close()


def test_evidence_upload_and_download(live_server, page, session, wf_engine, users, lifecycle):
    start(session, wf_engine, users["staff"])
    task_id = open_task(session, "s1_policy")
    sign_in(page, live_server, session, users["staff"])
    page.goto(f"{live_server}/tasks/{task_id}")
    page.set_input_files("#attach-file", files=[{"name": "minutes.txt", "mimeType": "text/plain",
                                                 "buffer": b"Board minutes: policy agreed."}])
    page.get_by_role("button", name="Upload").click()
    assert "File attached as evidence." in page.locator(".flash").inner_text()
    link = page.locator("#files").get_by_role("link", name="minutes.txt")
    with page.expect_download() as download:
        link.click()
    assert Path(download.value.path()).read_bytes() == b"Board minutes: policy agreed."
    response = page.request.get(live_server + link.get_attribute("href"))
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["x-content-type-options"] == "nosniff"
    page.set_input_files("#attach-file", files=[{"name": "run.exe", "mimeType": "application/octet-stream",
                                                 "buffer": b"MZ..."}])
    page.get_by_role("button", name="Upload").click()
    assert "not accepted" in page.locator(".flash.error").inner_text()
    assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "evidence.downloaded")) is not None


def test_relationships_list_start_and_diagram(live_server, page, session, wf_engine, users, lifecycle):
    sign_in(page, live_server, session, users["staff"])
    page.goto(live_server + "/relationships")
    page.get_by_label("Name of the relationship").fill("Joint bid with Beta")
    page.get_by_role("button", name="Start the relationship").click()
    assert "Partner organisation" in page.locator(".field-error").inner_text() or \
        "Name the partner organisation." in page.content()
    assert page.get_by_label("Name of the relationship").input_value() == "Joint bid with Beta"
    errors = []  # from here on the browser must report nothing wrong (the refusal above was a 400)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.get_by_label("Partner organisation").fill("Beta plc")
    page.get_by_role("button", name="Start the relationship").click()
    assert "Started the relationship" in page.locator(".flash").inner_text()
    page.locator(".diagram[data-drawn]").first.wait_for()
    page.locator(".diagram[data-drawn=true]").nth(1).wait_for()  # (wait_for_function would need eval: CSP)
    expect(page.locator(".diagram .djs-container > svg")).to_have_count(2)
    expect(page.locator('[data-element-id="lc_stage1"].cf-active')).to_have_count(1)
    expect(page.locator('[data-element-id="s1_policy"].cf-active')).to_have_count(1)
    expect(page.locator('[data-element-id="s1_gate"]')).to_have_count(1)
    expect(page.locator('[data-element-id="s1_gate"].cf-active')).to_have_count(0)
    assert_zoom_buttons_work(page.locator(".diagram").first)
    assert "instance.started" in page.locator("#trail-h + table").inner_text()
    page.goto(live_server + "/relationships")
    row = page.locator("tr", has_text="Joint bid with Beta")
    assert "Stage 1 · Awareness" in row.inner_text() and "with Beta plc" in row.inner_text()
    expect(row.locator("ol.stages li.current")).to_have_count(1)
    assert errors == []


def test_staff_get_a_readable_403_on_an_ser_gate_and_the_ser_sends_back_then_approves(
        live_server, browser, page, session, wf_engine, users, lifecycle):
    relationship = start(session, wf_engine, users["staff"]).instance_id
    complete_policy(session, wf_engine, users["staff"], open_task(session, "s1_policy"))
    gate = open_task(session, "s1_gate")

    sign_in(page, live_server, session, users["staff"])
    response = page.goto(f"{live_server}/tasks/{gate}")
    assert response.status == 403
    heading = page.locator("h1").inner_text()
    assert "You may not open the task “SER approval: Awareness”" in heading
    assert "SER lane" in heading and "your roles: staff" in heading
    assert "ask an SER or an administrator" in page.locator("main").inner_text()
    expect(page.get_by_role("button", name="Record decision")).to_have_count(0)

    ser = browser.new_context().new_page()
    sign_in(ser, live_server, session, users["ser"])
    ser.get_by_role("link", name="SER approval: Awareness").click()
    ser.get_by_label("Send back for rework").check()
    ser.get_by_label("Comments").fill("Name the policy owner.")
    ser.get_by_role("button", name="Record decision").click()
    assert "Sent back for rework: SER approval: Awareness." in ser.locator(".flash").first.inner_text()

    page.goto(live_server + "/inbox")  # the stage comes back to staff, with the SER's reason beside it
    page.get_by_role("link", name="Write the policy").click()
    sent_back = page.locator("#sent-back").inner_text()
    assert "Sent back for rework by ser" in sent_back and "Name the policy owner." in sent_back
    assert page.get_by_label("Policy statement").input_value() == VALID_POLICY["policy_text"]
    page.get_by_label("Policy statement").fill("We collaborate openly. The SER owns this policy.")
    page.get_by_role("button", name="Complete task").click()
    assert "Completed: Write the policy." in page.locator(".flash").first.inner_text()

    ser.goto(live_server + "/inbox")
    ser.get_by_role("link", name="SER approval: Awareness").click()
    decisions = ser.locator("section", has=ser.locator("#decisions")).inner_text()
    assert "Rework" in decisions and "Name the policy owner." in decisions
    assert "The SER owns this policy." in ser.locator("section", has=ser.locator("#produced")).inner_text()
    ser.get_by_label("Approve the stage").check()
    ser.get_by_role("button", name="Record decision").click()
    assert "Approved: SER approval: Awareness." in ser.locator(".flash").first.inner_text()
    ser.goto(f"{live_server}/relationships/{relationship}")
    assert "Stage 2 · Knowledge" in ser.locator(".page-head").inner_text()
    decided = session.scalars(select(HumanTask.submitted).where(HumanTask.bpmn_id == "s1_gate",
                                                                HumanTask.state == "completed")
                              .order_by(HumanTask.id)).all()
    assert [d["decision"] for d in decided] == ["rework", "approve"]
    ser.context.close()


def test_the_diagrams_colour_the_path_already_taken(live_server, page, session, wf_engine, users, lifecycle):
    relationship = start(session, wf_engine, users["staff"]).instance_id
    complete_policy(session, wf_engine, users["staff"], open_task(session, "s1_policy"))
    sign_in(page, live_server, session, users["ser"])
    page.goto(f"{live_server}/relationships/{relationship}")
    page.locator(".diagram[data-drawn=true]").nth(1).wait_for()
    expect(page.locator('[data-element-id="s1_policy"].cf-done')).to_have_count(1)
    expect(page.locator('[data-element-id="s1_policy"].cf-active')).to_have_count(0)
    expect(page.locator('[data-element-id="s1_gate"].cf-active')).to_have_count(1)
    expect(page.locator('[data-element-id="s1_gate"].cf-done')).to_have_count(0)
    expect(page.locator('[data-element-id="lc_stage1"].cf-active')).to_have_count(1)

    gate = open_task(session, "s1_gate")
    from app.inbox import services as tasks
    tasks.submit(session, wf_engine, users["ser"], gate, {"decision": "approve"}, now=utcnow())
    page.reload()
    page.locator(".diagram[data-drawn=true]").nth(1).wait_for()
    done = page.locator('[data-element-id="lc_stage1"].cf-done')
    expect(done).to_have_count(1)
    expect(page.locator('[data-element-id="lc_stage1"].cf-active')).to_have_count(0)
    expect(page.locator('[data-element-id="lc_stage2"].cf-active')).to_have_count(1)
    expect(page.locator('[data-element-id="lc_stage2"].cf-done')).to_have_count(0)
    expect(page.locator('[data-element-id="s2_case"].cf-active')).to_have_count(1)
    # the marker is drawn in its own colour: green for done, blue for where the relationship is now
    shape = done.locator(".djs-visual > :first-child")
    assert shape.evaluate("e => getComputedStyle(e).stroke") == "rgb(30, 122, 70)"
    now_shape = page.locator('[data-element-id="lc_stage2"].cf-active .djs-visual > :first-child')
    assert now_shape.evaluate("e => getComputedStyle(e).stroke") == "rgb(29, 95, 191)"
