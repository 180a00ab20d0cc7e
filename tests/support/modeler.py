"""Helpers for the workbench tests: who may not use it, the modeller's JSON posts,
and the pages' stage 1 diagram as a person would change it in the modeller."""

from __future__ import annotations

from lxml import etree

from tests.support.bundles import WEB_DATA
from tests.support.web import token

NON_OWNERS = ("staff", "ser", "jmt", "assessor", "pser")
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def json_post(client, url, body, *, page="/processes"):
    """POST JSON the way the modeller's script does: CSRF token in the header, JSON accepted."""
    csrf = token(client.get(page).get_data(as_text=True))
    return client.client.post(url, json=body, headers={"X-CSRFToken": csrf, "Accept": "application/json"})


def stage1(**changes) -> str:
    """web_stage1.bpmn with the policy task renamed or its form changed (what a person does in the modeller)."""
    tree = etree.fromstring((WEB_DATA / "web_stage1.bpmn").read_bytes())
    task = tree.find(f".//{{{BPMN}}}userTask[@id='s1_policy']")
    if "name" in changes:
        task.set("name", changes["name"])
    if "form" in changes:
        prop = task.find(f".//{{{SPIFF}}}property[@name='formJsonSchemaFilename']")
        prop.set("value", changes["form"])
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8").decode()
