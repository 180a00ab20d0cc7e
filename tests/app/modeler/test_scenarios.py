"""Scenarios in the application: the deploy gate (the modeller's validate and deploy, the CLI deploy, the API),
their storage with the version, the API, and a scenario recorded from an instance's history and run."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cli import main
from app.config import ROOT
from app.inbox import services as inbox
from app.modeler import scenarios
from app.processes.models import ProcessVersion
from app.processes.services import deploy_version, latest_version, start_instance
from tests.support.bundles import T0, read_web_bundle
from tests.support.cli import script_info
from tests.support.modeler import json_post
from tests.support.tasks import VALID_POLICY, ready
from workflows import read_directory

BUNDLED = ROOT / "bpmn" / "scenarios"
HAPPY = "happy_path.scenario.json"
HAPPY_TITLE = "Happy path: stage 2 to a natural exit"
STOP = "stage2_stop.scenario.json"
# every relationship stops at stage 2: the gateway's path to partner selection is cut off (a valid diagram that
# breaks the happy path)
APPROPRIATE = 'outcome == "not_appropriate"'
CUT_OFF = "True"


def broken_lifecycle() -> str:
    text = (ROOT / "bpmn" / "lifecycle.bpmn").read_text()
    assert APPROPRIATE in text
    return text.replace(APPROPRIATE, CUT_OFF)


def happy_path_that_stops() -> str:
    """The happy path updated to the change: the relationship now ends at stage 2."""
    doc = json.loads((BUNDLED / HAPPY).read_text())
    gate = next(i for i, s in enumerate(doc["steps"]) if s.get("complete") == "s2_ser_gate")
    doc["steps"] = doc["steps"][:gate + 1]
    doc["expect"] = {"end": "lc_end_not_appropriate"}
    return json.dumps(doc, indent=1)


@pytest.fixture
def with_scenarios(session, wf_engine, users):
    """The bundled lifecycle deployed with two of its scenarios."""
    files, forms = read_directory(ROOT / "bpmn", ROOT / "forms")
    version, warnings, _ = deploy_version(session, wf_engine, files, forms, user=users["owner"], message="with scenarios",
                                          now=T0, scenarios={n: (BUNDLED / n).read_bytes() for n in (HAPPY, STOP)})
    assert [w.message for w in warnings if w.severity == "notice"] == ["2 scenarios passed"]
    return version


def refusal_of_happy_path(problems) -> dict:
    (found,) = [p for p in problems if p["file"] == HAPPY]
    return found


# ------------------------------------------------------------------------------------------- the modeller
def test_the_modellers_deploy_refuses_a_change_that_breaks_a_scenario_until_the_scenario_is_updated(
        owner, session, with_scenarios):
    url = "/processes/diagrams/lifecycle.bpmn"
    checked = json_post(owner, url + "/validate", {"xml": broken_lifecycle()}).get_json()
    assert checked["ok"] is False
    problem = refusal_of_happy_path(checked["problems"])
    assert problem["message"] == (f"scenario '{HAPPY_TITLE}' fails at step 10: expected the process to be still "
                                  "running, but it is completed at 'lc_end_not_appropriate'")
    assert problem["element_id"] == "lc_end_not_appropriate" and problem["severity"] == "error"
    assert [p["file"] for p in checked["problems"]] == [HAPPY], "the stage 2 stop still passes"

    refused = json_post(owner, url + "/deploy", {"xml": broken_lifecycle(), "message": "stop everything"})
    assert refused.status_code == 422
    assert refusal_of_happy_path(refused.get_json()["problems"]) == problem
    session.expire_all()
    assert latest_version(session).id == with_scenarios.id, "nothing was deployed"

    saved = owner.post("/processes/scenarios", {"name": HAPPY, "text": happy_path_that_stops()},
                       page=f"/processes/scenarios/{HAPPY}")
    assert saved.status_code == 302
    done = json_post(owner, url + "/deploy", {"xml": broken_lifecycle(), "message": "stop everything"})
    assert done.status_code == 200, done.get_json()
    assert {"message": "2 scenarios passed", "severity": "notice"}.items() <= done.get_json()["problems"][-1].items()
    session.expire_all()
    new = session.get(ProcessVersion, done.get_json()["version_id"])
    assert json.loads(new.scenario_files()[HAPPY])["expect"]["end"] == "lc_end_not_appropriate"
    assert set(new.scenario_files()) == {HAPPY, STOP}, "the scenarios go on with the version"


def test_a_scenario_that_cannot_be_read_is_not_saved_and_says_which_line(owner, session, with_scenarios):
    page = owner.post("/processes/scenarios", {"name": HAPPY, "text": '{"name": "x",\n "steps": [,]}'},
                      page=f"/processes/scenarios/{HAPPY}")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "Not saved." in html and "line 2" in html
    assert scenarios.listing(session, owner_user(session))[0].source.startswith("version")


def owner_user(session):
    from app.auth.models import User
    return session.scalar(select(User).where(User.username == "owner"))


# ------------------------------------------------------------------------------------------- the CLI
def test_the_cli_deploy_runs_the_bundled_scenarios_and_refuses_a_change_that_breaks_one(app, session, tmp_path):
    bpmn = tmp_path / "bpmn"
    shutil.copytree(ROOT / "bpmn", bpmn, ignore=shutil.ignore_patterns("*.scenario.json"))
    shutil.copy(BUNDLED / HAPPY, bpmn / "scenarios" / HAPPY)
    deploy = ["deploy", str(bpmn), "--forms", str(ROOT / "forms")]
    first = CliRunner().invoke(main, deploy, obj=script_info(app))
    assert first.exit_code == 0, first.output
    assert "1 scenario passed" in first.output and "1 scenarios" in first.output

    (bpmn / "lifecycle.bpmn").write_text(broken_lifecycle())
    refused = CliRunner().invoke(main, deploy, obj=script_info(app))
    assert refused.exit_code == 1
    assert "refused: nothing was deployed" in refused.output
    assert (f"{HAPPY} [lc_end_not_appropriate]: error: scenario '{HAPPY_TITLE}' fails at step 10: expected the "
            "process to be still running") in refused.output
    assert session.scalar(select(func.count()).select_from(ProcessVersion)) == 1

    (bpmn / "scenarios" / HAPPY).write_text(happy_path_that_stops())
    updated = CliRunner().invoke(main, deploy, obj=script_info(app))
    assert updated.exit_code == 0, updated.output
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ProcessVersion)) == 2
    assert "lc_end_not_appropriate" in latest_version(session).scenario_files()[HAPPY].decode()


# ------------------------------------------------------------------------------------------- the API
def test_the_api_lists_a_versions_scenarios_with_results_and_runs_them(signed_in, session, with_scenarios):
    client = signed_in("owner")
    listed = client.get(f"/api/v1/processes/versions/{with_scenarios.id}/scenarios")
    assert listed.status_code == 200
    body = listed.get_json()
    assert body["passed"] is True and [r["file"] for r in body["results"]] == [HAPPY, STOP]
    assert all(s["passed"] for s in body["results"][0]["steps"])
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "scenario.run")) == 0

    run = json_post(client, f"/api/v1/processes/versions/{with_scenarios.id}/scenarios", {"name": STOP})
    assert run.status_code == 200 and [r["file"] for r in run.get_json()["results"]] == [STOP]
    (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "scenario.run"))
    assert event.payload["name"] == STOP and event.payload["passed"] is True

    missing = json_post(client, f"/api/v1/processes/versions/{with_scenarios.id}/scenarios", {"name": "x.scenario.json"})
    assert missing.status_code == 404
    assert signed_in("staff").get(f"/api/v1/processes/versions/{with_scenarios.id}/scenarios").status_code == 403


# ------------------------------------------------------------------------------------------- recording
def test_a_scenario_recorded_from_an_instance_replays_it_and_fails_where_it_is_broken(
        owner, session, wf_engine, users, lifecycle):
    rel = start_instance(session, wf_engine, user=users["staff"], process_id="lifecycle",
                         data={"relationship_name": "ACME"}, title="ACME joint bid", now=T0)
    inbox.submit(session, wf_engine, users["staff"], ready(session, "s1_policy").id, VALID_POLICY,
                 now=T0 + timedelta(hours=1))
    inbox.submit(session, wf_engine, users["ser"], ready(session, "s1_gate").id,
                 {"decision": "rework", "comments": "Name the owner."}, now=T0 + timedelta(hours=2))

    page = owner.post(f"/processes/instances/{rel.instance_id}/scenario", {}, page=f"/relationships/{rel.instance_id}")
    assert page.status_code == 200
    name, text = scenarios.from_instance(session, wf_engine, users["owner"], rel.instance_id)
    assert name == f"acme_joint_bid_{rel.instance_id}.scenario.json" and name in page.get_data(as_text=True)
    doc = json.loads(text)
    assert doc["process"] == "lifecycle" and doc["start"]["relationship_name"] == "ACME"
    assert [(s["complete"], s["data"].get("decision")) for s in doc["steps"]] == [("s1_policy", None),
                                                                                   ("s1_gate", "rework")]
    assert doc["expect"] == {"end": None, "ready": ["s1_policy"]}

    result = scenarios.run(session, wf_engine, users["owner"], name, text, now=T0)
    assert result.passed, result.failure and result.failure.message
    doc["steps"][1]["data"]["decision"] = "approve"
    broken = scenarios.run(session, wf_engine, users["owner"], name, json.dumps(doc), now=T0)
    assert broken.failure.message == ("step 3: expected the task 's1_policy' to be ready, but the ready tasks "
                                      "were: s2_case (Write the business case)")
    runs = [e.payload for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "scenario.run"))]
    assert [(r["passed"], r["step"]) for r in runs] == [(True, None), (False, 3)]
    assert scenarios.last_run(session, name)["passed"] is False



WEB_SCENARIO = json.dumps({"name": "Stage 1 approved", "process": "lifecycle", "start": {"relationship_name": "A"},
                           "steps": [{"complete": "s1_policy", "data": VALID_POLICY},
                                     {"complete": "s1_gate", "data": {"decision": "approve"}}],
                           "expect": {"ready": ["s2_case"], "path": ["s1_gate", "lc_stage1"]}})


def test_an_api_deploy_runs_the_latest_versions_scenarios_or_the_ones_it_sends(api, session, wf_engine, users,
                                                                               lifecycle):
    files, forms = read_web_bundle()
    kept, _, _ = deploy_version(session, wf_engine, files, forms, user=users["owner"], message="with a scenario",
                                now=T0, scenarios={"approved.scenario.json": WEB_SCENARIO.encode()})
    owner = api("owner")
    bundle = {"files": {k: v.decode() for k, v in files.items()}, "forms": {k: v.decode() for k, v in forms.items()}}
    bundle["files"]["web_stage1.bpmn"] = bundle["files"]["web_stage1.bpmn"].replace(
        '<bpmn:conditionExpression>decision == "approve"</bpmn:conditionExpression>',
        '<bpmn:conditionExpression>decision == "approved"</bpmn:conditionExpression>')
    refused = owner.post("processes/deploy", {**bundle, "message": "typo"})
    assert refused.status_code == 422
    (error,) = [e for e in refused.get_json()["errors"] if e["severity"] == "error"]
    assert error["file"] == "approved.scenario.json" and error["element_id"] == "s2_case"
    assert error["message"] == ("scenario 'Stage 1 approved' fails at step 3: expected the task 's2_case' to be "
                                "ready, but the ready tasks were: s1_policy (Write the policy)")
    session.expire_all()
    assert latest_version(session).id == kept.id, "nothing was deployed"

    # the scenario updated to the change: "approve" is no longer an answer the gate knows, so the stage is redone
    updated = WEB_SCENARIO.replace('"ready": ["s2_case"], "path": ["s1_gate", "lc_stage1"]', '"ready": ["s1_policy"]')
    checked = owner.post("processes/validate", {**bundle, "scenarios": {"approved.scenario.json": updated}})
    assert checked.get_json()["valid"] is True, checked.get_json()
    assert checked.get_json()["problems"][-1]["message"] == "1 scenario passed"
    deployed = owner.post("processes/deploy", {**bundle, "message": "m", "scenarios": {"approved.scenario.json": updated}})
    assert deployed.status_code == 201 and deployed.get_json()["version"]["scenarios"] == ["approved.scenario.json"]


def test_the_scenarios_page_runs_the_latest_versions_scenarios_and_shows_each_last_result(owner, session, users,
                                                                                          with_scenarios):
    listed = owner.get("/processes/scenarios").get_data(as_text=True)
    assert HAPPY_TITLE in listed and "not run yet" in listed
    done = owner.post("/processes/scenarios/run-all", {}, page="/processes/scenarios")
    assert done.status_code == 302
    listed = owner.get("/processes/scenarios").get_data(as_text=True)
    assert "2 of 2 scenarios passed on version" in listed and "not run yet" not in listed
    assert [(r.name, r.last["passed"]) for r in scenarios.listing(session, users["owner"])] == [(HAPPY, True),
                                                                                              (STOP, True)]


def test_only_process_owners_reach_the_scenario_pages(signed_in, with_scenarios):
    staff = signed_in("staff")
    assert staff.get("/processes/scenarios").status_code == 403
    assert staff.get(f"/processes/scenarios/{HAPPY}").status_code == 403


def test_a_roll_back_brings_back_the_old_versions_scenarios(session, wf_engine, users, lifecycle):
    from app.processes import versioning
    files, forms = read_web_bundle()
    old, _, _ = deploy_version(session, wf_engine, files, forms, user=users["owner"], message="approved", now=T0,
                               scenarios={"approved.scenario.json": WEB_SCENARIO.encode()})
    changed = {**files, "web_stage1.bpmn": files["web_stage1.bpmn"].replace(b'decision == "approve"',
                                                                             b'decision == "approved"')}
    reworked = WEB_SCENARIO.replace('"ready": ["s2_case"], "path": ["s1_gate", "lc_stage1"]', '"ready": ["s1_policy"]')
    deploy_version(session, wf_engine, changed, forms, user=users["owner"], message="typo", now=T0,
                   scenarios={"approved.scenario.json": reworked.encode()})
    back = versioning.roll_back(session, wf_engine, user=users["owner"], version_id=old.id, message="the typo")
    assert back.scenario_files() == old.scenario_files()
