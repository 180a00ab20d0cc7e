"""The modeller's validate endpoint finds every problem of a draft in one pass, each located (element id and
line, for the canvas to mark), in a process owner's words, and changes nothing."""

from __future__ import annotations

from lxml import etree
from sqlalchemy import func, select

from app.modeler.models import Draft
from app.processes.models import ProcessVersion
from tests.support.bundles import WEB_DATA
from tests.support.modeler import BPMN, SPIFF, json_post

URL = "/processes/diagrams/web_stage1.bpmn"


def four_mistakes() -> str:
    """Stage 1 as a hurried process owner leaves it: a task dropped on the canvas and never connected, a reminder
    timer typed P7D without quotes, the 'stop' flow of the decision without its condition, the policy task
    without its form."""
    tree = etree.fromstring((WEB_DATA / "web_stage1.bpmn").read_bytes())
    process = tree.find(f"{{{BPMN}}}process")
    etree.SubElement(process, f"{{{BPMN}}}task", id="s1_orphan", name="Call the partner")
    reminder = etree.SubElement(process, f"{{{BPMN}}}boundaryEvent", id="s1_remind", name="A week later",
                                attachedToRef="s1_gate", cancelActivity="false")
    etree.SubElement(reminder, f"{{{BPMN}}}outgoing").text = "s1_f_remind"
    timer = etree.SubElement(reminder, f"{{{BPMN}}}timerEventDefinition")
    etree.SubElement(timer, f"{{{BPMN}}}timeDuration").text = "P7D"
    reminded = etree.SubElement(process, f"{{{BPMN}}}endEvent", id="s1_reminded")
    etree.SubElement(reminded, f"{{{BPMN}}}incoming").text = "s1_f_remind"
    etree.SubElement(process, f"{{{BPMN}}}sequenceFlow", id="s1_f_remind", sourceRef="s1_remind",
                     targetRef="s1_reminded")
    stop = process.find(f"{{{BPMN}}}sequenceFlow[@id='s1_f_stop']")
    stop.remove(stop.find(f"{{{BPMN}}}conditionExpression"))
    form = process.find(f".//{{{BPMN}}}userTask[@id='s1_policy']//{{{SPIFF}}}property[@name='formJsonSchemaFilename']")
    form.getparent().remove(form)
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8").decode()


def line_of(xml: str, element_id: str) -> int:
    (line,) = [n for n, text in enumerate(xml.splitlines(), 1) if f'id="{element_id}"' in text]
    return line


def test_validate_reports_the_four_mistakes_of_a_draft_in_one_pass_and_nothing_else(owner, lifecycle, session):
    xml = four_mistakes()
    versions_before = session.scalar(select(func.count()).select_from(ProcessVersion))
    answer = json_post(owner, URL + "/validate", {"xml": xml})
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["ok"] is False
    found = sorted((p["element_id"], p["severity"]) for p in body["problems"])
    assert found == [("s1_f_stop", "error"), ("s1_orphan", "error"), ("s1_policy", "error"),
                     ("s1_remind", "warning")]
    for problem in body["problems"]:
        assert problem["file"] == "web_stage1.bpmn" and problem["line"] == line_of(xml, problem["element_id"])
    by_id = {p["element_id"]: p for p in body["problems"]}
    assert by_id["s1_orphan"]["message"].startswith("this task is not connected")
    assert "'Decision?' without a condition" in by_id["s1_f_stop"]["message"]
    assert "choose the form this task shows" in by_id["s1_policy"]["message"]
    assert by_id["s1_remind"]["message"].startswith('timer (timeDuration) is written without quotes: it runs as '
                                                     'the period P7D (7 days); write "P7D"')
    assert not any("formJsonSchemaFilename" in p["message"] for p in body["problems"])
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ProcessVersion)) == versions_before
    assert session.scalar(select(func.count()).select_from(Draft)) == 0, "validating saves nothing"
