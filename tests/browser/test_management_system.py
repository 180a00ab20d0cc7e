"""The organisation's management system in a real browser (Debian's Chromium): top management sets it up from its
page; once its internal assessment is approved the page shows the organisation's clauses, that the assessment is
current, its review calendar, the scored relationship portfolio (a relationship starts from an entry) and the
maturity trend across renewals; a nonconformity raised by hand runs to its effectiveness check, which its action's
owner may not do (four eyes) and another SER answers "not effective", reopening it. Partners never see the page.

The organisation is set up through the services (committed, so the served app sees it); the browser does what the
people do."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from app.auth.services import create_user
from app.db import utcnow
from app.management import services as management
from app.processes.models import HumanTask, ProcessInstance, Timer
from tests.support.browser import sign_in
from tests.support.driver import Driver, approve_organisation

CRITERIA = ("leadership", "strategy_and_policy", "processes", "skills_and_competence", "culture_and_behaviours",
            "knowledge_sharing", "risk_and_value", "partner_management")


def open_management(page, live_server):
    """Open the Management system page from the main navigation."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Management system").click()
    page.wait_for_url(live_server + "/management")
    expect(page.get_by_role("heading", name="Management system", level=1)).to_be_visible()


def exactly(label):
    """A form field's label as a whole (a required field's label ends with its asterisk)."""
    return re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$")


def day(moment):
    """A date as the pages write it (app.pages.when_date): '6 Jan 2027'."""
    return f"{moment:%d %b %Y}".lstrip("0")


def other_page(browser):
    return browser.new_context().new_page()


# ---------------------------------------------------------------------------------------------- 1. setting it up
def test_top_management_sets_the_management_system_up_and_a_partner_never_sees_it(
        live_server, page, browser, session, users, bundled):
    sign_in(page, live_server, session, users["top"])
    open_management(page, live_server)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Management system")) \
        .to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", name="Not set up yet", level=2)).to_be_visible()
    expect(page.locator("#open-tasks")).to_have_count(0)

    with page.expect_navigation(url=live_server + "/management"):
        page.get_by_role("button", name="Set up the management system").click()
    expect(page.locator(".flash.success")).to_contain_text("The management system is set up")
    expect(page.locator("#not-set-up")).to_have_count(0)
    expect(page.get_by_role("button", name="Set up the management system")).to_have_count(0)
    expect(page.locator("#set-up-state")).to_contain_text("In progress")
    expect(page.locator("#assessment-state")).to_have_attribute("data-ready", "no")
    expect(page.locator("#readiness")).to_contain_text("not approved yet")

    open_work = page.locator("#open-tasks")
    appoint = open_work.get_by_role("link", name="Appoint the SER")
    expect(appoint).to_be_visible()
    expect(open_work.locator("li").filter(has=page.get_by_role("link", name="Appoint the SER"))) \
        .to_contain_text("Top management")
    ms = management.management_system(session)
    task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == ms.id,
                                                        HumanTask.bpmn_id == "s1_appoint_ser"))
    session.commit()
    expect(appoint).to_have_attribute("href", f"/tasks/{task_id}")
    # the clauses are there from the start, none evidenced yet
    expect(page.locator('#clauses tr[data-requirement="M5.1"]')).to_have_attribute("data-status", "in_progress")
    expect(page.locator('#clauses tr[data-status="evidenced"]')).to_have_count(0)

    partner = other_page(browser)
    sign_in(partner, live_server, session, users["pser"])
    expect(partner.get_by_role("navigation", name="Main").get_by_role("link", name="Management system")) \
        .to_have_count(0)
    response = partner.goto(live_server + "/management")
    assert response.status == 403
    expect(partner.get_by_role("heading", level=1)).to_contain_text("our own organisation's record")
    partner.context.close()


# ---------------------------------------------------------------------------------- 2. approved: clauses, calendar
def test_once_approved_the_page_shows_the_clauses_the_current_assessment_and_the_review_calendar(
        live_server, page, session, services, users, bundled):
    organisation = approve_organisation(session, services, users, utcnow())
    ready = management.readiness(session, organisation.now)
    session.commit()
    assert ready.ready

    sign_in(page, live_server, session, users["ser"])
    open_management(page, live_server)
    expect(page.get_by_role("heading", name="Management system", level=1)).to_contain_text("Running")
    expect(page.locator("#not-set-up")).to_have_count(0)

    # the organisation's requirements, by clause, with their evidence
    clauses = page.locator("#clauses")
    expect(clauses.get_by_role("heading", name="Clauses and organisation requirements")).to_be_visible()
    for requirement in ("M5.1", "S1.02", "S1.05"):
        expect(clauses.locator(f'tr[data-requirement="{requirement}"]')).to_have_attribute("data-status", "evidenced")
    policy = clauses.locator('tr[data-requirement="S1.02"]')
    expect(policy).to_contain_text("Write the collaborative working policy")
    expect(policy.get_by_role("link", name="Write the collaborative working policy")).to_be_visible()
    expect(clauses.locator('tr[data-requirement="M10.1"]')).to_have_attribute("data-status", "not_started")
    expect(clauses.locator("tr[data-requirement]")).not_to_have_count(0)
    expect(clauses.locator('tbody th[scope="rowgroup"]').first).to_be_visible()

    # the internal assessment is current, and says until when
    expect(page.locator("#assessment-state")).to_have_attribute("data-ready", "yes")
    expect(page.locator("#assessment-state b")).to_have_text("Current")
    readiness = page.get_by_role("status").and_(page.locator("#readiness"))
    expect(readiness).to_have_class(re.compile(r"\bok\b"))
    expect(readiness).to_contain_text(f"approved on {ready.approved_at:%d %b %Y}")
    expect(readiness).to_contain_text(f"due for renewal on {ready.renewal_due_at:%d %b %Y}")
    expect(page.locator("#set-up-state")).to_contain_text("approved")
    expect(page.locator("#nc-count b")).to_have_text("0")
    expect(page.locator("#open-tasks")).to_contain_text("Nothing open.")

    # the review calendar: the organisation's audits and reviews, soonest first, with the assessment's renewal
    calendar = page.locator("#calendar li")
    expected = [("internal_audit", "Internal audit: "), ("periodic_review", "SER review of the management system"),
                ("management_system", "Internal assessment (stage 3) renewal"),
                ("organisation_review", "Management review of the collaborative management system"),
                ("organisation_review", "Review of context, interested parties, risks and opportunities")]
    expect(calendar).to_have_count(len(expected))
    shown = [(calendar.nth(i).get_attribute("data-process"), calendar.nth(i).inner_text())
             for i in range(calendar.count())]
    assert [(p, text[:len(name)]) for (p, text), (_, name) in zip(shown[:2], expected[:2], strict=True)] \
        == expected[:2], "the audit (3 months) and the SER's review (6 months) come first"
    for process, name in expected[2:]:  # the three yearly ones, due the same day
        assert any(p == process and text.startswith(name) for p, text in shown[2:]), (process, name, shown)
    renewal = page.locator('#calendar li[data-process="management_system"]')
    expect(renewal).to_contain_text(f"due {day(ready.renewal_due_at)}")
    dues = page.locator("#calendar li .muted").all_inner_texts()
    assert not any("overdue" in due for due in dues), dues
    assert dues[0].startswith("due "), dues


# --------------------------------------------------------------------------------------------- 3. the portfolio
WEIGHTS = {"value": 60, "risk": 45, "complexity": 15, "strategic_fit": 30}  # used relative to their total (150)


def entry(name, value, risk, complexity, strategic_fit, *, fits):
    row = {"name": name, "relationship_type": "partner", "market": "Logistics", "customer_type": "Retail",
           "geography": "UK", "value": value, "risk": risk, "complexity": complexity,
           "strategic_fit": strategic_fit, "collaboration_fits": fits, "opportunities": f"More with {name}"}
    if fits:
        row["implementation_steps"] = [{"step": f"Approach {name}", "owner": "SER", "due": "2027-03-01"}]
    return row


PORTFOLIO = [  # listed out of rank order on purpose
    entry("Fabrikam Components", value=3, risk=4, complexity=2, strategic_fit=5, fits=True),
    entry("Northwind Freight", value=2, risk=1, complexity=1, strategic_fit=1, fits=False),
    entry("Contoso Logistics", value=5, risk=2, complexity=3, strategic_fit=4, fits=True),
]


def expected_score(row):
    """Weighted mean on the 1-5 scale; a low risk and a low complexity score high (6 - level)."""
    total = sum(WEIGHTS.values())
    return round((WEIGHTS["value"] * row["value"] + WEIGHTS["risk"] * (6 - row["risk"])
                  + WEIGHTS["complexity"] * (6 - row["complexity"])
                  + WEIGHTS["strategic_fit"] * row["strategic_fit"]) / total, 2)


def test_the_portfolio_is_charted_by_score_and_a_relationship_starts_from_its_entry(
        live_server, page, session, services, users, bundled):
    approve_organisation(session, services, users, utcnow(),
                         answers={"s1_relationships": {"criteria_weights": WEIGHTS, "relationships": PORTFOLIO}})
    ranked = sorted(PORTFOLIO, key=lambda row: -expected_score(row))
    scores = {row["name"]: expected_score(row) for row in PORTFOLIO}
    assert [row["name"] for row in ranked] == ["Contoso Logistics", "Fabrikam Components", "Northwind Freight"]
    assert scores == {"Contoso Logistics": 4.3, "Fabrikam Components": 3.2, "Northwind Freight": 3.0}
    assert len(set(scores.values())) == 3, "distinct scores: the rank order is not decided by names"

    sign_in(page, live_server, session, users["staff"])
    open_management(page, live_server)
    matrix = page.locator("svg#portfolio-matrix")
    expect(matrix).to_be_visible()
    entries = matrix.locator("g.entry")
    expect(entries).to_have_count(3)
    drawn = {entries.nth(i).get_attribute("data-name"): (int(entries.nth(i).get_attribute("data-rank")),
                                                         float(entries.nth(i).get_attribute("data-score")),
                                                         int(entries.nth(i).get_attribute("data-value")),
                                                         int(entries.nth(i).get_attribute("data-risk")))
             for i in range(entries.count())}
    assert drawn == {row["name"]: (rank, scores[row["name"]], row["value"], row["risk"])
                     for rank, row in enumerate(ranked, start=1)}
    for rank, row in enumerate(ranked, start=1):  # each circle is numbered by its rank, larger for a better fit
        circle = matrix.locator(f'g.entry[data-name="{row["name"]}"]')
        expect(circle.locator("text")).to_have_text(str(rank))
        expect(circle.locator("circle")).to_have_attribute("r", str(7 + 2 * row["strategic_fit"]))
        expect(circle.locator("title")).to_have_text(f'{row["name"]}: score {scores[row["name"]]:g}')
    # higher value is drawn higher, higher risk further right
    contoso, fabrikam = (matrix.locator(f'g.entry[data-name="{n}"] circle')
                         for n in ("Contoso Logistics", "Fabrikam Components"))
    assert float(contoso.get_attribute("cy")) < float(fabrikam.get_attribute("cy"))
    assert float(contoso.get_attribute("cx")) < float(fabrikam.get_attribute("cx"))

    table = page.locator("#portfolio-table tbody tr")
    expect(table).to_have_count(3)
    for rank, row in enumerate(ranked, start=1):
        cells = table.nth(rank - 1).locator("td")
        expect(table.nth(rank - 1)).to_have_attribute("data-name", row["name"])
        expect(cells).to_have_text([str(rank), row["name"] + ("" if row["collaboration_fits"] else " (transactional)"),
                                    str(row["value"]), str(row["risk"]), str(row["complexity"]),
                                    str(row["strategic_fit"]), str(scores[row["name"]])])
    expect(page.locator("#portfolio-table").get_by_role("link")).to_have_count(0)  # none started yet

    # the Relationships page's start form offers the entries collaboration fits, best first
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Relationships").click()
    page.wait_for_url(live_server + "/relationships")
    title = page.get_by_label("Name of the relationship")
    expect(title).to_have_attribute("list", "portfolio-entries")
    options = page.locator("datalist#portfolio-entries option")
    expect(options).to_have_count(2)
    assert [options.nth(i).get_attribute("value") for i in range(2)] == ["Contoso Logistics", "Fabrikam Components"]
    expect(options.nth(1)).to_have_text("2. score 3.2")

    title.fill("Fabrikam Components")
    page.get_by_label("Partner organisation").fill("Fabrikam Ltd")
    page.get_by_role("button", name="Start the relationship").click()
    page.wait_for_url(f"{live_server}/relationships/*")
    expect(page.locator(".flash.success")).to_contain_text("Started the relationship 'Fabrikam Components'")
    relationship_id = int(page.url.rsplit("/", 1)[1])
    started = session.get(ProcessInstance, relationship_id)
    session.commit()
    assert started.title == "Fabrikam Components" and started.process_id == "lifecycle"

    open_management(page, live_server)
    linked = page.locator('#portfolio-table tr[data-name="Fabrikam Components"]').get_by_role(
        "link", name="Fabrikam Components")
    expect(linked).to_have_attribute("href", f"/relationships/{relationship_id}")
    expect(page.locator("#portfolio-table").get_by_role("link")).to_have_count(1)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Relationships").click()
    page.wait_for_url(live_server + "/relationships")
    expect(page.locator("datalist#portfolio-entries option")).to_have_count(1)  # a started entry is offered no more
    expect(page.locator("datalist#portfolio-entries option")).to_have_attribute("value", "Contoso Logistics")
    open_management(page, live_server)
    linked = page.locator("#portfolio-table").get_by_role("link", name="Fabrikam Components")
    linked.click()
    page.wait_for_url(f"{live_server}/relationships/{relationship_id}")


# ------------------------------------------------------------------------------------------ 4. the maturity trend
def maturity(levels):
    return {"maturity_assessment": [{"criterion": c, "level": level, "evidence": f"{c} evidence", "target_level": 4}
                                    for c, level in zip(CRITERIA, levels, strict=True)]}


FIRST, RENEWAL = (2, 3, 2, 3, 2, 3, 2, 3), (3, 4, 4, 3, 4, 3, 3, 3)


def mean(levels):
    return f"{round(sum(levels) / len(levels), 1):g}"


def test_the_maturity_chart_has_one_point_per_assessment(live_server, page, session, services, users, bundled):
    assert (mean(FIRST), mean(RENEWAL)) == ("2.5", "3.4")
    organisation = approve_organisation(session, services, users, utcnow(),
                                        answers={"s3_collaborative_profile": maturity(FIRST)})
    first_at = organisation.now
    due = management.readiness(session, organisation.now).renewal_due_at
    organisation.wake(at=due + timedelta(minutes=1))  # the cycle ran out: stage 3 again, pre-filled
    session.commit()
    assert not management.readiness(session, organisation.now).ready
    assert organisation.ready(), "the renewal's tasks are open"
    organisation.drive({"s3_collaborative_profile": maturity(RENEWAL)},
                       until=lambda d: management.readiness(session, d.now).ready)
    session.commit()
    renewed_at = organisation.now

    sign_in(page, live_server, session, users["top"])
    open_management(page, live_server)
    chart = page.locator("svg#maturity-chart")
    expect(chart).to_be_visible()
    points = chart.locator("circle.point")
    expect(points).to_have_count(2)
    assert [(points.nth(i).get_attribute("data-score"), points.nth(i).get_attribute("data-at")) for i in range(2)] \
        == [(mean(FIRST), f"{first_at:%Y-%m-%d}"), (mean(RENEWAL), f"{renewed_at:%Y-%m-%d}")]
    expect(chart.locator("polyline")).to_have_count(1)
    box = chart.bounding_box()
    for label in chart.locator("text.date").all():  # every date label drawn inside the chart, none cut off
        inside = label.bounding_box()
        assert box["x"] <= inside["x"] and inside["x"] + inside["width"] <= box["x"] + box["width"] + 0.5, \
            label.text_content()
    # the renewal is drawn higher (a better mean level), to the right
    assert float(points.nth(1).get_attribute("cy")) < float(points.nth(0).get_attribute("cy"))
    assert float(points.nth(1).get_attribute("cx")) > float(points.nth(0).get_attribute("cx"))
    expect(chart.locator("desc")).to_have_text(f"{first_at:%d %b %Y}: {mean(FIRST)}; "
                                               f"{renewed_at:%d %b %Y}: {mean(RENEWAL)}")
    # the latest levels, criterion by criterion
    rows = page.locator("#maturity-levels tbody tr")
    expect(rows).to_have_count(8)
    for criterion, level in zip(CRITERIA, RENEWAL, strict=True):
        expect(page.locator(f'#maturity-levels tr[data-criterion="{criterion}"] td').last).to_have_text(str(level))
    expect(page.locator("#assessment-state")).to_have_attribute("data-ready", "yes")


# -------------------------------------------------------------------------------------- 5. a nonconformity's flow
NC_TITLE = "Supplier onboarding skipped the collaborative policy briefing"


def test_a_nonconformity_raised_by_hand_is_checked_by_someone_else_and_reopened_when_not_effective(
        live_server, page, browser, session, services, users, bundled):
    approve_organisation(session, services, users, utcnow())
    # a staff member who is also an SER: the check is in the SER lane, so only four eyes can keep them from it
    quinn = create_user(session, "quinn", password=None, roles=["staff", "ser"], organisation="Us",
                        display_name="Quinn Quality")

    sign_in(page, live_server, session, quinn)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Start").click()
    page.wait_for_url(live_server + "/start")
    page.locator("#startable").get_by_role("link", name="Nonconformity and corrective action").click()
    page.wait_for_url(live_server + "/start/nonconformity")
    form = page.locator("#start-form")
    form.get_by_label("Title").fill(NC_TITLE)
    form.get_by_label("Source").select_option(label="Internal audit")
    form.get_by_label("Description").fill("Two new suppliers were onboarded without the policy briefing.")
    form.get_by_label("Minor").check()
    form.get_by_label("Requirement").fill("M7.3")
    form.get_by_role("button", name="Start").click()
    page.wait_for_url(f"{live_server}/tasks/*")  # straight to the first task, which is Quinn's to do
    expect(page.locator(".flash.success").first).to_contain_text("Started: Nonconformity and corrective action.")
    expect(page.get_by_role("heading", name="Correct it and find the root cause", level=1)).to_be_visible()

    nc_id = session.scalar(select(ProcessInstance.id).where(ProcessInstance.process_id == "nonconformity"))
    session.commit()
    open_management(page, live_server)
    raised = page.locator(f'#nonconformities li[data-instance="{nc_id}"]')
    expect(raised).to_contain_text(NC_TITLE)
    expect(raised).to_contain_text("now: Correct it and find the root cause")
    expect(page.locator("#nc-count b")).to_have_text("1")
    expect(page.locator('#clauses tr[data-requirement="M10.1"]')).to_have_attribute("data-status", "in_progress")

    # Quinn corrects it and carries out the action: one task leads to the next
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    page.wait_for_url(live_server + "/inbox")
    page.get_by_role("link", name="Correct it and find the root cause").click()
    page.wait_for_url(f"{live_server}/tasks/*")
    expect(page.locator(".instructions")).to_contain_text(NC_TITLE)
    task = page.locator("#task-form")
    task.get_by_label(exactly("Correction")).fill("Both suppliers were briefed this week.")
    task.get_by_label("Correction date").fill(f"{utcnow():%Y-%m-%d}")
    task.get_by_label("Cause categories").check()
    task.get_by_label("Cause category").select_option(label="Process")
    task.get_by_label("Root cause").fill("The onboarding checklist has no briefing step.")
    task.get_by_label(exactly("Corrective action")).fill("Add the briefing to the onboarding checklist.")
    task.get_by_label("Action owner").fill("Quinn Quality")
    task.get_by_label("Action due").fill(f"{utcnow() + timedelta(days=14):%Y-%m-%d}")
    task.get_by_label("Check effectiveness after").select_option(label="1 month")
    task.get_by_label(exactly("No")).check()
    with page.expect_navigation():
        task.get_by_role("button", name="Complete task").click()
    expect(page.locator(".flash.success").first).to_have_text("Completed: Correct it and find the root cause.")
    expect(page.get_by_role("heading", name="Carry out the corrective action", level=1)).to_be_visible()
    expect(page.locator(".instructions")).to_contain_text("Add the briefing to the onboarding checklist.")
    task = page.locator("#task-form")
    task.get_by_label("Done on").fill(f"{utcnow():%Y-%m-%d}")
    task.get_by_label("What was done").fill("The checklist now has the briefing step; both suppliers signed it.")
    task.get_by_role("button", name="Complete task").click()
    page.wait_for_url(live_server + "/inbox")
    expect(page.locator(".flash.success").first).to_have_text("Completed: Carry out the corrective action.")

    # the check waits for its period: the timer is the step now
    timer = session.scalar(select(Timer).where(Timer.instance_id == nc_id))
    session.commit()
    assert timer is not None and timer.bpmn_id == "nc_wait_effectiveness"
    open_management(page, live_server)
    waiting = page.locator(f'#nonconformities li[data-instance="{nc_id}"]')
    expect(waiting).to_contain_text("now: Effectiveness check due")
    expect(waiting).to_contain_text(f"due {day(timer.due_at)}")

    nc = Driver(session, services, users, nc_id, utcnow())
    nc.wake(at=timer.due_at - timedelta(minutes=1))
    assert nc.ready_names() == [], "not due yet"
    nc.wake(at=timer.due_at + timedelta(minutes=1))
    assert nc.ready_names() == ["nc_check_effectiveness"]
    check_id = nc.task("nc_check_effectiveness").id
    session.commit()

    # the action's owner finds the check in their inbox (they are an SER) and opens it: four eyes, the page says why
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    page.wait_for_url(live_server + "/inbox")
    page.get_by_role("link", name="Check the action worked, then close").click()
    page.wait_for_url(f"{live_server}/tasks/{check_id}")
    expect(page.get_by_role("heading", name="Check the action worked, then close", level=1)).to_be_visible()
    refusal = page.locator("#refusal")
    expect(refusal).to_contain_text("Four eyes: you prepared")
    expect(refusal).to_contain_text("Correct it and find the root cause")
    expect(refusal).to_contain_text("another SER must decide")
    expect(page.get_by_role("button", name="Record decision")).to_have_count(0)
    expect(page.get_by_label("Not effective: reopen it")).to_be_disabled()  # shown, read-only

    # another SER finds it did not work
    ser = other_page(browser)
    sign_in(ser, live_server, session, users["ser"])
    ser.get_by_role("link", name="Check the action worked, then close").click()
    ser.wait_for_url(f"{live_server}/tasks/{check_id}")
    expect(ser.locator("#refusal")).to_have_count(0)
    decision = ser.locator("#task-form")
    decision.get_by_label("Not effective: reopen it").check()
    decision.get_by_label("Verification").fill("A third supplier was onboarded last week without the briefing.")
    decision.get_by_label("Verified on").fill(f"{nc.now:%Y-%m-%d}")
    decision.get_by_label("Comments").fill("The checklist is not used by the regional offices.")
    decision.get_by_role("button", name="Record decision").click()
    ser.wait_for_url(live_server + "/inbox")
    expect(ser.locator(".flash.success").first).to_have_text("Completed: Check the action worked, then close.")
    open_management(ser, live_server)
    reopened = ser.locator(f'#nonconformities li[data-instance="{nc_id}"]')
    expect(reopened).to_contain_text(NC_TITLE)
    expect(reopened).to_contain_text("now: Correct it and find the root cause")
    ser.context.close()

    assert nc.ready_names() == ["nc_correction"]
    assert nc.latest_data()["nc_state"] == "reopened" and nc.latest_data()["reopened"] == 1
    session.commit()
    # Quinn finds the correction in the inbox again, told it was reopened
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    page.wait_for_url(live_server + "/inbox")
    page.get_by_role("link", name="Correct it and find the root cause").click()
    page.wait_for_url(f"{live_server}/tasks/*")
    expect(page.locator(".instructions")).to_contain_text("Reopened 1 time(s)")
    expect(page.locator("main")).to_contain_text("The checklist is not used by the regional offices.")
    expect(page.get_by_label(exactly("Correction"))).to_have_value("Both suppliers were briefed this week.")
