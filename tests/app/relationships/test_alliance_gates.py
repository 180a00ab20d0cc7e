"""Issue 17: with several partner organisations, every partner's SER decides the joint gates. Stage 5's joint
gate waits for all three SERs (ours and both partners'), one partner sending it back sends the stage back (only
the tasks it picked reopen), and each partner organisation's decision is kept, audited and shown."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.compliance import rmp
from app.errors import Forbidden
from app.inbox import partner_decisions, queries
from app.inbox import services as inbox
from app.inbox.models import PartnerDecision
from app.lifecycle.services import current_stage
from tests.support.driver import until_ready

from .alliance import decide


def _inbox_ids(session, user, now):
    return {r.id for r in queries.inbox(session, user, queries.InboxFilters(), now=now).rows}


def test_the_joint_gate_waits_for_every_partner_and_one_send_back_sends_the_stage_back(session, alliance, people):
    rel = alliance
    rel.drive(until=until_ready("s5_partner_ser_gate"))
    gate = rel.task("s5_partner_ser_gate")
    assert partner_decisions.applies(session, gate)
    for name in ("pser", "bser"):  # both partners' SERs have it in their inbox, their staff do not
        assert gate.id in _inbox_ids(session, people[name], rel.now)
    for name in ("pstaff", "bstaff"):
        assert gate.id not in _inbox_ids(session, people[name], rel.now)
    with pytest.raises(Forbidden):  # one partner may not take it from the other
        inbox.claim(session, people["pser"], gate.id, now=rel.now)

    decide(rel, people["ser"], "s5_ser_gate", {"decision": "approve"})
    decide(rel, people["pser"], gate, {"partner_decision": "approve", "partner_comments": "Fine by Partner Ltd."})
    assert "s5_partner_ser_gate" in rel.ready_names(), "Beta Ltd has not decided yet"
    standing = partner_decisions.standing(session, rel.task("s5_partner_ser_gate"))
    assert [d.organisation for d in standing.decided] == ["Partner Ltd"] and standing.awaited == ["Beta Ltd"]
    assert gate.id not in _inbox_ids(session, people["pser"], rel.now), "Partner Ltd has decided"
    assert gate.id in _inbox_ids(session, people["bser"], rel.now), "Beta Ltd is awaited"
    assert queries.refusal(session, people["pser"], rel.task("s5_partner_ser_gate")).startswith(
        "Your organisation decided this task")
    with pytest.raises(Forbidden):
        decide(rel, people["pser"], "s5_partner_ser_gate", {"partner_decision": "rework"})
    with pytest.raises(Forbidden):
        decide(rel, people["bstaff"], "s5_partner_ser_gate", {"partner_decision": "approve"})
    assert [e.payload["organisation"] for e in rel.audit("task.partner_decided")] == ["Partner Ltd"]

    decide(rel, people["bser"], "s5_partner_ser_gate", {
        "partner_decision": "rework", "partner_reopen_tasks": ["s5_jrmp"],
        "partner_comments": "The plan does not name Beta Ltd's people."})
    assert current_stage(session, rel.instance_id) == 5, "one partner's send-back sends the stage back"
    assert rel.ready_names() == ["s5_jrmp"], "only the task Beta Ltd picked reopens"
    record = rel.latest_data()["gate_history"][-1]
    assert record["decision"] == "approve" and record["partner_decision"] == "rework"
    assert "Beta Ltd: The plan does not name" in record["partner_comments"]
    assert "Partner Ltd: Fine by Partner Ltd." in record["partner_comments"]
    done = session.get(type(gate), gate.id)
    assert done.state == "completed" and done.completed_by_id == people["bser"].id
    decided = done.submitted["partner_decisions"][done.task_id]
    assert [d["organisation"] for d in decided] == ["Partner Ltd", "Beta Ltd"]
    assert decided[1]["data"]["partner_decision"] == "rework" and decided[1]["decided_by"] == "BSER"
    assert [e.payload["organisation"] for e in rel.audit("task.partner_decided")] == ["Partner Ltd", "Beta Ltd"]
    assert len(session.scalars(select(PartnerDecision).where(PartnerDecision.human_task_id == gate.id)).all()) == 2

    # the stage redone: this time all three SERs approve, and stage 6 begins only after the last of them
    rel.drive(until=until_ready("s5_partner_ser_gate"))
    decide(rel, people["bser"], "s5_partner_ser_gate", {"partner_decision": "approve"})
    decide(rel, people["ser"], "s5_ser_gate", {"decision": "approve"})
    assert current_stage(session, rel.instance_id) == 5, "Partner Ltd has not decided"
    decide(rel, people["pser"], "s5_partner_ser_gate", {"partner_decision": "approve"})
    assert current_stage(session, rel.instance_id) == 6
    assert rel.latest_data()["gate_history"][-1]["partner_decision"] == "approve"

    # the JRMP approved at this gate names each partner, and each partner's SER among its approvers
    plan = rmp.versions(session, rel.instance_id)[-1]
    assert plan.kind == "JRMP" and plan.partners == ["Partner Ltd", "Beta Ltd"]
    assert sorted(plan.approvers) == ["BSER (Beta Ltd)", "pser (Partner Ltd)", "ser"]
    assert "Partner organisations: Partner Ltd, Beta Ltd." in rmp.to_markdown(plan, "Three-way bid")
    assert rmp.versions(session, rel.instance_id, viewer=people["bser"])[-1].partners == ["Partner Ltd", "Beta Ltd"]
