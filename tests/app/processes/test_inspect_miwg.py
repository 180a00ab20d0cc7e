"""The BPMN MIWG reference models (21 files from other modelling tools) through POST /api/v1/processes/inspect:
each is read, its processes listed, and every problem is located (element id or line) and said in our words:
none of SpiffWorkflow's own text, Python internals or raw XML."""

from __future__ import annotations

import re

import pytest

from tests.support.bundles import MIWG  # noqa: E402

FILES = sorted(MIWG.glob("*.bpmn")) if MIWG.is_dir() else []

NOT_OUR_WORDS = [
    re.compile(r"Time Specification Error"),
    re.compile(r"<[^>]* object at 0x[0-9a-fA-F]+>|\bat 0x[0-9a-fA-F]+"),  # a Python object's address
    re.compile(r"\b(?:TypeError|NotImplementedError|AttributeError|KeyError|ValueError)\b"),
    re.compile(r"Traceback|File \".*\", line \d+"),
    re.compile(r"<bpmn:|<semantic:|<model:|\{http://"),  # raw XML and namespaces
    re.compile(r"tasks of type\.\s*$|of type\. "),  # the type left out
    re.compile(r"\.\s*\.\s*$|\. $"),  # SpiffWorkflow's empty notes
]


pytestmark = pytest.mark.skipif(len(FILES) != 21, reason="shared/conformance/miwg is not beside the repository")


@pytest.fixture
def verdicts(api):
    owner = api("owner")
    found = {}
    for path in FILES:
        answer = owner.post("processes/inspect", {"filename": path.name, "content": path.read_bytes().decode("utf-8")})
        assert answer.status_code == 200, (path.name, answer.get_json())
        found[path.name] = answer.get_json()
    return found


def test_every_reference_model_is_read_and_its_processes_listed(verdicts):
    assert len(verdicts) == 21
    for name, verdict in verdicts.items():
        assert verdict["well_formed"] and verdict["processes"], name
        assert all(p["process_id"] and p["line"] for p in verdict["processes"]), name
        assert not verdict["runnable"] and verdict["problems"], f"{name}: none is written for this engine"


def test_every_problem_is_located_and_in_our_words(verdicts):
    problems = [(name, p) for name, verdict in verdicts.items() for p in verdict["problems"]]
    assert problems
    for name, problem in problems:
        assert problem["file"] == name
        assert problem["element_id"] or problem["line"], f"unlocated: {name} {problem}"
        for pattern in NOT_OUR_WORDS:
            assert not pattern.search(problem["message"]), f"{name} {problem['element_id']}: {problem['message']!r}"
