"""Diagrams from other modelling tools (the BPMN MIWG reference models): every one is read, its processes
listed, and what prevents running it here is named element by element, never an exception."""

from __future__ import annotations

import pytest

from tests.support.bundles import MIWG  # noqa: E402
from workflows.inspect import inspect

FILES = sorted(MIWG.glob("*.bpmn")) if MIWG.is_dir() else []


@pytest.mark.skipif(not FILES, reason="shared/conformance/miwg is not beside the repository")
def test_the_reference_set_is_all_there():
    assert len(FILES) == 21


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_reference_model_gets_a_located_verdict(path):
    report = inspect(path.name, path.read_bytes())
    assert report.well_formed and report.processes, "every reference model is read and has processes"
    assert not report.runnable, "none of them is written for this engine"
    for problem in report.problems:
        assert problem.file == path.name
        assert problem.element_id and problem.line, f"unlocated: {problem}"


def test_a_runnable_diagram_is_said_to_be_runnable():
    from tests.support.bundles import read_test_bundle
    files, forms = read_test_bundle()
    report = inspect("timers.bpmn", files["timers.bpmn"], forms)
    assert report.runnable and [p.process_id for p in report.processes] == ["timers"]


def test_a_broken_file_is_reported_not_raised():
    report = inspect("broken.bpmn", b"<definitions><process id='p'></definitions>")
    assert not report.well_formed and report.problems[0].line == 1
