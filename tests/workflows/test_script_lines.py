"""A script's lines are counted the same way at validation and at run time: 'line N of the script', line 1
being the first line of the script's text (on the line of its opening tag); a problem's `line` is the file's."""

from __future__ import annotations

import pytest

from tests.support.bpmn import script_process
from workflows import InMemoryStore, ScriptFailed, ValidationFailed, WorkflowEngine

SCRIPT_FILE_LINE = 7  # script_process puts the script's first line on line 7 of the file


def test_a_compile_error_names_the_script_line_and_the_file_line():
    engine = WorkflowEngine(InMemoryStore())
    with pytest.raises(ValidationFailed) as refused:
        engine.deploy({"s.bpmn": script_process("a = 1\nb = 2\nc = ((3\n")}, {})
    (problem,) = refused.value.problems
    assert problem.message.startswith("line 3 of the script: ") and "SyntaxError" not in problem.message
    assert (problem.element_id, problem.line) == ("evil", SCRIPT_FILE_LINE + 2)


def test_a_run_time_error_names_the_same_script_line():
    engine = WorkflowEngine(InMemoryStore())
    version_id, _ = engine.deploy({"s.bpmn": script_process("a = 1\nb = 2\nc = a / (b - 2)\n")}, {})
    with pytest.raises(ScriptFailed) as failed:
        engine.start(version_id, "hostile", {})
    assert failed.value.location.line == 3 and "line 3 of the script" in str(failed.value)
