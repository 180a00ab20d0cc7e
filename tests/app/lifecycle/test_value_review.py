"""The value register in depth (S6.01, S6.06, S6.08): ideas whose benefit is money or not, each with an owner and a
target date; the value review (R.VL) runs at the frequency agreed in stage 6 and shows the ideas with their target
and realised value; realised value someone verified reaches the value register. Governance adherence (S7.10) and
changes in the organisations, environment and market (S7.11) are recurring reviews scheduled from stage 7."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.inbox.instructions import render_instructions
from app.processes.store import SqlInstanceStore
from app.registers import services as registers
from tests.support.driver import is_valid, until_ready
from workflows import add_period

MONEY = {"idea": "Shared warehouse", "proposed_by": "Operations", "owner": "Sam Ops", "kind": "money", "cost": 100,
         "benefit": 500, "status": "approved", "target_date": "2025-09-30"}
TIME = {"idea": "Joint scheduling desk", "proposed_by": "Planning", "owner": "Pat Plan", "kind": "time", "cost": 20,
        "benefit": 40, "measure": "Planner hours saved a month", "status": "in_progress", "target_date": "2025-12-31"}
STAGE_6 = {"s6_value_definition": {"value_review_frequency": "half_yearly"},
           "s6_value_register": {"value_register": [MONEY, TIME]}}


def value_reviews(rel) -> list:
    return [(c, d) for c, d in zip(rel.linked("periodic_review"), rel.linked_data("periodic_review"), strict=True)
            if d["review_id"] == "R.VL"]


def test_a_benefit_that_is_not_money_needs_its_measure_and_a_realised_idea_its_verification(start):
    rel = start()
    rel.drive(STAGE_6, until=until_ready("s6_value_register"))
    schema = rel.schema_of(rel.task("s6_value_register"))
    assert is_valid(schema, {"value_register": [MONEY, TIME]})
    assert not is_valid(schema, {"value_register": [{k: v for k, v in TIME.items() if k != "measure"}]}), \
        "time saved, measured how?"
    assert not is_valid(schema, {"value_register": [{k: v for k, v in MONEY.items() if k != "owner"}]})
    assert not is_valid(schema, {"value_register": [{**MONEY, "status": "realised", "realised_value": 700}]}), \
        "realised value nobody verified"
    assert is_valid(schema, {"value_register": [{**MONEY, "status": "realised", "realised_value": 700,
                                                 "verified_by": "Finance", "verified_on": "2025-10-02",
                                                 "verification_evidence": "Q3 invoices"}]})


@pytest.mark.slow
def test_the_value_review_runs_at_the_agreed_frequency_shows_the_ideas_and_verified_value_reaches_the_register(
        start, session, users):
    rel = start()
    rel.drive(STAGE_6, until=until_ready("s7_manage_activities"))
    approved = rel.now
    ((first, data),) = value_reviews(rel)
    assert (data["interval"], data["due_at"]) == ("P6M", add_period(approved, "P6M").isoformat()), \
        "half-yearly, as agreed in stage 6"
    # stage 7 starts its reviews as its first task opens (that task's preScript): the data is on that task until
    # it is completed
    row = rel.task("s7_manage_activities")
    opened = rel.svc.workflows.using(SqlInstanceStore(session)).get_task(rel.instance_id, row.task_id)
    assert opened.data["reviews_scheduled"][-5:] == ["R.VL", "R.S7", "R.EX", "R.GV", "R.CH"]
    assert rel.latest_data()["reviews_scheduled"][-1] == "R.VL"

    review = rel.linked_driver(first.id)
    review.wake(at=add_period(approved, "P6M") - timedelta(minutes=1))
    assert review.ready_names() == []
    review.wake(at=add_period(approved, "P6M") + timedelta(minutes=1))
    assert review.ready_names() == ["pr_value_review"]
    row = review.task("pr_value_review")
    task = review.svc.workflows.using(SqlInstanceStore(session)).get_task(review.instance_id, row.task_id)
    shown = str(render_instructions(task.instructions, task.data))
    assert "Shared warehouse" in shown and "target 500 by 2025-09-30" in shown and "nothing yet" in shown
    assert "Joint scheduling desk" in shown and "target Planner hours saved a month by 2025-12-31" in shown

    verified = {**MONEY, "status": "realised", "realised_value": 650, "verified_by": "Finance controller",
                "verified_on": "2025-10-02", "verification_evidence": "Q3 warehouse invoices"}
    review.complete("pr_value_review", {"value_register": [verified, TIME],
                                        "value_review_summary": "The warehouse paid off."})
    assert review.completed
    registers.sync(session, rel.instance_id, now=review.now)
    entries = {e.data["idea"]: e.data for e in
               registers.entries(session, users["staff"], rel.instance_id, "value", now=review.now)}
    assert {k: entries["Shared warehouse"].get(k) for k in ("status", "realised_value", "verified_by", "verified_on",
                                                             "verification_evidence")} == {
        "status": "realised", "realised_value": 650, "verified_by": "Finance controller",
        "verified_on": "2025-10-02", "verification_evidence": "Q3 warehouse invoices"}
    assert entries["Joint scheduling desk"]["kind"] == "time"
    assert entries["Joint scheduling desk"]["measure"] == "Planner hours saved a month"

    (nxt,) = [d for c, d in value_reviews(rel) if c.status == "running"]
    assert (nxt["interval"], nxt["sequence"], nxt["due_at"]) == ("P6M", 2, add_period(approved, "P12M").isoformat())
    assert nxt["value_register"][0]["verified_by"] == "Finance controller", "the next review starts from this one"


@pytest.mark.slow
def test_governance_adherence_and_changes_are_recurring_reviews_scheduled_from_stage_7(start):
    rel = start()
    rel.drive(until=until_ready("s7_manage_activities"))
    stage7 = rel.now
    principles = [p["principle"] for p in rel.latest_data()["core_principles"]]
    scheduled = {d["review_id"]: (c, d) for c, d in zip(rel.linked("periodic_review"),
                                                         rel.linked_data("periodic_review"), strict=True)}
    assert scheduled["R.GV"][1]["interval"] == "P3M" and scheduled["R.CH"][1]["interval"] == "P6M", \
        "the lifecycle's cadence:R.GV and cadence:R.CH"
    assert [g["principle_or_rule"] for g in scheduled["R.GV"][1]["governance_adherence"]] == principles

    for review_id, task, months in (("R.GV", "pr_governance_review", 3), ("R.CH", "pr_change_review", 6)):
        review = rel.linked_driver(scheduled[review_id][0].id)
        review.wake(at=add_period(stage7, f"P{months}M") + timedelta(minutes=1))
        assert review.ready_names() == [task]
        assert review.task(task).lane == "Joint management team"
        review.complete(task)
        assert review.completed
        (nxt,) = [d for c, d in zip(rel.linked("periodic_review"), rel.linked_data("periodic_review"), strict=True)
                  if d["review_id"] == review_id and c.status == "running"]
        assert (nxt["sequence"], nxt["due_at"]) == (2, add_period(stage7, f"P{2 * months}M").isoformat()), \
            "it recurs on its own cadence"
    assert [g["principle_or_rule"] for g in nxt_governance(rel)] == principles, "the next one assesses them afresh"


def nxt_governance(rel) -> list:
    (data,) = [d for c, d in zip(rel.linked("periodic_review"), rel.linked_data("periodic_review"), strict=True)
               if d["review_id"] == "R.GV" and c.status == "running"]
    return data["governance_adherence"]

