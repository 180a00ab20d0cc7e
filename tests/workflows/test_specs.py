"""Validation finds every problem and says where: file, element id, element name, line."""

from __future__ import annotations

import pytest

from tests.support.bpmn import HEAD, script_process
from workflows import (
    InMemoryStore,
    ValidationFailed,
    WorkflowEngine,
    validate,
)


def problems_of(files, forms=None):
    with pytest.raises(ValidationFailed) as refused:
        validate(files, forms or {})
    return refused.value.problems


def test_the_test_bundle_is_valid(bundle):
    compiled = validate(*bundle)
    assert compiled.process_ids == ["approval", "child", "parent", "reminders", "timers"]
    assert len(compiled.content_hash) == 64


def test_malformed_xml_names_the_line():
    (problem,) = problems_of({"broken.bpmn": HEAD.encode() + b'  <bpmn:process id="p">\n  <oops>\n</bpmn:definitions>'})
    assert problem.file == "broken.bpmn" and problem.line in (4, 5) and "well-formed" in problem.message


def test_schema_errors_name_the_line():
    xml = HEAD + '  <bpmn:process id="p" isExecutable="true">\n    <bpmn:notAnElement id="x"/>\n  </bpmn:process>\n</bpmn:definitions>'
    (problem,) = problems_of({"schema.bpmn": xml.encode()})
    assert problem.file == "schema.bpmn" and problem.line == 4 and "bpmn:notAnElement" in problem.message


def test_entity_expansion_is_refused():
    bomb = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n'
            b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol2;</bpmn:definitions>')
    (problem,) = problems_of({"bomb.bpmn": bomb})
    assert "DOCTYPE" in problem.message or "entity" in problem.message.lower()


def test_external_entities_are_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = (f'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>\n'
           '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</bpmn:definitions>').encode()
    problems = problems_of({"xxe.bpmn": xxe})
    assert all("TOP-SECRET" not in p.message for p in problems)


def test_huge_files_are_refused():
    (problem,) = problems_of({"huge.bpmn": b" " * (6 * 1024 * 1024)})
    assert "limit" in problem.message


def test_several_problems_are_reported_together(bundle):
    files, forms = bundle
    files = dict(files)
    files["approval.bpmn"] = files["approval.bpmn"].replace(b'decision == "approve"', b'decision ==== "approve"')
    files["timers.bpmn"] = files["timers.bpmn"].replace(b"<bpmn:timeDuration>limit", b'<bpmn:timeDuration>"P3X"')
    forms = {k: v for k, v in forms.items() if k != "approve.schema.json"}
    problems = problems_of(files, forms)
    by_element = {p.element_id: p for p in problems}
    assert "syntax error" in by_element["gate"].message and by_element["gate"].element_name == "Approved?"
    assert by_element["gate"].file == "approval.bpmn" and by_element["gate"].line > 1
    assert "not valid ISO 8601" in by_element["deadline"].message
    assert "approve.schema.json" in by_element["approve"].message


def test_unquoted_timer_literal_is_the_literal(bundle):
    files, forms = bundle
    files = {**files, "timers.bpmn": files["timers.bpmn"].replace(b"<bpmn:timeDuration>limit",
                                                                  b"<bpmn:timeDuration>PT2H")}
    # PT2H as modelling tools write it is the ISO duration (tests/workflows/test_timer_literals.py runs it)
    validate(files, forms)
    almost = {**files, "timers.bpmn": files["timers.bpmn"].replace(b">PT2H<", b">PT2X<")}
    (problem,) = problems_of(almost, forms)  # a mistyped literal or a data field named like one: refused
    assert problem.element_id == "deadline" and "not valid ISO 8601" in problem.message


def test_user_task_without_a_form_is_refused(bundle):
    files, forms = bundle
    files = {**files, "approval.bpmn": files["approval.bpmn"].replace(
        b'<spiffworkflow:property name="formJsonSchemaFilename" value="approve.schema.json" />', b"")}
    problems = problems_of(files, forms)
    assert [(p.element_id, "has no form" in p.message) for p in problems] == [("approve", True)]


def test_invalid_json_schema_is_refused(bundle):
    files, forms = bundle
    forms = {**forms, "note.schema.json": b'{"type": "object", "properties": {"note": {"type": 12}}}'}
    (problem,) = problems_of(files, forms)
    assert problem.file == "note.schema.json" and "JSON Schema" in problem.message


def test_call_activity_to_a_missing_process_is_refused():
    xml = HEAD + '''  <bpmn:process id="caller" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:callActivity id="call" name="Run stage 9" calledElement="stage9">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:callActivity>
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="call" />
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>'''
    (problem,) = problems_of({"caller.bpmn": xml.encode()})
    assert problem.element_id == "call" and problem.element_name == "Run stage 9" and "stage9" in problem.message
    assert problem.line == 5


def test_no_executable_process_is_refused():
    xml = HEAD + '  <bpmn:process id="p" isExecutable="false"/>\n</bpmn:definitions>'
    (problem,) = problems_of({"p.bpmn": xml.encode()})
    assert "no executable process" in problem.message


def test_interrupting_event_subprocesses_are_refused():  # (the rest: test_event_subprocesses.py)
    xml = HEAD + '''  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:endEvent id="e"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="e" />
    <bpmn:subProcess id="esp" name="On exit" triggeredByEvent="true">
      <bpmn:startEvent id="esp_s"><bpmn:signalEventDefinition /></bpmn:startEvent>
    </bpmn:subProcess>
  </bpmn:process>
</bpmn:definitions>'''
    problems = problems_of({"p.bpmn": xml.encode()})
    assert any(p.element_id == "esp" and "event sub-process" in p.message and "interrupting" in p.message
               for p in problems)


def test_a_refused_deploy_stores_nothing(bundle):
    engine = WorkflowEngine(InMemoryStore())
    with pytest.raises(ValidationFailed):
        engine.deploy({"hostile.bpmn": script_process("import os")}, {})
    version_id, _ = engine.deploy(*bundle)
    assert version_id == 1


def test_content_hash_is_stable_and_content_sensitive(bundle):
    files, forms = bundle
    assert validate(files, forms).content_hash == validate(dict(reversed(files.items())), forms).content_hash
    changed = {**forms, "note.schema.json": forms["note.schema.json"] + b" "}
    assert validate(files, changed).content_hash != validate(files, forms).content_hash
