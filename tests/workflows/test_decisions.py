"""Decision tables: a business rule task decides with the version's DMN table; a missing decision or a table that
cannot run is refused at validation with its location; cells run in the sandbox; each version keeps its table."""

from __future__ import annotations

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.spiff.parser import SpiffBpmnParser

from tests.support.bpmn import DMN_HEAD, LOOP_FORM, business_rule_process, decision_table
from workflows import InMemoryStore, ScriptFailed, ValidationFailed, WorkflowEngine, validate

LEVELS = [("< 1000", '"team lead"'), ("< 10000", '"manager"'), ("-", '"board"')]
FORMS = {"loop.schema.json": LOOP_FORM}


def bundle(rows=LEVELS, **kwargs):
    return {"rules.bpmn": business_rule_process(**kwargs), "levels.dmn": decision_table(rows)}


def refused(files, forms=None):
    with pytest.raises(ValidationFailed) as failed:
        validate(files, forms or FORMS)
    return failed.value.problems


@pytest.mark.parametrize("amount, level", [(500, "team lead"), (5000, "manager"), (50000, "board")])
def test_a_business_rule_task_decides_with_the_table(engine, amount, level):
    version_id, compiled = engine.deploy(bundle(), FORMS)
    assert set(compiled.decisions) == {"approval_level"} and compiled.decisions["approval_level"].file == "levels.dmn"
    result = engine.start(version_id, "rules", {"amount": amount})
    assert result.status == "completed" and result.data["level"] == level


def test_the_version_keeps_the_decision_file_and_a_reload_decides_the_same(engine):
    version_id, _ = engine.deploy(bundle(), FORMS)
    stored = engine.store.get_version(version_id)
    assert stored.files["levels.dmn"] == decision_table(LEVELS)
    fresh = WorkflowEngine(engine.store)  # no cached specs: the table comes back from the stored version
    result = fresh.start(version_id, "rules", {"amount": 5000})
    assert result.data["level"] == "manager"


def test_an_edited_table_decides_differently_and_old_instances_keep_their_table(engine):
    files = bundle(ask_first=True)
    v1, _ = engine.deploy(files, FORMS)
    old = engine.start(v1, "rules", {})
    v2, _ = engine.deploy({**files, "levels.dmn": decision_table([("< 100000", '"manager"'), ("-", '"board"')])},
                          FORMS)
    new = engine.start(v2, "rules", {})
    assert v2 != v1
    # both decide after the second deploy: each with its own version's table
    decided_old = engine.complete_task(old.instance_id, old.ready[0].id, {"amount": 50000})
    decided_new = WorkflowEngine(engine.store).complete_task(new.instance_id, new.ready[0].id, {"amount": 50000})
    assert decided_old.data["level"] == "board"
    assert decided_new.data["level"] == "manager"
    changed = engine.diff(v1, v2).changed
    assert [(c.element_id, c.kind) for c in changed] == [("decide", "BusinessRuleTask")]


def test_a_collect_table_gives_every_matching_output():
    engine = WorkflowEngine(InMemoryStore())
    rows = [("> 0", '"finance"'), ("> 1000", '"legal"'), ("> 100000", '"board"')]
    version_id, _ = engine.deploy({"rules.bpmn": business_rule_process(),
                                   "levels.dmn": decision_table(rows, hit_policy="COLLECT")}, FORMS)
    assert engine.start(version_id, "rules", {"amount": 5000}).data["level"] == ["finance", "legal"]


def test_a_call_to_a_decision_no_table_defines_is_refused_at_the_task():
    (problem,) = refused(bundle(decision_id="approval_limit"))
    assert (problem.file, problem.element_id, problem.element_name) == ("rules.bpmn", "decide",
                                                                         "Decide the approval level")
    assert problem.line == 6
    assert problem.message == ("the business rule task calls the decision 'approval_limit', which no decision table "
                               "(.dmn file) of this version defines (decisions: approval_level)")


def test_a_business_rule_task_without_a_decision_is_refused():
    (problem,) = refused({"rules.bpmn": business_rule_process(decision_id=None)})
    assert problem.element_id == "decide" and "names no decision" in problem.message
    assert "choose the decision table it calls" in problem.message and "decisions: none" in problem.message
    assert "calledDecisionId" not in problem.message


def test_a_decision_file_that_does_not_follow_the_schema_is_refused_with_its_line():
    broken = decision_table(LEVELS).replace(b'<output id="out"', b'<oops/>\n      <output id="out"')
    (problem,) = refused({**bundle(), "levels.dmn": broken})
    assert problem.file == "levels.dmn" and problem.line == 8
    assert "does not follow the DMN schema" in problem.message and "dmn:oops" in problem.message
    assert "{" not in problem.message  # no namespace URIs in braces


def test_a_decision_file_that_is_not_xml_is_refused_with_its_line():
    not_xml, call = refused({**bundle(), "levels.dmn": decision_table(LEVELS).replace(b"</decision>", b"")})
    assert not_xml.file == "levels.dmn" and not_xml.line and "not well-formed XML" in not_xml.message
    assert call.element_id == "decide" and "levels.dmn cannot be read: see its problems" in call.message


@pytest.mark.parametrize("content, words, line", [
    (b'<?xml version="1.0"?>\n<definitions xmlns="http://example.com/not-dmn" id="x"/>', "not a DMN decision file",
     2),
    (DMN_HEAD.encode() + b'  <decision id="a" name="A"><literalExpression id="l"><text>1</text>'
     b'</literalExpression></decision>\n</definitions>', "has no decision table", 3),
    (decision_table(LEVELS).replace(b"</definitions>", b'  <decision id="b" name="B"/>\n</definitions>'),
     "defines 2 decisions", 23),
    (decision_table(LEVELS).replace(b'<rule id="r1">', b"<rule>"), "needs an id", 3),
])
def test_a_decision_file_the_engine_cannot_read_says_why(content, words, line):
    problems = refused({**bundle(), "levels.dmn": content})
    ours = [p for p in problems if p.file == "levels.dmn"]
    assert len(ours) == 1 and words in ours[0].message and ours[0].line == line


def test_a_feel_list_of_values_is_refused_with_the_way_to_write_it():
    (problem,) = refused({**bundle(), "levels.dmn": decision_table([('"gold", "silver"', '"x"'), ("-", '"y"')],
                                                                    input_expression="tier")})
    assert problem.element_id == "r1_in" and 'write ? in ("gold", "silver")' in problem.message


def test_a_test_with_the_question_mark_decides():
    engine = WorkflowEngine(InMemoryStore())
    rows = [('? in ("gold", "silver")', '"priority"'), ("-", '"normal"')]
    version_id, _ = engine.deploy({"rules.bpmn": business_rule_process(),
                                   "levels.dmn": decision_table(rows, input_expression="tier")}, FORMS)
    assert engine.start(version_id, "rules", {"tier": "silver"}).data["level"] == "priority"
    assert engine.start(version_id, "rules", {"tier": "bronze"}).data["level"] == "normal"


def test_the_same_decision_id_twice_is_refused():
    problems = refused({**bundle(), "copy.dmn": decision_table(LEVELS)})
    assert any(p.file == "levels.dmn" and "also defined in copy.dmn" in p.message for p in problems)


@pytest.mark.parametrize("policy", ["PRIORITY", "RULE ORDER", "OUTPUT ORDER"])
def test_hit_policies_the_engine_does_not_implement_are_refused(policy):
    (problem,) = refused({**bundle(), "levels.dmn": decision_table(LEVELS, hit_policy=policy)})
    assert problem.element_id == "approval_level_table" and f"hit policy {policy}" in problem.message


@pytest.mark.parametrize("rows, cell_id, line, words", [
    ([("[1..5]", '"x"'), ("-", '"y"')], "r1_in", 10, "rule 1, input 'Amount': '[1..5]'"),
    ([("< 5", '"x"'), ("-", "[1..5]")], "r2_out", 15, "rule 2, output 'Level': '[1..5]'"),
])
def test_a_cell_that_is_not_an_expression_is_refused_at_its_rule_and_line(rows, cell_id, line, words):
    (problem,) = refused({**bundle(), "levels.dmn": decision_table(rows)})
    assert (problem.file, problem.element_id, problem.line) == ("levels.dmn", cell_id, line)
    assert problem.message.startswith(f"{words} is not an expression the engine can evaluate")


@pytest.mark.parametrize("cell, place", [
    ('__import__("os").system("id")', "output"),
    ("open('/etc/passwd').read()", "output"),
    ("().__class__.__base__.__subclasses__()", "output"),
    ("amount.__class__", "output"),
    ("? > __import__('os').getpid()", "input"),
    ("== globals()", "input"),
])
def test_hostile_cells_are_refused_at_deploy(cell, place):
    rows = [(cell, '"x"')] if place == "input" else [("-", cell)]
    problems = refused({**bundle(), "levels.dmn": decision_table(rows)})
    cell_id = "r1_in" if place == "input" else "r1_out"
    assert problems and all((p.file, p.element_id, p.line) == ("levels.dmn", cell_id, 10 if place == "input" else 11)
                            for p in problems)


def test_hostile_cells_are_stopped_by_the_sandbox_at_run_time(tmp_path):
    """Were a table to slip past validation, its cells are still evaluated by the sandbox, never by eval."""
    marker = tmp_path / "pwned"
    engine = WorkflowEngine(InMemoryStore())
    for cell in (f'__import__("os").system("touch {marker}")', "().__class__.__base__.__subclasses__()",
                 f"open('{marker}', 'w')"):
        parser = SpiffBpmnParser()  # SpiffWorkflow's parser alone: none of collabflow's checks
        parser.add_bpmn_str(business_rule_process())
        parser.add_dmn_str(decision_table([("-", cell)]))
        wf = BpmnWorkflow(parser.get_spec("rules"), {}, script_engine=engine.script_engine)
        wf.get_next_task(spec_name="Start").data.update(amount=1)
        with pytest.raises(WorkflowTaskException) as stopped:
            wf.do_engine_steps()
        assert stopped.value.args[0].startswith("Error evaluating expression")
        assert stopped.value.error_type in ("SandboxViolation", "NameError")  # simpleeval's refusal, in our words
    assert not marker.exists()


def test_a_cell_failing_at_run_time_names_the_task(engine):
    version_id, _ = engine.deploy({**bundle(), "levels.dmn": decision_table([("-", "missing + 1")])}, FORMS)
    with pytest.raises(ScriptFailed) as failed:
        engine.start(version_id, "rules", {"amount": 1})
    assert failed.value.location.bpmn_id == "decide"
    assert failed.value.location.task_name == "Decide the approval level"


def test_inspect_reads_a_diagram_beside_the_versions_decision_tables(engine):
    diagram = business_rule_process()
    alone = engine.inspect("rules.bpmn", diagram)
    assert not alone.runnable and "calls the decision 'approval_level'" in alone.problems[0].message
    beside = engine.inspect("rules.bpmn", diagram, decisions={"levels.dmn": decision_table(LEVELS)})
    assert beside.runnable and beside.problems == []
    with pytest.raises(ValidationFailed) as failed:
        engine.validate({"rules.bpmn": diagram}, {})
    assert [p.message for p in failed.value.problems] == [p.message for p in alone.problems]
