"""The relationship health survey in a real browser, as the partner's SER: its inbox offers its own side of the
survey only, the form asks its own side's questions, and what it submits reaches the joint performance review."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from app.db import utcnow
from tests.support.browser import sign_in
from tests.support.driver import Driver, until_ready
from workflows import add_period

OURS = "Rate the partner: trust, behaviours, communication"
THEIRS = "Partner rates us: trust, behaviours, communication"


def test_the_partner_answers_its_own_side_of_the_health_survey(live_server, page, session, services, users,
                                                               bundled):
    rel = Driver.start(session, services, users, "lifecycle", {"relationship_name": "ACME joint bid"},
                       now=utcnow())
    rel.drive(until=until_ready("s7_manage_activities"))
    rel.wake(at=add_period(rel.now, "P3M") + timedelta(minutes=1))

    sign_in(page, live_server, session, users["pser"])
    expect(page.get_by_role("link", name=THEIRS)).to_have_count(1)
    expect(page.get_by_role("link", name=OURS)).to_have_count(0)
    page.get_by_role("link", name=THEIRS).click()
    expect(page.get_by_role("heading", name="Relationship health survey: your side")).to_be_visible()
    expect(page.get_by_label("Trust")).to_have_count(1)
    expect(page.get_by_text("How we rate the partner organisation")).to_have_count(0)
    page.get_by_label("Trust").fill("2")
    page.get_by_label("Behaviours").fill("4")
    page.get_by_label("Communication").fill("9")                     # out of range: told, nothing recorded
    page.get_by_role("button", name="Complete task").click()
    expect(page.get_by_label("Communication")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Communication").fill("3")
    page.get_by_role("button", name="Complete task").click()
    expect(page.locator(".flash").first).to_contain_text(f"Completed: {THEIRS}")

    (review,) = [c for c, d in zip(rel.linked("periodic_review"), rel.linked_data("periodic_review"), strict=True)
                 if d["review_id"] == "R.S7"]
    session.expire_all()
    survey = rel.linked_driver(review.id)
    assert survey.ready_names() == ["pr_health_survey"], "our side is still to answer"
    survey.complete("pr_health_survey", {"health_of_partner": {"trust": 4, "behaviours": 4, "communication": 4}})
    assert survey.ready_names() == ["pr_performance_review"]
    assert survey.task_data("pr_performance_review")["health_scores"][1] == {
        "side": "The partner rates us", "trust": 2, "trust_trend": "first", "behaviours": 4,
        "behaviours_trend": "first", "communication": 3, "communication_trend": "first"}
