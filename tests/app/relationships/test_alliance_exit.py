"""Issue 17, X.01 with two partners: every SER (ours and each partner's) decides an exit trigger. All invoke: exit;
all dismiss: the relationship continues; any disagreement, among the partners too: the exit strategy's deadlock
path."""

from __future__ import annotations

from app.lifecycle.services import current_stage
from app.relationships import services as relationships
from tests.support.driver import until_ready

from .alliance import PARTNERS, decide

EXIT_REVIEWS = ["exit_review", "exit_review_partner"]


def _review(rel, people, ours: str, partner: str, beta: str) -> None:
    decide(rel, people["ser"], "exit_review", {"exit_decision": ours, "exit_rationale": f"we {ours}"})
    decide(rel, people["pser"], "exit_review_partner", {"partner_exit_decision": partner,
                                                        "partner_exit_rationale": f"Partner Ltd: {partner}"})
    assert "exit_review_partner" in rel.ready_names(), "Beta Ltd has not decided yet"
    decide(rel, people["bser"], "exit_review_partner", {"partner_exit_decision": beta,
                                                        "partner_exit_rationale": f"Beta Ltd: {beta}"})


def test_an_exit_trigger_needs_every_partners_ser(session, start, people):
    rel = start()
    relationships.add_partner(session, people["ser"], rel.instance_id, PARTNERS[1], now=rel.now)
    assert [e.payload["partner"] for e in rel.audit("relationship.partner_added")] == ["Beta Ltd"]
    rel.drive(until=until_ready("s5_identify_sers"))

    # all dismiss: the relationship continues where it was
    rel.raise_exit_trigger("Beta Ltd changes owner")
    assert sorted(rel.ready_names()) == [*EXIT_REVIEWS, "s5_identify_sers"]
    _review(rel, people, "dismiss", "dismiss", "dismiss")
    assert rel.ready_names() == ["s5_identify_sers"]
    logged = rel.latest_data()["exit_trigger_log"][-1]
    assert logged["decided_by"] == "both_sers" and logged["partner_ser_decision"]["decision"] == "dismiss"

    # the partners disagree (ours and Partner Ltd invoke, Beta Ltd dismisses): the deadlock path
    rel.raise_exit_trigger("Missed milestones")
    _review(rel, people, "invoke_exit", "invoke_exit", "dismiss")
    assert sorted(rel.ready_names()) == ["exit_deadlock", "s5_identify_sers"]
    data = rel.task_data("exit_deadlock")
    assert data["partner_exit_decision"] == "partners_disagree"
    decided = data["partner_decisions"][rel.audit("task.partner_decided")[-1].task_id]
    assert [d["data"]["partner_exit_decision"] for d in decided] == ["invoke_exit", "dismiss"]
    rel.complete("exit_deadlock", {"deadlock_resolution": "continue", "deadlock_rationale": "Mediated in person."})
    assert rel.ready_names() == ["s5_identify_sers"]

    # all invoke: exit, stage 8 as a premature exit
    rel.raise_exit_trigger("Trust has broken down")
    _review(rel, people, "invoke_exit", "invoke_exit", "invoke_exit")
    assert rel.ready_names() == ["s8_finalise_exit_strategy"]
    assert current_stage(session, rel.instance_id) == 8 and rel.latest_data()["premature_exit"] is True


def test_ours_and_one_partner_agreeing_is_not_enough_for_the_gate(session, start, people):
    """Our SER and Partner Ltd dismiss, Beta Ltd invokes: that is a disagreement too."""
    rel = start()
    relationships.add_partner(session, people["ser"], rel.instance_id, PARTNERS[1], now=rel.now)
    rel.drive(until=until_ready("s5_identify_sers"))
    rel.raise_exit_trigger("Beta Ltd's insolvency rumours")
    _review(rel, people, "dismiss", "dismiss", "invoke_exit")
    assert "exit_deadlock" in rel.ready_names()
