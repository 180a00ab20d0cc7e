"""Stage 4 picks from the process's data instead of retyping: the evaluator picks the organisation's selection
criteria (a typo cannot score 0) and the SER picks the selected partner from the weighted ranking. The choices
come from the data the organisation_ready signal brought and the ranking the diagram computed; the page offers
them and the submission is refused, with the field named and nothing changed, for anything else."""

from __future__ import annotations

import pytest

from app.errors import Forbidden
from app.inbox import screens
from app.inbox.binding import declared
from app.processes import services
from app.processes.models import HumanTask
from tests.support.driver import approve_organisation, fill_form, until_ready
from tests.support.tasks import CANDIDATES, CRITERIA
from workflows import InvalidData


def scores(fin, cult):
    return {"candidate": {"scores": [
        {"criterion": "Financial standing", "score": fin, "evidence_note": "accounts"},
        {"criterion": "Culture", "score": cult, "evidence_note": "workshop"}], "recommendation": "shortlist"}}


def to_evaluation(start, session, services_, users):
    rel = start()
    rel.organisation = False
    rel.drive()
    approve_organisation(session, services_, users, rel.now, {"s3_selection_criteria": {"selection_criteria": CRITERIA}})
    rel.complete("s4_nominate_candidates", {"candidates": CANDIDATES})
    rel.complete("s4_ser_agree_approach", {"approach_decision": "agree"})
    return rel


def field_named(fields, path):
    for f in fields:
        if f.path == path:
            return f
        found = field_named(f.children, path) or next(
            (x for row in f.rows if (x := field_named(row.fields, path))), None)
        if found:
            return found
    return None


@pytest.mark.slow
def test_the_evaluation_offers_the_organisations_criteria_and_refuses_a_typo(start, session, services, users):
    rel = to_evaluation(start, session, services, users)
    row = [r for r in rel.ready() if r.bpmn_id == "s4_evaluate_candidate"][0]

    page = screens.task_page(session, services.workflows, users["staff"], row, now=rel.now)
    criterion = field_named(page.fields, "candidate/scores/0/criterion")
    assert criterion.kind == "select"
    assert [v for v, _label in criterion.options] == ["Financial standing", "Culture"]

    before = rel.task_data(row)["candidate"]
    with pytest.raises(InvalidData) as refused:
        schema = rel.schema_of(row)
        typed = fill_form(schema, declared(schema, rel.task_data(row)), scores(8, 6))
        typed["candidate"]["scores"][1]["criterion"] = "Culturee"   # what free text allowed
        services_complete(session, services, users, row, typed)
    assert list(refused.value.details["errors"]) == ["candidate/scores/1/criterion"]
    session.rollback()
    assert rel.ready() and row.id in {r.id for r in rel.ready()}, "the task stays open"
    assert rel.task_data(row)["candidate"] == before, "nothing changed"

    for r in [r for r in rel.ready() if r.bpmn_id == "s4_evaluate_candidate"]:
        rel.complete(r, scores(8, 6))
    ranking = rel.task_data("s4_action_plans")["candidate_ranking"]
    assert [(r["name"], r["weighted_score"], r["unscored_criteria"]) for r in ranking] == [
        ("Alpha Ltd", 7.2, []), ("Beta GmbH", 7.2, [])], "both criteria count: none scored 0 by a typo"


@pytest.mark.slow
def test_the_selected_partner_is_picked_from_the_ranking(start, session, services, users):
    rel = to_evaluation(start, session, services, users)
    for r in [r for r in rel.ready() if r.bpmn_id == "s4_evaluate_candidate"]:
        name = rel.task_data(r)["candidate"]["name"]
        rel.complete(r, scores(8, 6) if name == "Alpha Ltd" else scores(5, 9))
    rel.drive(until=until_ready("s4_negotiation_strategy"))
    strategy = rel.task("s4_negotiation_strategy")
    offered = rel.schema_of(strategy)["properties"]["negotiate_with"]["items"]["enum"]
    assert offered == ["Alpha Ltd", "Beta GmbH"], "the negotiation strategy is linked to the ranking"
    unknown = fill_form(rel.schema_of(strategy), {}, {"negotiate_with": ["Alpha Ltd"]})
    unknown["negotiate_with"] = ["Gamma SA"]
    with pytest.raises(InvalidData) as refused:
        services_complete(session, services, users, strategy, unknown)
    assert list(refused.value.details["errors"]) == ["negotiate_with/0"]
    session.rollback()
    rel.complete(strategy, {"negotiate_with": ["Alpha Ltd", "Beta GmbH"]})

    rel.drive(until=until_ready("s4_select_partner"))
    row = rel.task("s4_select_partner")

    page = screens.task_page(session, services.workflows, users["ser"], row, now=rel.now)
    partner = field_named(page.fields, "selected_partner")
    assert partner.kind == "select"
    assert [v for v, _label in partner.options] == ["Alpha Ltd", "Beta GmbH"], "in ranking order"

    assert rel.schema_of(row)["properties"]["selected_partner"]["enum"] == ["Alpha Ltd", "Beta GmbH"]
    with pytest.raises(InvalidData) as refused:
        services_complete(session, services, users, row, {
            "selected_partner": "Alpha Limited", "selection_rationale": "Best score", "agreement_concluded": True,
            "agreement_date": "2025-03-01", "agreement_reference": "C-1", "agreement_document": "x"},
            user=rel.user_for(row))
    assert "selected_partner" in refused.value.details["errors"]
    session.rollback()
    assert rel.task("s4_select_partner").id == row.id, "still to do"

    rel.complete("s4_select_partner", {"selected_partner": "Beta GmbH"})
    rel.drive(until=until_ready("s4_partner_commitment"))
    assert rel.task_data("s4_partner_commitment")["selected_partner"] == "Beta GmbH"


def services_complete(session, svc, users, row, data, user=None):
    return services.complete_task(session, svc.workflows, user=user or users["staff"], human_task_id=row.id,
                                  data=data)


@pytest.mark.slow
def test_the_ser_who_selected_the_partner_cannot_alone_approve_stage_4(start, session, services, users):
    rel = to_evaluation(start, session, services, users)
    for r in [r for r in rel.ready() if r.bpmn_id == "s4_evaluate_candidate"]:
        rel.complete(r, scores(8, 6))
    rel.drive(until=until_ready("s4_select_partner"))
    rel.complete("s4_select_partner", {"selected_partner": "Alpha Ltd"}, user=users["ser"])
    rel.drive(until=until_ready("s4_ser_gate"))
    gate = rel.task("s4_ser_gate")

    with pytest.raises(Forbidden, match="four eyes: you prepared this stage"):
        services_complete(session, services, users, gate, {"decision": "approve"}, user=users["ser"])
    session.rollback()
    assert rel.task("s4_ser_gate").id == gate.id, "the gate waits for another SER"

    rel.complete(gate, {"decision": "approve"}, user=users["ser2"])
    session.expire_all()
    assert session.get(HumanTask, gate.id).completed_by_id == users["ser2"].id
    assert "s4_ser_gate" not in rel.ready_names()
