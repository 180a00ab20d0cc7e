"""Stage 2's business case and market analysis are fields an assessor can check (options weighed, costs,
benefits, payback, operating model; segments with their customers and requirements), not one text box: a text
box's worth of prose is refused with the field named, and the plan shows the parts in words, by their titles."""

from __future__ import annotations

import pytest

from app.compliance import rmp
from app.processes import services as processes
from tests.support.driver import fill_form, until_ready
from workflows import InvalidData

CASE = {
    "options_considered": [
        {"option": "Bid alone", "chosen": False, "reason": "We lack the civil works capacity."},
        {"option": "Joint bid with a partner", "chosen": True, "reason": "Wins twice as often."}],
    "one_off_costs": 40000, "yearly_costs": 12000,
    "benefits": [{"benefit": "More tenders won", "kind": "monetary", "yearly_amount": 90000},
                 {"benefit": "Shared know-how", "kind": "non_monetary"}],
    "payback_months": 7, "operating_model": "A joint bid team led by us, reviewed monthly.",
}
MARKET = {"market_sector": "Rail infrastructure", "segments": [
    {"segment": "Regional operators", "customers": "Six regional rail operators",
     "requirements": "Fixed prices and one contact"}]}


@pytest.mark.slow
def test_the_business_case_is_structured_refuses_prose_and_reads_in_words_in_the_plan(start, session, services):
    rel = start()
    rel.drive(until=until_ready("s2_business_case"))
    row = rel.task("s2_business_case")
    with pytest.raises(InvalidData) as refused:
        processes.complete_task(session, services.workflows, user=rel.user_for(row), human_task_id=row.id,
                               data={"business_case": "Joint bids win.", "market_analysis": "Rail."})
    errors = refused.value.details["errors"]
    assert "business_case" in errors and "market_analysis" in errors
    session.rollback()

    rel.complete("s2_business_case", {"business_case": CASE, "market_analysis": MARKET})
    rel.drive(until=until_ready("s2_ser_gate"))
    rel.complete("s2_ser_gate", {"decision": "approve"})
    plan = rmp.versions(session, rel.instance_id)[0]
    markdown = rmp.to_markdown(plan, "ACME joint bid")
    for words in ("Options considered: Option: Bid alone, Chosen: no", "Payback period (months): 7",
                  "Yearly costs: 12000", "Benefit: Shared know-how", "Operating model: A joint bid team",
                  "Segment: Regional operators, Customers: Six regional rail operators",
                  "Market sector: Rail infrastructure"):
        assert words in markdown, words


@pytest.mark.slow
def test_the_partner_selection_action_plan_lands_in_the_action_register(start, session, services, users):
    from app.registers import services as registers
    plan = [{"action": "Visit Alpha's depot", "owner": "Sam Staff", "deadline": "2025-04-01", "status": "open",
             "horizon": "short"},
            {"action": "Agree a joint bid calendar", "owner": "Jo Joint-Team", "deadline": "2025-06-30",
             "status": "in_progress", "horizon": "medium"}]
    rel = start()
    rel.drive({"s4_action_plans": {"selection_action_plan": plan}}, until=until_ready("s4_joint_objectives"))
    actions = registers.entries(session, users["staff"], rel.instance_id, "actions", now=rel.now)
    mine = [(a.data["action"], a.data["owner"], a.data["deadline"], a.data.get("plan")) for a in actions
            if a.data.get("plan") == "Selection action plan"]
    assert mine == [("Visit Alpha's depot", "Sam Staff", "2025-04-01", "Selection action plan"),
                    ("Agree a joint bid calendar", "Jo Joint-Team", "2025-06-30", "Selection action plan")]


@pytest.mark.slow
def test_the_implementation_plan_is_actions_with_owners_that_join_the_action_register(start, session, services,
                                                                                       users):
    """S2.13: the plan kept under review is actions (owner, deadline, status), not prose; an empty plan is refused
    with the field named, and each action lands in the action register as part of the implementation plan."""
    from app.registers import services as registers
    plan = [{"action": "Agree the bid scope with Alpha", "owner": "Sam Staff", "deadline": "2025-03-15",
             "status": "open"},
            {"action": "Brief the bid team", "owner": "Jo Joint-Team", "deadline": "2025-04-30", "status": "done"}]
    rel = start()
    rel.drive(until=until_ready("s2_rmp_update"))
    row = rel.task("s2_rmp_update")
    with pytest.raises(InvalidData) as refused:
        processes.complete_task(session, services.workflows, user=rel.user_for(row), human_task_id=row.id,
                               data={**fill_form(rel.schema_of(row), {}), "implementation_plan": []})
    assert "implementation_plan" in refused.value.details["errors"]
    session.rollback()

    rel.complete("s2_rmp_update", {"implementation_plan": plan})
    actions = registers.entries(session, users["staff"], rel.instance_id, "actions", now=rel.now)
    mine = sorted((a.data["action"], a.data["owner"], a.data["deadline"], a.data["status"]) for a in actions
                  if a.data.get("plan") == "Implementation plan")
    assert mine == [("Agree the bid scope with Alpha", "Sam Staff", "2025-03-15", "open"),
                    ("Brief the bid team", "Jo Joint-Team", "2025-04-30", "done")]
