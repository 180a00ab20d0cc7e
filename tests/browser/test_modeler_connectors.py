"""The modeller's properties panel in Debian's Chromium: a process owner inserts service tasks, picks their
connectors and fills their parameters; the diagram validates and deploys, and a relationship started on it
notifies the SERs and writes the register entry when the task before them is completed."""

from __future__ import annotations

import re

from lxml import etree
from sqlalchemy import select

from app.db import utcnow
from app.notifications.models import Notification
from app.processes.models import ProcessVersion
from app.registers.models import RegisterEntry
from app.relationships import services as relationships
from tests.support.browser import sign_in
from tests.support.driver import Driver

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def _status(page, text):
    page.wait_for_function(
        "t => (document.getElementById('status').textContent || '').includes(t)", arg=text, timeout=20000)


def _insert_service_task(page, after: str, name: str, connector: str, params: dict[str, str]) -> str:
    page.evaluate("window.scrollTo(0, 0)")  # (the panel's last field scrolled the page: the canvas is above)
    if not page.locator("#prop-id").count() or page.text_content("#prop-id") != after:  # (a click on the selected element would deselect it)
        page.locator(f'.djs-element[data-element-id="{after}"]').first.click()
    page.get_by_role("button", name="Insert a service task after").click()
    new_id = page.text_content("#prop-id")
    assert new_id != after and "ServiceTask" in page.text_content("#props-body")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Name").press("Tab")
    page.get_by_label("Connector").select_option(connector)
    for parameter, expression in params.items():
        field = page.locator(f'[data-parameter="{parameter}"]')
        field.fill(expression)
        field.press("Tab")
    return new_id


def test_a_process_owner_picks_connectors_and_fills_their_parameters(page, live_server, session, users, lifecycle,
                                                                     services):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live_server, session, users["owner"])
    page.goto(live_server + "/processes/diagrams/web_stage1.bpmn")
    page.wait_for_selector("#canvas-box[data-drawn=true]")

    tell = _insert_service_task(page, "s1_policy", "Tell the SERs", "send_notification",
                                {"to_role": "'SER'", "subject": "'Policy written for ' + relationship_name"})
    assert "Tells people something" in page.text_content("#props-body"), errors  # the connector's description
    assert page.locator("[data-parameter]").evaluate_all("els => els.map(e => e.dataset.parameter)") == [
        "to_role", "to_users", "subject", "body"]
    log = _insert_service_task(page, tell, "Log the policy risk", "create_register_entry",
                               {"register": "'risks'",
                                "entry": "{'risk': 'Policy gap', 'owner': 'ada', 'likelihood': 2, 'impact': 3}"})
    # a service task shows its connector's parameters again when selected
    page.evaluate("window.scrollTo(0, 0)")
    page.locator(f'.djs-element[data-element-id="{tell}"]').first.click()
    assert page.input_value("#prop-connector") == "send_notification"
    assert page.input_value('[data-parameter="to_role"]') == "'SER'"

    page.get_by_role("button", name="Validate").click()
    _status(page, "Valid: no errors")
    page.get_by_placeholder("What changed (deploy message)").fill("Stage 1: tell the SERs, log the risk")
    page.get_by_role("button", name="Deploy").click()
    _status(page, f"Deployed version {lifecycle.id + 1}")
    assert not errors, errors

    # what was deployed: SpiffArena's serviceTaskOperator with its parameters (id, type, value)
    session.expire_all()
    version = session.get(ProcessVersion, lifecycle.id + 1)
    tree = etree.fromstring(next(f.content for f in version.files if f.name == "web_stage1.bpmn"))
    operators = {t.get("id"): t.find(f".//{{{SPIFF}}}serviceTaskOperator") for t in tree.iter(f"{{{BPMN}}}serviceTask")}
    assert {i: o.get("id") for i, o in operators.items()} == {tell: "send_notification", log: "create_register_entry"}
    params = {p.get("id"): (p.get("type"), p.get("value")) for p in operators[tell].iter(f"{{{SPIFF}}}parameter")}
    assert params == {"to_role": ("any", "'SER'"), "subject": ("any", "'Policy written for ' + relationship_name")}
    assert re.search(r"<spiffworkflow:parameters>", next(f.content for f in version.files
                                                           if f.name == "web_stage1.bpmn").decode())

    # a relationship started now runs them when the policy is written
    started = relationships.start(session, services.workflows, users["staff"], title="Connector check",
                                  partner="ACME Ltd", now=utcnow())
    driver = Driver(session, services, users, started.instance_id, utcnow())
    driver.complete("s1_policy")
    session.expire_all()
    titles = session.scalars(select(Notification.title).where(Notification.kind == "message")).all()
    assert titles and set(titles) == {"Policy written for Connector check"}
    (entry,) = session.scalars(select(RegisterEntry).where(RegisterEntry.relationship_id == started.instance_id))
    assert entry.data["risk"] == "Policy gap" and entry.register == "risks"
    session.commit()
