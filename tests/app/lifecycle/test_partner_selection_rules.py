"""Stage 4's ranking follows the partner selection rules (bpmn/partner_selection.dmn), through the real services:
a process owner's new version of the table changes the ranking of the relationships that select on it, and a
relationship that selects on the old version keeps the old table."""

from __future__ import annotations

import pytest

from app.processes.services import deploy_version
from tests.app.lifecycle.test_stages import CANDIDATES, CRITERIA, evaluate_all
from tests.support.bundles import ROOT
from tests.support.decisions import PARTNER_SELECTION, with_cells
from tests.support.driver import approve_organisation, until_ready
from workflows import read_directory

# culture counts three times its stage 3 weight; a candidate needs 6 on financial standing
STRICTER = {"rule_culture_factor": "3", "rule_financial_standing_minimum": "6"}


def to_ranking(rel) -> list[dict]:
    rel.drive(until=until_ready("s4_nominate_candidates"))
    rel.complete("s4_nominate_candidates", {"candidates": CANDIDATES})
    rel.complete("s4_ser_agree_approach", {"approach_decision": "agree"})
    evaluate_all(rel)
    return rel.task_data("s4_action_plans")["candidate_ranking"]


@pytest.mark.slow
def test_the_ranking_follows_the_deployed_table_and_each_relationship_keeps_its_versions(
        start, session, services, users, lifecycle_version):
    approve_organisation(session, services, users, lifecycle_version.created_at,
                         {"s3_selection_criteria": {"selection_criteria": CRITERIA}})
    before = start()
    files, forms = read_directory(ROOT / "bpmn", ROOT / "forms")
    edited = with_cells(PARTNER_SELECTION.read_bytes(), STRICTER)
    version, warnings, created = deploy_version(session, services.workflows, {**files, "partner_selection.dmn": edited},
                                                forms, user=users["owner"], message="culture counts triple")
    assert created and warnings == [] and version.id != lifecycle_version.id
    assert {f.name: f.kind for f in version.files}["partner_selection.dmn"] == "dmn"
    after = start()
    assert (before.instance().version_id, after.instance().version_id) == (lifecycle_version.id, version.id)

    # weights 60 (financial standing) and 40 (culture); scores Alpha 8/6, Beta 5/9, Gamma 9/2
    assert [(r["name"], r["weighted_score"], r["below_minimum"]) for r in to_ranking(before)] == [
        ("Alpha Ltd", 7.2, []), ("Beta GmbH", 6.6, []), ("Gamma SA", 6.2, [])]
    # culture x3: Beta scores best, but below the new minimum of 6 on financial standing it ranks last
    ranking = to_ranking(after)
    assert [(r["name"], r["weighted_score"], r["below_minimum"]) for r in ranking] == [
        ("Alpha Ltd", 6.7, []), ("Gamma SA", 4.3, []), ("Beta GmbH", 7.7, ["Financial standing"])]
    weights = after.task_data("s4_action_plans")["selection_weights"]
    assert weights == [{"criterion": "Financial standing", "weight": 60, "minimum_score": 6},
                       {"criterion": "Culture", "weight": 120, "minimum_score": 0}]
    assert "criterion_weights" not in after.task_data("s4_action_plans")
