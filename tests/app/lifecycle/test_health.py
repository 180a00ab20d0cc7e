"""The two-way relationship health survey over time: each review's round pairs how we rate the partner with how
the partner rates us, and the relationship page shows every round with its change since the one before."""

from __future__ import annotations

from lxml import html as lxml_html

from app.lifecycle import health
from tests.support.driver import GREEN

from .test_reviews import at, review_data


def _survey(trust, behaviours, communication, comment=""):
    return {"trust": trust, "behaviours": behaviours, "communication": communication, "comment": comment}


def _work_review(review, ours, theirs):
    review.complete("pr_health_survey", {"health_of_partner": ours})
    review.complete("pr_health_survey_partner", {"health_of_us": theirs})
    review.complete("pr_performance_review", {"performance_ratings": GREEN, "overall_rating": "green"})
    review.complete("pr_ser_performance_feedback", {"overall_rating": "green"})
    review.complete("pr_ser_performance_feedback_partner")


def test_each_round_pairs_both_sides_and_the_page_shows_the_change(start, session, signed_in):
    first = start("periodic_review", review_data("R.S7", interval="P3M"), now=at("2025-01-20T09:00:00+00:00"))
    first.wake(at=at("2025-01-31T09:01:00+00:00"))
    _work_review(first, _survey(4, 4, 3), _survey(5, 4, 4, "Reliable on delivery."))
    (nxt,) = first.linked("periodic_review")
    second = first.linked_driver(nxt.id)
    second.wake(at=at("2025-04-30T09:01:00+00:00"))
    _work_review(second, _survey(3, 3, 2, "Late answers since the reorganisation."), _survey(5, 5, 4))

    rounds = health.rounds(session, first.instance_id)
    assert [(r.ours.mean, r.theirs.mean) for r in rounds] == [(3.7, 4.3), (2.7, 4.7)]
    assert rounds[1].ours.comment == "Late answers since the reorganisation."

    tree = lxml_html.fromstring(signed_in("ser").get(f"/relationships/{first.instance_id}").get_data(as_text=True))
    rows = tree.xpath('//*[@id="health"]//tbody/tr')
    assert [(r.get("data-side"), r.get("data-at")) for r in rows] == [
        ("ours", "2025-01-31"), ("theirs", "2025-01-31"), ("ours", "2025-04-30"), ("theirs", "2025-04-30")]
    changes = [c.get("data-change") for c in tree.xpath('//*[@id="health"]//*[@data-change]')]
    assert changes == ["-1.0", "0.4"]  # we rate the partner a point lower; they rate us higher
    assert "Late answers since the reorganisation." in rows[2].text_content()
