"""The script check the modeller's editors use gives the answer validation gives: Python's own functions the
sandbox withholds are refused at their line (unless the script defines the name), and no text makes it raise."""

from __future__ import annotations

import pytest

from workflows import ValidationFailed, check_script, validate

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="http://x">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="t" name="Work"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>
"""
SCRIPT = 'total = 1\nname = "x"\nhandle = open("/etc/passwd")'


def test_the_editor_check_and_validation_agree_on_a_forbidden_call():
    (problem,) = check_script(SCRIPT)
    assert (problem.line, problem.message) == (3, "line 3 of the script: name 'open' is not allowed in diagram scripts")
    with pytest.raises(ValidationFailed) as failed:
        validate({"d.bpmn": DIAGRAM.replace("{script}", SCRIPT).encode()}, {})
    (found,) = failed.value.problems
    assert found.message == problem.message and found.element_id == "t" and found.line == 8


@pytest.mark.parametrize("script", ["getattr(x, 'y')", "globals()", "z = vars", "compile('1', 'f', 'exec')"])
def test_reaching_for_introspection_is_refused(script):
    (problem,) = check_script(script)
    assert "is not allowed in diagram scripts" in problem.message


@pytest.mark.parametrize("script", ["open = 'yes'\nstate = open", "def f(type):\n    return type", "x = id",
                                    "rows = sorted(map(str, range(3)))\nprint(rows)", 'p = setting("cadence:R.PM")'])
def test_names_the_script_defines_data_names_and_the_sandbox_s_functions_pass(script):
    assert check_script(script) == []


@pytest.mark.parametrize("script", ["-" * 30000 + "1", "(" * 5000, "x = [" * 400 + "]" * 400, "if x\n  y",
                                    "'''", "\\", "x = 1\n" * 8000, "🙂 = 1"])
def test_no_text_makes_the_check_raise(script):
    problems = check_script(script)
    assert all(isinstance(p.message, str) and len(p.message) < 400 for p in problems)


def test_the_check_bounds_the_length_and_knows_the_three_kinds():
    (problem,) = check_script("x" * 60_000, "postScript")
    assert problem.line is None and "post-script is 60,000 characters long" in problem.message
    with pytest.raises(ValueError):
        check_script("x = 1", "macro")
