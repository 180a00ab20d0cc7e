"""Service-task connectors through the real stack (API, services, the database): a small lifecycle deployed through
the API with one service task per connector; completing its task sends the mail through the outbox, writes the
relationship's register entry and starts the nonconformity process, each with an audit event, in the completion's
transaction. A role the app does not have is refused at deploy (and by inspect, the same check); a call the app
cannot perform at run time refuses the completion, located at its service task, and saves nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.notifications.models import Notification, NotificationPreference, OutboxEmail
from app.processes.models import HumanTask, ProcessInstance
from app.registers.models import RegisterEntry
from tests.support.api import count
from tests.support.bpmn import chain_process, service_task
from tests.support.bundles import ROOT

# (a form name of its own: forms are cached by version id, and rolled-back tests reuse version ids)
PREPARE_FORM = ('{"type": "object", "properties": {"risk": {"type": "string"}, "owner": {"type": "string"}, '
                '"impact": {"type": "integer"}, "note": {"type": "string"}, "severity": {"type": "string"}, '
                '"tell": {"type": "string"}}}')
LANES = ('<bpmn:laneSet id="lanes"><bpmn:lane id="lane_staff" name="Staff"><bpmn:flowNodeRef>prepare'
         '</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>')
PREPARE = ('<bpmn:userTask id="prepare" name="Prepare the review"><bpmn:extensionElements><spiffworkflow:properties>'
           '<spiffworkflow:property name="formJsonSchemaFilename" value="connectors_prepare.schema.json" />'
           '</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>')
NOTIFY = {"to_role": "'SER'", "to_users": "'jmt'", "subject": "'Risk review: ' + relationship_name", "body": "note"}
ENTRY = {"register": "'risks'", "entry": "{'risk': risk, 'owner': owner, 'likelihood': 3, 'impact': impact}"}
RAISE = {"title": "'Late review: ' + relationship_name", "description": "note", "severity": "severity",
         "relationship": "relationship_name"}
DATA = {"risk": "Supplier insolvency", "owner": "ada", "impact": 4, "note": "The review slipped a month.",
        "severity": "minor"}


def lifecycle(notify=None) -> bytes:
    return chain_process("lifecycle", PREPARE,
                         service_task("tell_sers", "send_notification", notify or NOTIFY, "Tell the SERs"),
                         service_task("log_risk", "create_register_entry", ENTRY, "Log the risk"),
                         service_task("raise_nc", "raise_nonconformity", RAISE, "Raise a nonconformity"),
                         lanes=LANES)


def bundle(xml: bytes) -> dict:
    forms = {p.name: p.read_text() for p in sorted((ROOT / "forms").glob("nc_*.json"))}
    return {"files": {"lifecycle.bpmn": xml.decode(),
                      "nonconformity.bpmn": (ROOT / "bpmn" / "nonconformity.bpmn").read_text()},
            "forms": {**forms, "connectors_prepare.schema.json": PREPARE_FORM}}


@pytest.fixture
def app(make_app):
    """The app with mail on (nothing is sent here: e-mails wait in the outbox)."""
    return make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=2525, MAIL_FROM="flow@example.test")


@pytest.fixture
def relationship(api, session, users):
    """The small lifecycle deployed through the API, the SERs with e-mail addresses, and a relationship started
    -> (its id, the staff member's ready task)."""
    for name in ("ser", "ser2"):
        users[name].email = f"{name}@example.test"
    session.commit()
    deployed = api("owner").post("processes/deploy", {**bundle(lifecycle()), "message": "connectors"})
    assert deployed.status_code == 201, deployed.get_json()
    started = api("staff").post("relationships", {"title": "ACME", "partner": "ACME Ltd"})
    assert started.status_code == 201, started.get_json()
    relationship_id = started.get_json()["id"]
    (task,) = [t for t in api("staff").get("tasks").get_json()["items"] if t["relationship_id"] == relationship_id]
    return relationship_id, task


def _audit(session, action):
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_each_connector_does_its_work_in_the_completions_transaction(api, session, users, relationship):
    relationship_id, task = relationship
    users["jmt"].email = "jmt@example.test"  # named as a user too; wants no e-mail for process messages
    session.add(NotificationPreference(user_id=users["jmt"].id, email="each", muted_kinds=["message"]))
    session.commit()
    done = api("staff").post(f"tasks/{task['id']}/complete", {"data": DATA})
    assert done.status_code == 200, done.get_json()
    session.expire_all()
    assert session.scalar(select(ProcessInstance.status).where(ProcessInstance.id == relationship_id)) == "completed"

    # the mail is in the outbox, one per SER with an address, and a notification for each SER
    mails = list(session.scalars(select(OutboxEmail).order_by(OutboxEmail.to_address)))
    assert [(m.to_address, m.subject, m.status) for m in mails] == [
        ("ser2@example.test", "[collabflow] Risk review: ACME", "pending"),
        ("ser@example.test", "[collabflow] Risk review: ACME", "pending")]
    assert "The review slipped a month." in mails[0].body
    notified = session.scalars(select(Notification.user_id).where(Notification.kind == "message")).all()
    # not the partner's SER (the lane SER is ours); the named user too, in the app only (their preference)
    assert sorted(notified) == sorted([users["ser"].id, users["ser2"].id, users["jmt"].id])
    (sent,) = _audit(session, "connector.notification_sent")
    assert sent.instance_id == relationship_id and sent.actor == "staff" and sent.task_id
    assert sent.payload["bpmn_id"] == "tell_sers" and sent.payload["emails"] == 2

    # the register entry exists in the relationship's risk register, with its history
    (entry,) = session.scalars(select(RegisterEntry).where(RegisterEntry.relationship_id == relationship_id))
    assert (entry.register, entry.data) == ("risks", {"risk": "Supplier insolvency", "owner": "ada",
                                                      "likelihood": 3, "impact": 4})
    assert entry.source == "service task: Log the risk" and entry.updated_by_id == users["staff"].id
    (logged,) = _audit(session, "connector.register_entry")
    assert logged.payload["entry_id"] == entry.id and logged.payload["change"] == "created"
    risks = api("staff").get(f"relationships/{relationship_id}/registers/risks").get_json()
    assert [e["data"]["risk"] for e in risks["items"]] == ["Supplier insolvency"]

    # the nonconformity process started, linked to the relationship, waiting for its correction
    (nonconformity,) = session.scalars(select(ProcessInstance).where(ProcessInstance.process_id == "nonconformity"))
    assert nonconformity.parent_id == relationship_id and nonconformity.status == "running"
    assert nonconformity.title == "Late review: ACME"
    assert session.scalars(select(HumanTask.bpmn_id).where(HumanTask.instance_id == nonconformity.id,
                                                           HumanTask.state == "ready")).all() == ["nc_correction"]
    (raised,) = _audit(session, "connector.nonconformity_raised")
    assert raised.instance_id == relationship_id and raised.payload["nonconformity_id"] == nonconformity.id
    assert [e.instance_id for e in _audit(session, "instance.started")].count(nonconformity.id) == 1
    session.commit()


def test_a_call_the_app_cannot_perform_refuses_the_completion_and_saves_nothing(api, session, relationship):
    relationship_id, task = relationship
    deployed = api("owner").post("processes/deploy", {**bundle(lifecycle({**NOTIFY, "to_role": "tell"})),
                                                      "message": "role from data"})
    assert deployed.status_code == 201, deployed.get_json()
    started = api("staff").post("relationships", {"title": "Contoso", "partner": "Contoso Ltd"}).get_json()
    (task,) = [t for t in api("staff").get("tasks").get_json()["items"] if t["relationship_id"] == started["id"]]
    work = AuditEvent.action.not_like("api.%")  # (the API's own token events are not the action's)
    before = count(session, AuditEvent, work), count(session, Notification), count(session, RegisterEntry)
    refused = api("staff").post(f"tasks/{task['id']}/complete", {"data": {**DATA, "tell": "board"}})
    assert refused.status_code == 422, refused.get_json()
    body = refused.get_json()
    assert body["code"] == "script_failed"
    assert "the connector 'send_notification' failed: there is no role or lane 'board'" in body["message"]
    assert "(in 'Tell the SERs')" in body["message"]
    assert (count(session, AuditEvent, work), count(session, Notification), count(session, RegisterEntry)) == before
    assert count(session, HumanTask, HumanTask.id == task["id"], HumanTask.state == "ready") == 1
    session.commit()


def test_an_unknown_role_or_register_is_refused_by_validate_deploy_and_inspect_alike(api, users):
    owner = api("owner")
    assert owner.post("processes/deploy", {**bundle(lifecycle()), "message": "good"}).status_code == 201
    xml = chain_process("lifecycle", PREPARE,
                        service_task("tell_sers", "send_notification", {**NOTIFY, "to_role": "'board'"}, "Tell"),
                        service_task("log_risk", "create_register_entry", {**ENTRY, "register": "'gossip'"}, "Log"),
                        lanes=LANES)
    checked = owner.post("processes/validate", bundle(xml)).get_json()
    assert checked["valid"] is False
    by_element = {p["element_id"]: p for p in checked["problems"]}
    assert set(by_element) == {"tell_sers", "log_risk"}
    assert by_element["tell_sers"]["message"].startswith("the connector 'send_notification': there is no role or "
                                                         "lane 'board' (roles: staff, ser,")
    assert "there is no register 'gossip'; registers: risks, opportunities" in by_element["log_risk"]["message"]
    assert all(p["file"] == "lifecycle.bpmn" and p["line"] for p in checked["problems"])
    deployed = owner.post("processes/deploy", {**bundle(xml), "message": "refused"})
    assert deployed.status_code == 422
    # inspect reads one file against the latest version's forms: the same checks, the same problems
    inspected = owner.post("processes/inspect", {"filename": "lifecycle.bpmn", "content": xml.decode()}).get_json()
    assert inspected["runnable"] is False
    assert inspected["problems"] == checked["problems"]


def test_a_lane_the_version_maps_is_a_role_a_notification_may_name(api, session, users):
    """Lanes from another tool are mapped to roles when deploying; a notification to such a lane reaches its role."""
    xml = chain_process("lifecycle", PREPARE, service_task("tell_board", "send_notification",
                                                           {"to_role": "'Board'", "subject": "'For the board'"}),
                        lanes=LANES)
    owner = api("owner")
    refused = owner.post("processes/validate", bundle(xml)).get_json()
    assert "there is no role or lane 'Board'" in refused["problems"][0]["message"]
    deployed = owner.post("processes/deploy", {**bundle(xml), "lane_roles": {"Board": "top_management"},
                                               "message": "board lane"})
    assert deployed.status_code == 201, deployed.get_json()
    started = api("staff").post("relationships", {"title": "ACME", "partner": "ACME Ltd"}).get_json()
    (task,) = [t for t in api("staff").get("tasks").get_json()["items"] if t["relationship_id"] == started["id"]]
    assert api("staff").post(f"tasks/{task['id']}/complete", {"data": {}}).status_code == 200
    session.expire_all()
    assert session.scalars(select(Notification.user_id).where(Notification.kind == "message")).all() == [
        users["top"].id]
    session.commit()
