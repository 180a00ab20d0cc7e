"""The two-way relationship health survey (S7.03, S7.04): before each quarterly performance review (R.S7) each
organisation rates the other on trust, behaviours and communication, the partner's SER answering its own side in
its own lane; the performance review shows both sides' latest scores with their trend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.errors import Forbidden
from app.inbox.instructions import render_instructions
from app.processes import services
from app.processes.store import SqlInstanceStore
from tests.support.driver import GREEN, until_ready
from workflows import add_period


def shown(review, session, name) -> str:
    row = review.task(name)
    task = review.svc.workflows.using(SqlInstanceStore(session)).get_task(review.instance_id, row.task_id)
    return str(render_instructions(task.instructions, task.data))


def due_performance_review(rel, stage7, quarter):
    rel.wake(at=add_period(stage7, "P3M", quarter) + timedelta(minutes=1))
    (child,) = [c for c, d in zip(rel.linked("periodic_review"), rel.linked_data("periodic_review"), strict=True)
                if d["review_id"] == "R.S7" and c.status == "running"]
    review = rel.linked_driver(child.id)
    review.now = rel.now
    return review


@pytest.mark.slow
def test_both_organisations_rate_each_other_and_the_performance_review_shows_both_with_their_trend(
        start, session, users):
    rel = start()
    rel.drive(until=until_ready("s7_manage_activities"))
    stage7 = rel.now
    review = due_performance_review(rel, stage7, 1)
    assert sorted(review.ready_names()) == ["pr_health_survey", "pr_health_survey_partner"]
    ours, theirs = review.task("pr_health_survey"), review.task("pr_health_survey_partner")
    assert (ours.lane, theirs.lane, theirs.partner_side) == ("SER", "Partner SER", True)

    with pytest.raises(Forbidden):   # the partner answers its own side only, and we do not answer for it
        services.complete_task(session, review.svc.workflows, user=users["pser"], human_task_id=ours.id,
                               data={"health_of_partner": {"trust": 5, "behaviours": 5, "communication": 5}},
                               now=review.now)
    session.rollback()
    with pytest.raises(Forbidden):
        services.complete_task(session, review.svc.workflows, user=users["ser"], human_task_id=theirs.id,
                               data={"health_of_us": {"trust": 5, "behaviours": 5, "communication": 5}},
                               now=review.now)
    session.rollback()

    review.complete("pr_health_survey", {"health_of_partner": {"trust": 4, "behaviours": 3, "communication": 5}})
    partner_row = review.task("pr_health_survey_partner")
    assert set(review.schema_of(partner_row)["properties"]) == {"health_of_us"}, "only its own side's questions"
    assert "health_of_partner" not in review.task_data(partner_row), "nor our answers before the joint review"
    review.complete("pr_health_survey_partner", {"health_of_us": {"trust": 2, "behaviours": 4, "communication": 3}},
                    user=users["pser"])

    assert review.ready_names() == ["pr_performance_review"]
    text = shown(review, session, "pr_performance_review")
    assert "We rate the partner: trust 4 (first), behaviours 3 (first), communication 5 (first)" in text
    assert "The partner rates us: trust 2 (first), behaviours 4 (first), communication 3 (first)" in text
    review.complete("pr_performance_review", {"performance_ratings": GREEN, "overall_rating": "green"})
    review.complete("pr_ser_performance_feedback", {"overall_rating": "green", "corrective_actions": []})
    review.complete("pr_ser_performance_feedback_partner", {"partner_corrective_actions": []}, user=users["pser"])
    assert review.completed

    nxt = due_performance_review(rel, stage7, 2)
    nxt.complete("pr_health_survey", {"health_of_partner": {"trust": 4, "behaviours": 4, "communication": 2}})
    nxt.complete("pr_health_survey_partner", {"health_of_us": {"trust": 3, "behaviours": 4, "communication": 3}},
                 user=users["pser"])
    text = shown(nxt, session, "pr_performance_review")
    assert "We rate the partner: trust 4 (same), behaviours 4 (up), communication 2 (down)" in text
    assert "The partner rates us: trust 3 (up), behaviours 4 (same), communication 3 (same)" in text
