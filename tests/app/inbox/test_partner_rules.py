"""How several partner organisations' answers combine (app.inbox.partner_rules): one rule per kind of field, read
on its own (no database)."""

from __future__ import annotations

import json

from app.config import ROOT
from app.inbox.partner_rules import PARTNERS_DISAGREE, combine


def _form(name):
    return json.loads((ROOT / "forms" / f"{name}.schema.json").read_text())


def test_a_gate_is_approved_only_when_every_partner_approves_and_reopens_the_union_of_their_picks():
    form = _form("s5_partner_ser_gate")
    both = combine(form, [("A", {"partner_decision": "approve"}), ("B", {"partner_decision": "approve"})])
    assert both == {"partner_decision": "approve"}
    back = combine(form, [
        ("A", {"partner_decision": "rework", "partner_reopen_tasks": ["s5_jrmp"], "partner_comments": "Plan."}),
        ("B", {"partner_decision": "approve", "partner_reopen_tasks": ["s5_joint_risks"]}),  # approves: no pick
        ("C", {"partner_decision": "rework", "partner_reopen_tasks": ["s5_jrmp", "s5_measures_roles"],
               "partner_comments": "Measures."})])
    assert back["partner_decision"] == "rework"
    assert back["partner_reopen_tasks"] == ["s5_jrmp", "s5_measures_roles"]
    assert back["partner_comments"] == "A: Plan.\n\nC: Measures."


def test_the_exit_trigger_needs_every_partner_to_agree():
    form = _form("exit_review_partner")
    def decided(*choices):
        return combine(form, [(org, {"partner_exit_decision": c, "partner_exit_decided_on": f"2026-0{i + 1}-01",
                                     "exit_info": {"reason": "Late"}})
                              for i, (org, c) in enumerate(zip("ABC", choices, strict=False))])
    assert decided("invoke_exit", "invoke_exit")["partner_exit_decision"] == "invoke_exit"
    assert decided("dismiss", "dismiss")["partner_exit_decision"] == "dismiss"
    split = decided("invoke_exit", "dismiss", "invoke_exit")
    assert split["partner_exit_decision"] == PARTNERS_DISAGREE
    assert split["partner_exit_decided_on"] == "2026-03-01" and split["exit_info"] == {"reason": "Late"}


def test_other_fields_take_the_cautious_answer():
    assert combine(_form("s7_partner_ser_gate"), [("A", {"partner_decision": "exit"}),
                                                  ("B", {"partner_decision": "another_cycle"})]) == {
        "partner_decision": "another_cycle"}
    assert combine(_form("s8_partner_ser_authorise"), [("A", {"partner_authorisation": "authorise"}),
                                                       ("B", {"partner_authorisation": "revise"})])[
        "partner_authorisation"] == "revise"
    assert combine(_form("ir_level3_partner_ser"), [("A", {"l3_partner_resolution": "resolved"}),
                                                    ("B", {"l3_partner_resolution": "escalate"})])[
        "l3_partner_resolution"] == "escalate"
    feedback = combine(_form("pr_ser_performance_feedback_partner"), [
        ("A", {"partner_overall_rating": "green", "partner_agrees_with_rating": True}),
        ("B", {"partner_overall_rating": "amber", "partner_agrees_with_rating": False})])
    assert feedback == {"partner_overall_rating": "amber", "partner_agrees_with_rating": False}
    health = combine(_form("pr_health_survey_partner"), [
        ("A", {"health_of_us": {"trust": 4, "behaviours": 5, "communication": 3, "comment": "Good"}}),
        ("B", {"health_of_us": {"trust": 2, "behaviours": 5, "communication": 4}})])
    assert health == {"health_of_us": {"trust": 2, "behaviours": 5, "communication": 3, "comment": "A: Good"}}
