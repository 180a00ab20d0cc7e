"""Decision tables through the API and the services: validated, deployed, stored and rolled back with the diagrams;
inspect reads a diagram beside the latest version's tables."""

from __future__ import annotations

from tests.support.bpmn import LOOP_FORM, business_rule_process, decision_table

LEVELS = [("< 1000", '"team lead"'), ("-", '"board"')]


def bundle(rows=LEVELS) -> dict:
    return {"files": {"rules.bpmn": business_rule_process().decode(), "levels.dmn": decision_table(rows).decode()},
            "forms": {"loop.schema.json": LOOP_FORM.decode()}}


def test_a_decision_table_is_validated_deployed_and_rolled_back_with_the_diagrams(api, session, wf_engine, users):
    from app.processes import versioning
    from app.processes.models import ProcessVersion

    owner = api("owner")
    checked = owner.post("processes/validate", bundle()).get_json()
    assert checked["valid"] is True and checked["process_ids"] == ["rules"]
    first = owner.post("processes/deploy", {**bundle(), "message": "levels"})
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["version"]["files"] == ["levels.dmn", "rules.bpmn"]
    v1 = first.get_json()["version"]["id"]
    kinds = {f.name: f.kind for f in session.get(ProcessVersion, v1).files}
    assert kinds == {"levels.dmn": "dmn", "rules.bpmn": "bpmn", "loop.schema.json": "form"}

    refused = owner.post("processes/deploy", {**bundle([("[1..5]", '"x"')]), "message": "broken"})
    assert refused.status_code == 422
    (error,) = refused.get_json()["errors"]
    assert (error["file"], error["element_id"], error["line"]) == ("levels.dmn", "r1_in", 10)

    second = owner.post("processes/deploy", {**bundle([("-", '"board"')]), "message": "always the board"})
    assert second.status_code == 201 and second.get_json()["created"] is True
    back = versioning.roll_back(session, wf_engine, user=users["owner"], version_id=v1, message="back to the rules")
    assert back.id > second.get_json()["version"]["id"]
    assert session.get(ProcessVersion, back.id).engine_files() == session.get(ProcessVersion, v1).engine_files()


def test_inspect_reads_a_diagram_beside_the_latest_versions_decision_tables(api):
    owner = api("owner")
    diagram = business_rule_process().decode()
    alone = owner.post("processes/inspect", {"filename": "rules.bpmn", "content": diagram}).get_json()
    assert alone["runnable"] is False and "calls the decision 'approval_level'" in alone["problems"][0]["message"]
    assert owner.post("processes/deploy", {**bundle(), "message": "levels"}).status_code == 201
    beside = owner.post("processes/inspect", {"filename": "rules.bpmn", "content": diagram}).get_json()
    assert beside["runnable"] is True and beside["problems"] == []
