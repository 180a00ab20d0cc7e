"""Stage 4's evaluation and selection in a real browser: the evaluator picks each selection criterion the
organisation defined from a list (there is nothing to mistype) and the SER picks the selected partner from the
weighted ranking. The relationship is driven to stage 4 through the services (committed, so the served app sees
it); the browser does what the people do."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from app.db import utcnow
from app.processes.models import HumanTask
from tests.support.browser import sign_in
from tests.support.driver import Driver, approve_organisation, until_ready
from tests.support.tasks import CANDIDATES, CRITERIA


def test_the_evaluator_picks_the_criteria_and_the_ser_picks_the_partner_from_the_ranking(
        live_server, page, browser, session, services, users, bundled):
    rel = Driver.start(session, services, users, now=utcnow())
    rel.organisation = False
    rel.drive()
    approve_organisation(session, services, users, rel.now, {"s3_selection_criteria": {"selection_criteria": CRITERIA}})
    rel.complete("s4_nominate_candidates", {"candidates": CANDIDATES})
    rel.complete("s4_ser_agree_approach", {"approach_decision": "agree"})
    rows = [r for r in rel.ready() if r.bpmn_id == "s4_evaluate_candidate"]
    alpha = next(r for r in rows if rel.task_data(r)["candidate"]["name"] == "Alpha Ltd")
    beta = next(r for r in rows if r.id != alpha.id)
    session.commit()

    sign_in(page, live_server, session, users["staff"])
    page.goto(f"{live_server}/tasks/{alpha.id}")
    first = page.locator("#fld-f-candidate-scores-0-criterion")
    expect(first.locator("option")).to_have_text(["Choose…", "Financial standing", "Culture"])
    expect(page.locator('input[name="f.candidate.scores.0.criterion"]')).to_have_count(0)  # no free text
    first.select_option("Financial standing")
    page.locator("#fld-f-candidate-scores-0-score").fill("8")
    page.locator("#fld-f-candidate-scores-0-evidence_note").fill("Audited accounts 2025")
    page.get_by_role("button", name="+ Add score").click()
    second = page.locator("#fld-f-candidate-scores-1-criterion")
    expect(second.locator("option")).to_have_text(["Choose…", "Financial standing", "Culture"])
    second.select_option("Culture")
    page.locator("#fld-f-candidate-scores-1-score").fill("6")
    page.locator("#fld-f-candidate-scores-1-evidence_note").fill("Two workshops")
    page.locator("#fld-f-candidate-strengths").fill("Sound finances")
    page.locator("#fld-f-candidate-concerns").fill("Slow decisions")
    page.locator("#fld-f-candidate-recommendation").select_option("shortlist")
    page.get_by_role("button", name="Complete task").click()
    expect(page.locator(".flash.success")).to_be_visible()

    session.expire_all()
    done = session.get(HumanTask, alpha.id)
    assert done.state == "completed"
    assert [(s["criterion"], s["score"]) for s in done.submitted["candidate"]["scores"]] == [
        ("Financial standing", 8), ("Culture", 6)]

    rel.complete(beta, {"candidate": {"scores": [
        {"criterion": "Financial standing", "score": 5, "evidence_note": "accounts"},
        {"criterion": "Culture", "score": 9, "evidence_note": "workshop"}], "recommendation": "shortlist"}})
    rel.drive(until=until_ready("s4_select_partner"))
    select_id = rel.task("s4_select_partner").id
    session.commit()

    page = browser.new_context().new_page()  # the SER, in a browser of their own
    sign_in(page, live_server, session, users["ser"])
    page.goto(f"{live_server}/tasks/{select_id}")
    partner = page.locator("#fld-f-selected_partner")
    expect(partner.locator("option")).to_have_text(["Choose…", "Alpha Ltd", "Beta GmbH"])  # the ranking's order
    partner.select_option("Beta GmbH")
    page.locator("#fld-f-selection_rationale").fill("Culture matters most for this bid")
    page.locator("#fld-f-agreement_concluded").check()
    page.locator("#fld-f-agreement_date").fill("2026-11-30")
    page.locator("#fld-f-agreement_reference").fill("C-2026-17")
    for topic in ("issue_resolution", "exit", "intellectual_property", "confidentiality", "incentive_alignment",
                  "governance"):  # the collaborative-contracting checklist: each covered, and where
        page.locator(f"#fld-f-contracting_checklist-{topic}-covered").check()
        page.locator(f"#fld-f-contracting_checklist-{topic}-where").fill(f"Clause on {topic.replace('_', ' ')}")
    page.locator("#fld-f-agreement_document").set_input_files(
        files=[{"name": "agreement.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 signed agreement"}])
    page.get_by_role("button", name="Complete task").click()
    expect(page.locator(".flash.success")).to_be_visible()

    session.expire_all()
    selected = session.scalar(select(HumanTask).where(HumanTask.id == select_id))
    assert selected.state == "completed" and selected.submitted["selected_partner"] == "Beta GmbH"
    assert selected.submitted["contracting_checklist"]["intellectual_property"] == {
        "covered": True, "where": "Clause on intellectual property"}
