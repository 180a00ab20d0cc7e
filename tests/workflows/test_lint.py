"""Validation in one pass: every problem of every file at once, each located, none a follow-on of another; the
structural rules of workflows/lint.py one diagram each; timer values written without quotes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.bpmn import HEAD
from workflows import ValidationFailed, read_directory, validate
from workflows.inspect import inspect
from workflows.lint import lint
from workflows.specs import parse_xml

ROOT = Path(__file__).resolve().parents[2]
NOTE_FORM = b'{"type": "object", "properties": {"note": {"type": "string"}}}'
FORMS = {"note.schema.json": NOTE_FORM}


def process(body: str, process_id: str = "p", executable: str = "true") -> bytes:
    return (HEAD + f'  <bpmn:process id="{process_id}" isExecutable="{executable}">\n{body}\n  </bpmn:process>\n'
            '</bpmn:definitions>').encode()


def user_task(task_id: str, name: str, incoming: str = "", outgoing: str = "", form: str | None = "note.schema.json"):
    properties = (f'<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
                  f'name="formJsonSchemaFilename" value="{form}" /></spiffworkflow:properties>'
                  f'</bpmn:extensionElements>') if form else ""
    flows = "".join(f"<bpmn:incoming>{f}</bpmn:incoming>" for f in incoming.split()) + "".join(
        f"<bpmn:outgoing>{f}</bpmn:outgoing>" for f in outgoing.split())
    return f'    <bpmn:userTask id="{task_id}" name="{name}">{properties}{flows}</bpmn:userTask>\n'


def flow(flow_id: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'    <bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}" />\n'
    return (f'    <bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">'
            f'<bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>\n')


def line_of(xml: bytes, element_id: str) -> int:
    """The line the element with this id starts on, counted in the text itself (not by the code under test)."""
    (line,) = [n for n, text in enumerate(xml.decode().splitlines(), 1) if f'id="{element_id}"' in text]
    return line


def problems_of(files: dict[str, bytes], forms=FORMS):
    try:
        return validate(files, forms).problems
    except ValidationFailed as failed:
        return failed.problems


def found(problems):
    return sorted((p.element_id, p.severity) for p in problems)


# ------------------------------------------------------------------------------------------------------ the bar
DRAFT = process(
    '    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>\n'
    + user_task("review", "Review the plan", "f1", "f2", form=None)
    + '    <bpmn:intermediateCatchEvent id="wait_week" name="A week later"><bpmn:incoming>f2</bpmn:incoming>'
      '<bpmn:outgoing>f3</bpmn:outgoing>\n'
      '      <bpmn:timerEventDefinition><bpmn:timeDuration>P7D</bpmn:timeDuration></bpmn:timerEventDefinition>\n'
      '    </bpmn:intermediateCatchEvent>\n'
      '    <bpmn:exclusiveGateway id="decide" name="Approved?" default="f_no"><bpmn:incoming>f3</bpmn:incoming>'
      '<bpmn:outgoing>f_yes</bpmn:outgoing><bpmn:outgoing>f_maybe</bpmn:outgoing><bpmn:outgoing>f_no</bpmn:outgoing>'
      '</bpmn:exclusiveGateway>\n'
      '    <bpmn:endEvent id="approved"><bpmn:incoming>f_yes</bpmn:incoming></bpmn:endEvent>\n'
      '    <bpmn:endEvent id="maybe"><bpmn:incoming>f_maybe</bpmn:incoming></bpmn:endEvent>\n'
      '    <bpmn:endEvent id="refused"><bpmn:incoming>f_no</bpmn:incoming></bpmn:endEvent>\n'
      '    <bpmn:task id="orphan" name="Call the partner" />\n'
    + flow("f1", "start", "review") + flow("f2", "review", "wait_week") + flow("f3", "wait_week", "decide")
    + flow("f_yes", "decide", "approved", "approved == True") + flow("f_maybe", "decide", "maybe")
    + flow("f_no", "decide", "refused"), process_id="draft")


def test_a_draft_with_four_mistakes_reports_exactly_those_four_in_one_pass():
    problems = problems_of({"draft.bpmn": DRAFT})
    assert found(problems) == [("f_maybe", "error"), ("orphan", "error"), ("review", "error"),
                               ("wait_week", "warning")]
    by_id = {p.element_id: p for p in problems}
    for element_id, problem in by_id.items():
        assert problem.file == "draft.bpmn" and problem.line == line_of(DRAFT, element_id), problem
    assert by_id["orphan"].message.startswith("this task is not connected")
    assert by_id["orphan"].element_name == "Call the partner"
    assert "without a condition" in by_id["f_maybe"].message and "'Approved?'" in by_id["f_maybe"].message
    assert "choose the form this task shows" in by_id["review"].message
    assert "formJsonSchemaFilename" not in by_id["review"].message
    assert by_id["wait_week"].message == ('timer (timeDuration) is written without quotes: it runs as the period P7D '
                                          '(7 days); write "P7D" to say so, or the name of a data field')


def test_inspecting_the_draft_as_an_upload_gives_the_same_four():
    report = inspect("draft.bpmn", DRAFT, FORMS)
    assert not report.runnable and found(report.problems) == found(problems_of({"draft.bpmn": DRAFT}))


def test_the_draft_fixed_is_valid_with_no_warning():
    fixed = (DRAFT.replace(b'<bpmn:task id="orphan" name="Call the partner" />', b"")
             .replace(b">P7D<", b'>"P7D"<')
             .replace(b'targetRef="maybe" />', b'targetRef="maybe"><bpmn:conditionExpression>approved == False'
                                               b'</bpmn:conditionExpression></bpmn:sequenceFlow>')
             .replace(b'name="Review the plan">', b'name="Review the plan"><bpmn:extensionElements>'
                      b'<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" '
                      b'value="note.schema.json" /></spiffworkflow:properties></bpmn:extensionElements>'))
    assert validate({"draft.bpmn": fixed}, FORMS).problems == []


# ------------------------------------------------------------------------------------------ no follow-on problems
UNPARSABLE_CHILD = process(
    '    <bpmn:startEvent id="c_start"><bpmn:outgoing>c1</bpmn:outgoing></bpmn:startEvent>\n'
    '    <bpmn:intermediateCatchEvent id="c_wait" name="Partner answers"><bpmn:incoming>c1</bpmn:incoming>'
    '<bpmn:outgoing>c2</bpmn:outgoing><bpmn:messageEventDefinition messageRef="no_such_message" />'
    '</bpmn:intermediateCatchEvent>\n'
    '    <bpmn:endEvent id="c_end"><bpmn:incoming>c2</bpmn:incoming></bpmn:endEvent>\n'
    + flow("c1", "c_start", "c_wait") + flow("c2", "c_wait", "c_end"), process_id="child")
CALLER = process(
    '    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>\n'
    '    <bpmn:callActivity id="call_child" name="Run the child" calledElement="child"><bpmn:incoming>f1'
    '</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:callActivity>\n'
    '    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>\n'
    + flow("f1", "start", "call_child") + flow("f2", "call_child", "end"), process_id="parent")


def test_a_call_to_a_process_that_cannot_be_parsed_is_not_a_second_problem():
    problems = problems_of({"child.bpmn": UNPARSABLE_CHILD, "parent.bpmn": CALLER})
    (problem,) = problems
    assert (problem.file, problem.element_id) == ("child.bpmn", "c_wait")


def test_a_call_to_a_process_no_file_declares_is_still_refused():
    (problem,) = problems_of({"parent.bpmn": CALLER})
    assert problem.element_id == "call_child" and "'child', which is not in this version" in problem.message


def test_the_parser_error_an_xml_check_already_found_is_not_said_again():
    problems = problems_of({"draft.bpmn": DRAFT})
    assert [p for p in problems if p.element_id == "f_maybe"] and not any(
        "exclusive gateway without a condition" in p.message for p in problems), "SpiffWorkflow's words for f_maybe"


def test_checks_of_a_file_that_cannot_be_parsed_still_run():
    child = process(
        '    <bpmn:startEvent id="c_start"><bpmn:outgoing>c0</bpmn:outgoing></bpmn:startEvent>\n'
        + user_task("c_form", "Fill in", "c0", "c1", form="missing.schema.json")
        + UNPARSABLE_CHILD.decode().split('<bpmn:process id="child" isExecutable="true">')[1].split(
            "</bpmn:process>")[0].replace('<bpmn:startEvent id="c_start"><bpmn:outgoing>c1</bpmn:outgoing>'
                                          '</bpmn:startEvent>', "").replace('sourceRef="c_start"', 'sourceRef="c_form"')
        + flow("c0", "c_start", "c_form"), process_id="child")
    problems = problems_of({"child.bpmn": child})
    assert found(problems) == [("c_form", "error"), ("c_wait", "error")]
    assert "missing.schema.json" in {p.element_id: p for p in problems}["c_form"].message


# --------------------------------------------------------------------------------------------- one rule, one diagram
START_TO_END = ('    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>\n'
                '    <bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>\n'
                + flow("f1", "start", "end"))


def test_a_start_or_end_event_alone_does_nothing_and_is_a_warning():
    xml = process(START_TO_END + '    <bpmn:startEvent id="s2" name="Also here" />\n    <bpmn:endEvent id="e2" />\n')
    problems = validate({"p.bpmn": xml}, {}).problems
    assert found(problems) == [("e2", "warning"), ("s2", "warning")]
    assert all("is not connected, so it does nothing" in p.message for p in problems)


def test_a_task_with_no_flow_in_never_runs():
    xml = process(START_TO_END + '    <bpmn:task id="t" name="Stray" />\n'
                  '    <bpmn:endEvent id="e2" />\n' + flow("f2", "t", "e2"))
    (problem,) = problems_of({"p.bpmn": xml})
    assert (problem.element_id, problem.severity, problem.line) == ("t", "error", line_of(xml, "t"))
    assert "no sequence flow leads to this task" in problem.message


def test_a_task_with_no_flow_out_is_an_implicit_end_that_never_completes():
    xml = process('    <bpmn:startEvent id="start" />\n    <bpmn:task id="t" name="Last step" />\n'
                  + flow("f1", "start", "t"))
    (problem,) = problems_of({"p.bpmn": xml})
    assert (problem.element_id, problem.severity) == ("t", "error")
    assert "no sequence flow leaves this task" in problem.message and "end event" in problem.message


def test_a_boundary_event_with_no_flow_out_strands_the_instance():
    xml = process(START_TO_END.replace('targetRef="end"', 'targetRef="work"') + '    <bpmn:manualTask id="work" />\n'
                  '    <bpmn:boundaryEvent id="late" name="Too late" attachedToRef="work"><bpmn:timerEventDefinition>'
                  '<bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>\n'
                  + flow("f2", "work", "end"))
    (problem,) = problems_of({"p.bpmn": xml})
    assert (problem.element_id, problem.severity) == ("late", "error")
    assert "no sequence flow leaves this boundary event" in problem.message


def test_a_loop_no_start_event_reaches_is_reported_once():
    xml = process(START_TO_END + '    <bpmn:task id="a" name="Ping" />\n    <bpmn:task id="b" name="Pong" />\n'
                  + flow("ab", "a", "b") + flow("ba", "b", "a"))
    (problem,) = problems_of({"p.bpmn": xml})
    assert (problem.element_id, problem.severity) == ("a", "error")
    assert "cannot be reached from a start event" in problem.message


def test_a_gateway_with_one_path_is_a_warning():
    xml = process('    <bpmn:startEvent id="start" />\n    <bpmn:exclusiveGateway id="gw" name="Pointless" />\n'
                  '    <bpmn:endEvent id="end" />\n' + flow("f1", "start", "gw") + flow("f2", "gw", "end"))
    (problem,) = validate({"p.bpmn": xml}, {}).problems
    assert (problem.element_id, problem.severity) == ("gw", "warning") and "one flow in and one flow out" in problem.message


@pytest.mark.parametrize("kind", ["exclusiveGateway", "inclusiveGateway"])
def test_a_split_flow_with_no_condition_that_is_not_the_default_is_refused(kind):
    xml = process(f'    <bpmn:startEvent id="start" />\n    <bpmn:{kind} id="gw" name="Which way?" default="f3" />\n'
                  '    <bpmn:endEvent id="e1" />\n    <bpmn:endEvent id="e2" />\n    <bpmn:endEvent id="e3" />\n'
                  + flow("f1", "start", "gw") + flow("f2", "gw", "e1", "x == 1") + flow("f3", "gw", "e2")
                  + flow("f4", "gw", "e3"))
    (problem,) = problems_of({"p.bpmn": xml})
    assert (problem.element_id, problem.severity, problem.line) == ("f4", "error", line_of(xml, "f4"))
    assert "leaves the split 'Which way?' without a condition" in problem.message


def test_a_condition_out_of_a_parallel_gateway_is_ignored_and_said_so():
    xml = process('    <bpmn:startEvent id="start" />\n    <bpmn:parallelGateway id="fork" name="Both" />\n'
                  '    <bpmn:parallelGateway id="join" />\n    <bpmn:endEvent id="end" />\n'
                  '    <bpmn:task id="a" />\n    <bpmn:task id="b" />\n'
                  + flow("f1", "start", "fork") + flow("f2", "fork", "a", "x == 1") + flow("f3", "fork", "b")
                  + flow("f4", "a", "join") + flow("f5", "b", "join") + flow("f6", "join", "end"))
    (problem,) = validate({"p.bpmn": xml}, {}).problems
    assert (problem.element_id, problem.severity) == ("f2", "warning") and "condition is ignored" in problem.message


def test_what_may_lack_flows_is_not_reported():
    """Boundary events, event sub-processes (and their start), compensation handlers, link events, sub-process
    internals, and processes that are not executable (a partner's pool)."""
    xml = process(
        '    <bpmn:startEvent id="start" />\n'
        '    <bpmn:task id="work" />\n'
        '    <bpmn:boundaryEvent id="late" attachedToRef="work"><bpmn:timerEventDefinition><bpmn:timeDuration>'
        '"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>\n'
        '    <bpmn:boundaryEvent id="undo" attachedToRef="work"><bpmn:compensateEventDefinition />'
        '</bpmn:boundaryEvent>\n'
        '    <bpmn:task id="undo_work" isForCompensation="true" />\n'
        '    <bpmn:intermediateThrowEvent id="go_on"><bpmn:linkEventDefinition name="on" /></bpmn:intermediateThrowEvent>\n'
        '    <bpmn:intermediateCatchEvent id="come_in"><bpmn:linkEventDefinition name="on" /></bpmn:intermediateCatchEvent>\n'
        '    <bpmn:subProcess id="inner"><bpmn:startEvent id="i_start" /><bpmn:endEvent id="i_end" />'
        '<bpmn:sequenceFlow id="i1" sourceRef="i_start" targetRef="i_end" /></bpmn:subProcess>\n'
        '    <bpmn:subProcess id="on_signal" triggeredByEvent="true"><bpmn:startEvent id="s_start" isInterrupting="false">'
        '<bpmn:signalEventDefinition /></bpmn:startEvent><bpmn:endEvent id="s_end" />'
        '<bpmn:sequenceFlow id="s1" sourceRef="s_start" targetRef="s_end" /></bpmn:subProcess>\n'
        '    <bpmn:endEvent id="end" />\n    <bpmn:endEvent id="late_end" />\n'
        + flow("f1", "start", "work") + flow("f2", "work", "go_on") + flow("f3", "come_in", "inner")
        + flow("f4", "inner", "end") + flow("f5", "late", "late_end"))
    partner = process('    <bpmn:task id="loose" />', process_id="partner", executable="false")
    trees = {name: parse_xml(name, xml)[0] for name, xml in {"p.bpmn": xml, "partner.bpmn": partner}.items()}
    assert lint(trees) == []


def test_inside_a_sub_process_the_rules_apply_too():
    xml = process(
        '    <bpmn:startEvent id="start" />\n'
        '    <bpmn:subProcess id="inner"><bpmn:startEvent id="i_start" /><bpmn:endEvent id="i_end" />'
        '<bpmn:task id="i_loose" name="Forgotten" />'
        '<bpmn:sequenceFlow id="i1" sourceRef="i_start" targetRef="i_end" /></bpmn:subProcess>\n'
        '    <bpmn:endEvent id="end" />\n' + flow("f1", "start", "inner") + flow("f2", "inner", "end"))
    (problem,) = problems_of({"p.bpmn": xml})
    assert problem.element_id == "i_loose" and "not connected" in problem.message


# ---------------------------------------------------------------------------------------------------------- timers
@pytest.mark.parametrize("kind, value, words", [
    ("timeDuration", "P7D", "the period P7D (7 days)"),
    ("timeDuration", "PT1H30M", "the period PT1H30M (1 hour, 30 minutes)"),
    ("timeCycle", "R/P7D", "the repeating interval R/P7D (every 7 days, without end)"),
    ("timeCycle", "R6/P1M", "the repeating interval R6/P1M (every 1 month, 6 times)"),
])
def test_an_unquoted_timer_runs_as_its_literal_and_is_a_warning_with_the_fix(kind, value, words):
    xml = process(START_TO_END + '    <bpmn:task id="work" />\n    <bpmn:endEvent id="e2" />\n'
                  f'    <bpmn:boundaryEvent id="tick" name="Tick" attachedToRef="work" cancelActivity="false">'
                  f'<bpmn:timerEventDefinition><bpmn:{kind}>{value}</bpmn:{kind}></bpmn:timerEventDefinition>'
                  '</bpmn:boundaryEvent>\n' + flow("f2", "tick", "e2")).replace(
        b'<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>',
        b'<bpmn:startEvent id="start" />').replace(b'sourceRef="start" targetRef="end"', b'sourceRef="work" targetRef="end"')
    xml = xml.replace(b"</bpmn:process>", flow("f0", "start", "work").encode() + b"</bpmn:process>")
    (problem,) = validate({"p.bpmn": xml}, {}).problems
    assert (problem.element_id, problem.severity, problem.line) == ("tick", "warning", line_of(xml, "tick"))
    assert problem.message == (f'timer ({kind}) is written without quotes: it runs as {words}; write "{value}" '
                               "to say so, or the name of a data field")
    quoted = xml.replace(f">{value}<".encode(), f'>"{value}"<'.encode())
    assert validate({"p.bpmn": quoted}, {}).problems == []


@pytest.mark.parametrize("value, fix", [("7 days", 'in quotes, or the name of a data field'),
                                        ("P7", "such as P7D or PT2H (in quotes)")])
def test_a_timer_that_is_neither_iso_nor_a_name_is_refused_with_the_fix(value, fix):
    xml = process('    <bpmn:startEvent id="start" />\n    <bpmn:endEvent id="end" />\n'
                  '    <bpmn:intermediateCatchEvent id="wait" name="Wait">'
                  f'<bpmn:timerEventDefinition><bpmn:timeDuration>{value}</bpmn:timeDuration></bpmn:timerEventDefinition>'
                  '</bpmn:intermediateCatchEvent>\n' + flow("f1", "start", "wait") + flow("f2", "wait", "end"))
    (problem,) = problems_of({"p.bpmn": xml})
    assert (problem.element_id, problem.severity) == ("wait", "error") and fix in problem.message


def test_an_unquoted_timer_is_reported_when_the_file_cannot_be_parsed():
    problems = problems_of({"child.bpmn": UNPARSABLE_CHILD.replace(
        b"</bpmn:process>", b'<bpmn:boundaryEvent id="late" attachedToRef="c_wait" cancelActivity="false">'
        b"<bpmn:outgoing>c3</bpmn:outgoing><bpmn:timerEventDefinition><bpmn:timeDuration>P7D</bpmn:timeDuration>"
        b'</bpmn:timerEventDefinition></bpmn:boundaryEvent><bpmn:endEvent id="late_end" />'
        + flow("c3", "late", "late_end").encode() + b"</bpmn:process>")})
    assert found(problems) == [("c_wait", "error"), ("late", "warning")]


# ------------------------------------------------------------------------------------------------ the bundle
def test_every_bundled_diagram_validates_with_no_error_and_no_structural_problem():
    files, forms = read_directory(ROOT / "bpmn", ROOT / "forms")
    compiled = validate(files, forms)  # raises on any error
    assert not [p for p in compiled.problems if p.severity == "error"]
    trees = {name: parse_xml(name, content)[0] for name, content in files.items() if name.endswith(".bpmn")}
    assert lint(trees) == []
