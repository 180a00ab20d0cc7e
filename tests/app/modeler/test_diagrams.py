"""Read helpers over diagram files (app/modeler/diagrams.py): who calls which process."""

from __future__ import annotations

from app.modeler.diagrams import process_callers
from tests.support.bundles import read_web_bundle


def test_process_callers_names_each_calling_file_and_call_activity():
    files, _forms = read_web_bundle()
    callers = process_callers(files)
    assert set(callers) == {"stage1_awareness", "stage2_knowledge"}
    assert len(callers["stage1_awareness"]) == 1
    assert callers["stage1_awareness"][0].startswith("web_lifecycle.bpmn (")


def test_process_callers_skips_a_file_that_is_not_xml():
    files, _forms = read_web_bundle()
    assert process_callers({**files, "broken.bpmn": b"<definitions"}) == process_callers(files)
    assert process_callers({"broken.bpmn": b"not xml"}) == {}
