"""Issue resolution and exit triggers through the real services and the scheduler's timer firing:
(4) an issue escalates by time limits through three levels to an exit-trigger review, both SERs invoke exit
(each in their own task) and stage 8 runs as a premature exit with a mandatory continuity plan; (5) a trigger
both SERs dismiss leaves the relationship exactly where it was; (X.01) when the SERs disagree the joint
management team records how the agreed exit strategy resolves the deadlock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.errors import BadRequest, Forbidden
from app.processes import services as process_services
from app.processes.models import Timer
from tests.support.driver import fill_form, is_valid, until_ready

EXIT_REVIEWS = ["exit_review", "exit_review_partner"]


def timer_dues(driver):
    driver.session.expire_all()
    return [t.due_at.isoformat() for t in driver.session.query(Timer).filter_by(instance_id=driver.instance_id)]


def exit_triggers_received(rel):
    """The exit triggers the relationship received (it may receive other signals too)."""
    return [e for e in rel.audit("signal.received") if e.payload["name"] == "exit_trigger"]


def escalate_by_time_limits(issue):
    """Log the issue, then let each level's time limit expire; returns the escalation's end data."""
    issue.complete("ir_log_issue")
    assert issue.ready_names() == ["ir_level1"] and issue.task("ir_level1").lane == "Joint operational team"
    logged = issue.now
    assert timer_dues(issue) == [(logged + timedelta(days=5)).isoformat()]      # l1_limit default P5D

    issue.wake(days=4)
    assert issue.ready_names() == ["ir_level1"], "not due yet"
    issue.wake(days=1, minutes=1)
    assert issue.ready_names() == ["ir_level2"] and issue.task("ir_level2").lane == "Joint management team"
    issue.wake(days=10, minutes=1)
    assert sorted(issue.ready_names()) == ["ir_level3_partner_ser", "ir_level3_ser"]
    assert {r.lane for r in issue.ready()} == {"SER", "Partner SER"}
    issue.wake(days=15, minutes=1)
    assert issue.completed and issue.ready_names() == []
    assert issue.data["outcome"] == "exit_trigger_raised"
    assert [h["level"] for h in issue.data["escalation_history"]] == [1, 2, 3]
    assert {h["event"] for h in issue.data["escalation_history"]} == {"time_limit_expired"}
    fired = issue.audit("timer.fired")
    assert len(fired) == 3 and {e.actor for e in fired} == {"scheduler"}
    return issue.data


@pytest.mark.slow
def raised_triggers(rel, user="ser") -> dict:
    """The exit-trigger register's raised triggers as `user` reads them: trigger -> (ours, theirs, outcome)."""
    from app.registers import services as registers
    found = registers.entries(rel.session, rel.users[user], rel.instance_id, "exit-triggers", now=rel.now)
    return {e.data["trigger"]: (e.data.get("our_decision"), e.data.get("partner_decision"), e.data.get("outcome"))
            for e in found if "outcome" in e.data}


def test_issue_escalates_through_three_levels_to_an_exit_review_and_exit_is_invoked(start):
    rel = start()
    rel.drive(until=until_ready("s6_improvement"))
    issue = rel.raise_issue("Late design documents", "Drawings are three weeks late")
    assert issue.instance().parent_id == rel.instance_id
    assert rel.audit("task.created", instance_id=issue.instance_id)
    escalate_by_time_limits(issue)

    # the unresolved issue raised an exit trigger on the relationship: SERs review it
    (received,) = exit_triggers_received(rel)
    assert received.payload["payload"]["source"] == "escalation"
    assert "Late design documents" in received.payload["payload"]["reason"]
    assert sorted(rel.ready_names()) == [*EXIT_REVIEWS, "s6_improvement"]
    review, partner_review = rel.task("exit_review"), rel.task("exit_review_partner")
    assert (review.lane, partner_review.lane) == ("SER", "Partner SER") and partner_review.partner_side
    assert rel.task_data(review)["exit_info"]["issue"]["title"] == "Late design documents"
    assert rel.task_data(partner_review)["exit_info"]["issue"]["title"] == "Late design documents"
    rel.complete(review, {"exit_decision": "invoke_exit", "exit_rationale": "Trust has broken down."})
    assert sorted(rel.ready_names()) == ["exit_review_partner", "s6_improvement"], "our SER alone decides nothing"
    (waiting,) = raised_triggers(rel).values()
    assert waiting == ("invoke_exit", None, "awaiting_decision"), "the register shows the raised trigger at once"
    rel.complete("exit_review_partner", {"partner_exit_decision": "invoke_exit",
                                         "partner_exit_rationale": "We agree: the escalation failed."})
    assert {e.actor for e in rel.audit("task.completed") if e.payload["bpmn_id"] in EXIT_REVIEWS} == {"ser", "pser"}
    assert list(raised_triggers(rel, "pser").values()) == [("invoke_exit", "invoke_exit", "exit_invoked")], \
        "both SERs invoked: exit, and the partner reads it in the register too"

    assert rel.ready_names() == ["s8_finalise_exit_strategy"]
    data = rel.task_data("s8_finalise_exit_strategy")
    assert data["premature_exit"] is True and data["current_stage"] == 8
    assert data["exit_reason"] == "Trust has broken down."
    assert {r.status for r in rel.linked("periodic_review")} == {"cancelled"}, "stage 8 stops the reviews"
    assert [e.action for e in rel.audit("task.cancelled")], "the interrupted stage's task was cancelled"

    rel.drive(until=lambda r: any(n.startswith("s8_continuity") for n in r.ready_names()))
    assert rel.ready_names() == ["s8_continuity_plan_premature"]
    row = rel.task("s8_continuity_plan_premature")
    incomplete = fill_form(rel.schema_of(row), rel.task_data(row))
    del incomplete["continuity_plan"]
    assert not is_valid(rel.schema_of(row), incomplete), "the continuity plan is mandatory"
    rel.drive()
    assert rel.completed and rel.data["outcome"] == "exited_prematurely"


def test_issue_limits_come_from_data_and_resolution_closes_early(start):
    issue = start("issue_resolution", {"l1_limit": "PT4H"})
    issue.complete("ir_log_issue")
    assert timer_dues(issue) == [(issue.now + timedelta(hours=4)).isoformat()]
    issue.complete("ir_level1", {"l1_resolution": "escalate", "l1_escalation_reason": "Needs budget."})
    issue.complete("ir_level2", {"l2_resolution": "resolved", "l2_resolution_summary": "Budget found."})
    assert issue.completed and issue.data["outcome"] == "resolved" and issue.data["resolved_at_level"] == 2
    assert issue.data["escalation_history"][0]["event"] == "escalated"
    assert timer_dues(issue) == []


def test_level3_resolves_only_if_both_sers_agree(start):
    issue = start("issue_resolution", {})
    issue.complete("ir_log_issue")
    issue.complete("ir_level1", {"l1_resolution": "escalate", "l1_escalation_reason": "x"})
    issue.complete("ir_level2", {"l2_resolution": "escalate", "l2_escalation_reason": "y"})
    issue.complete("ir_level3_ser", {"l3_resolution": "resolved", "l3_resolution_summary": "Accept delay."})
    issue.complete("ir_level3_partner_ser", {"l3_partner_resolution": "escalate"})
    assert issue.completed and issue.data["outcome"] == "exit_trigger_raised"
    (unanswered,) = issue.audit("signal.unanswered")       # no relationship to tell: recorded, not lost
    assert unanswered.payload["name"] == "exit_trigger"


def test_issues_and_exit_triggers_are_refused_outside_stages_5_to_7(start):
    rel = start()
    rel.drive(until=until_ready("s2_business_case"))
    with pytest.raises(BadRequest, match="stages 5 to 7"):
        rel.raise_issue("Too early")
    with pytest.raises(BadRequest, match="stages 5 to 7"):
        rel.raise_exit_trigger("Too early")
    assert rel.linked("issue_resolution") == []


# (5) ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_dismissed_trigger_leaves_the_stage_task_where_it_was(start):
    rel = start()
    rel.drive(until=until_ready("s6_learning"))
    before = rel.task("s6_learning")
    before_data = rel.task_data(before)

    for attempt in range(2):                           # the watcher re-arms after every dismissal
        rel.raise_exit_trigger(f"Partner change of control #{attempt}")
        assert sorted(rel.ready_names()) == [*EXIT_REVIEWS, "s6_learning"]
        assert "exit_decision" not in rel.task_data("exit_review"), "each trigger's review opens blank"
        with pytest.raises(BadRequest, match="already open"):
            rel.raise_exit_trigger("a second one while the review is open")
        rel.complete("exit_review", {"exit_decision": "dismiss", "exit_rationale": "New owner keeps the deal."})
        with pytest.raises(BadRequest, match="already open"):
            rel.raise_exit_trigger("the partner's SER has not decided yet")
        rel.complete("exit_review_partner", {"partner_exit_decision": "dismiss",
                                             "partner_exit_rationale": "Our new owner keeps the deal."})
        (row,) = rel.ready()
        assert (row.bpmn_id, row.id, row.task_id) == ("s6_learning", before.id, before.task_id)
        assert rel.task_data(row) == before_data

    assert [e.payload["payload"]["source"] for e in exit_triggers_received(rel)] == ["person", "person"]
    rel.drive()
    assert rel.completed and rel.data["outcome"] == "completed" and rel.data["premature_exit"] is False


@pytest.mark.slow
def test_people_hear_of_escalations_exit_triggers_and_approvals(start, users, session):
    from sqlalchemy import select

    from app.notifications.models import Notification

    def kinds_for(name):
        session.expire_all()
        return [n.kind for n in session.scalars(select(Notification).where(
            Notification.user_id == users[name].id).order_by(Notification.id))]

    rel = start()
    rel.drive(until=until_ready("s2_ser_gate"))
    assert "approval" in kinds_for("ser") and "approval" not in kinds_for("staff")
    rel.drive(until=until_ready("s6_improvement"))
    assert "approval" in kinds_for("pser"), "the partner's SER is asked for joint approvals"
    issue = rel.raise_issue("Late design documents")
    issue.complete("ir_log_issue")
    issue.wake(days=5, minutes=1)
    assert kinds_for("jmt").count("escalation") == 1
    issue.wake(days=10, minutes=1)
    assert "escalation" in kinds_for("ser") and "escalation" in kinds_for("pser")
    issue.wake(days=15, minutes=1)
    assert kinds_for("ser")[-1] == "exit_trigger", "the SERs are told an exit trigger waits for their review"
    assert kinds_for("pser")[-1] == "exit_trigger", "the partner's SER decides as well"
    assert "exit_trigger" not in kinds_for("staff")


# (X.01) -------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_each_ser_decides_only_their_own_side(start, users, session):
    rel = start()
    rel.drive(until=until_ready("s6_learning"))
    rel.raise_exit_trigger("Partner change of control")
    for user, bpmn_id in ((users["ser"], "exit_review_partner"), (users["pser"], "exit_review")):
        row = rel.task(bpmn_id)
        data = fill_form(rel.schema_of(row), rel.task_data(row))
        with pytest.raises(Forbidden, match="belongs to"):
            process_services.complete_task(session, rel.svc.workflows, user=user, human_task_id=row.id, data=data,
                                           now=rel.now)
    schema = rel.schema_of(rel.task("exit_review"))
    assert not any("partner" in name for name in schema["properties"]), "nobody records the other side's position"


@pytest.mark.slow
def test_a_disagreement_goes_to_a_recorded_deadlock_the_exit_strategy_resolves(start):
    rel = start()
    rel.drive(until=until_ready("s6_learning"))
    before = rel.task("s6_learning")

    rel.raise_exit_trigger("Partner change of control")
    rel.complete("exit_review", {"exit_decision": "invoke_exit", "exit_rationale": "Their new owner competes."})
    rel.complete("exit_review_partner", {"partner_exit_decision": "dismiss",
                                         "partner_exit_rationale": "The new owner keeps the deal."})
    assert sorted(rel.ready_names()) == ["exit_deadlock", "s6_learning"]
    deadlock = rel.task("exit_deadlock")
    assert deadlock.lane == "Joint management team"
    rel.complete(deadlock, {"deadlock_resolution": "continue", "deadlock_rationale": "Clause 14: continue a year.",
                            "exit_strategy_provision": "Clause 14: a split decision keeps the status quo"})
    (row,) = rel.ready()
    assert (row.bpmn_id, row.id) == ("s6_learning", before.id), "continued exactly where it was"
    assert raised_triggers(rel)["Partner change of control"] == ("invoke_exit", "dismiss", "dismissed")

    rel.raise_exit_trigger("Partner change of control, again")
    rel.complete("exit_review", {"exit_decision": "dismiss", "exit_rationale": "Give it time."})
    rel.complete("exit_review_partner", {"partner_exit_decision": "invoke_exit",
                                         "partner_exit_rationale": "We now want out."})
    rel.complete("exit_deadlock", {"deadlock_resolution": "external_mediation", "mediator": "CEDR",
                                   "mediation_outcome": "invoke_exit", "mediation_concluded_on": "2025-04-01",
                                   "deadlock_rationale": "The mediator found the relationship cannot go on.",
                                   "exit_strategy_provision": "Clause 15: mediation settles a deadlock"})
    assert rel.ready_names() == ["s8_finalise_exit_strategy"]
    data = rel.task_data("s8_finalise_exit_strategy")
    assert data["premature_exit"] is True
    assert data["exit_reason"] == "The mediator found the relationship cannot go on."
    assert raised_triggers(rel)["Partner change of control, again"] == ("dismiss", "invoke_exit", "exit_invoked")


# (M10.1) ------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_an_issue_that_shows_a_nonconformity_raises_one_under_its_relationship(start):
    rel = start()
    rel.drive(until=until_ready("s6_learning"))
    plain = rel.raise_issue("Invoice queried")
    plain.complete("ir_log_issue")
    plain.complete("ir_level1", {"l1_resolution": "resolved", "l1_resolution_summary": "Explained.",
                                 "nonconformity": "none"})
    assert plain.completed and rel.linked("nonconformity") == [], "an ordinary issue raises nothing"

    issue = rel.raise_issue("Design changes skipped the agreed review", "Two drawings went out unreviewed")
    issue.complete("ir_log_issue")
    issue.complete("ir_level1", {"l1_resolution": "escalate", "l1_escalation_reason": "Process owner needed.",
                                 "nonconformity": "minor"})
    issue.complete("ir_level2", {"l2_resolution": "resolved", "l2_resolution_summary": "Review reinstated.",
                                 "nonconformity": "major"})                # the latest level's answer counts
    assert issue.completed
    (raised,) = rel.linked("nonconformity")
    data = rel.linked_driver(raised.id).latest_data()
    assert raised.title == "Issue: Design changes skipped the agreed review"
    assert (data["source"], data["severity"], data["relationship"]) == ("issue", "major", "ACME joint bid")
    assert "resolved at level 2" in data["description"] and "Two drawings went out unreviewed" in data["description"]
    assert rel.linked_driver(raised.id).ready_names() == ["nc_correction"]


# (agreed limits) ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_issues_run_on_the_limits_the_partners_agreed_and_earlier_ones_on_the_defaults_saying_so(start):
    rel = start()
    rel.drive(until=until_ready("s6_learning"))
    early = rel.raise_issue("Before any agreement")
    early.complete("ir_log_issue")
    assert timer_dues(early) == [(early.now + timedelta(days=5)).isoformat()], "catalogue default P5D"
    assert "catalogue defaults" in early.latest_data()["limits_source"]

    agreed = {"issue_process": "Operational team first, then the JMT, then both SERs.",
              "l1_limit": "P2D", "l2_limit": "P4D", "l3_limit": "P6D"}
    rel.drive({"s7_issue_process": agreed}, until=lambda d: any(
        name == "s7_issue_process" for name, _data in d.submitted))
    issue = rel.raise_issue("After the agreement")
    data = issue.latest_data()
    assert (data["l1_limit"], data["l2_limit"], data["l3_limit"]) == ("P2D", "P4D", "P6D")
    assert data["limits_source"].startswith("as agreed in the issue resolution process on ")
    issue.complete("ir_log_issue")
    assert timer_dues(issue) == [(issue.now + timedelta(days=2)).isoformat()]
    issue.wake(days=2, minutes=1)
    assert issue.ready_names() == ["ir_level2"]
    assert timer_dues(issue) == [(issue.now + timedelta(days=4)).isoformat()], "level 2 on the agreed P4D"
