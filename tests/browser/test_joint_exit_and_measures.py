"""Two of the lifecycle's joint moments in Debian's Chromium: an exit trigger decided by each organisation's SER in
their own browser (X.01), the register showing the decision; and a performance measure's actual typed by the joint
team, the relationship page's chart turning that point red without anyone typing red (S5.16)."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from app.db import utcnow
from app.processes.models import ProcessInstance
from tests.app.lifecycle.test_reviews import MEASURES
from tests.support.browser import sign_in
from tests.support.driver import Driver, until_ready


def _relationship(session, services, users, until, answers=None):
    rel = Driver.start(session, services, users, "lifecycle", {"relationship_name": "ACME joint bid"}, now=utcnow())
    rel.drive(answers, until=until_ready(until))
    session.commit()
    return rel


def _decide(page, live_server, session, user, task, decision, rationale):
    sign_in(page, live_server, session, user)
    page.get_by_role("link", name=task).click()
    page.get_by_label(decision).check()
    page.get_by_label("Rationale").fill(rationale)
    page.get_by_label("Decided on").fill(utcnow().date().isoformat())
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator(".flash").first).to_contain_text(f"Completed: {task}")


def test_each_ser_decides_the_exit_trigger_in_their_own_browser(browser, live_server, page, session, services, users,
                                                               bundled):
    rel = _relationship(session, services, users, "s6_improvement")
    rel.raise_exit_trigger("Partner bought by our competitor")
    session.commit()

    _decide(page, live_server, session, users["ser"], "SER decides on the exit trigger", "Invoke exit",
            "Their new owner competes with us.")
    page.goto(f"{live_server}/relationships/{rel.instance_id}/registers/exit-triggers")
    row = page.locator("tr", has_text="Partner bought by our competitor")
    expect(row).to_contain_text("invoke exit")
    expect(row).to_contain_text("awaiting decision")  # one SER alone decides nothing

    partner = browser.new_context().new_page()
    _decide(partner, live_server, session, users["pser"], "Partner SER decides on the exit trigger", "Invoke exit",
            "We agree: the conflict of interest is real.")
    partner.goto(f"{live_server}/relationships/{rel.instance_id}/registers/exit-triggers")
    expect(partner.locator("tr", has_text="Partner bought by our competitor")).to_contain_text("exit invoked")

    page.goto(f"{live_server}/relationships/{rel.instance_id}")
    expect(page.get_by_text("Finalise the joint exit strategy")).not_to_have_count(0)  # stage 8 runs
    partner.context.close()


def test_an_actual_below_target_turns_its_point_red_on_the_chart(live_server, page, session, services, users, bundled):
    rel = _relationship(session, services, users, "s6_value_definition",
                        {"s5_measures_roles": {"performance_measures": MEASURES[:1]}})
    (review,) = [r for r in rel.linked("periodic_review", status="running")
                 if rel.linked_driver(r.id).latest_data().get("review_id") == "R.PM"]
    pm = rel.linked_driver(review.id)
    pm.wake(at=session.get(ProcessInstance, review.id).next_due_at + timedelta(minutes=1))
    session.commit()

    sign_in(page, live_server, session, users["jmt"])
    page.get_by_role("link", name="Measure performance against the agreed measures").click()
    page.locator('[name="f.measure_results.0.actual"]').fill("72 %")
    page.locator('[name="f.measure_results.0.actual_value"]').fill("72")
    page.get_by_label("Summary for the SERs").fill("Deliveries slipped in the holiday weeks.")
    page.get_by_label("Fed back to both SERs on").fill(utcnow().date().isoformat())
    page.get_by_label("How they were fed back").select_option(label="Written report")
    page.locator('[name="f.fed_back_to_both_sers"]').check()
    page.get_by_role("button", name="Complete task").click()
    expect(page.locator(".flash").first).to_contain_text("Completed")

    page.goto(f"{live_server}/relationships/{rel.instance_id}")
    chart = page.locator('#measures figure[data-measure="On-time delivery (%)"]')
    expect(chart).to_be_visible()
    expect(chart.locator("circle.point")).to_have_count(1)
    expect(chart.locator("circle.point")).to_have_attribute("data-status", "off_track")
    expect(chart.locator(".badge")).to_have_text("off track")
