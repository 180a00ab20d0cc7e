"""Messages from SpiffWorkflow are put in our words by `clean`: its empty notes folded, nothing a person wrote lost."""

from __future__ import annotations

import pytest

from workflows.errors import clean


@pytest.mark.parametrize(("raw", "said"), [
    ("Time Specification Error. Unknown Time Specification. . ", "Time Specification Error. Unknown Time Specification"),
    ("bad value . . . here", "bad value. here"),
    ("a range [1..5] is FEEL", "a range [1..5] is FEEL"),
    ("wait for it...", "wait for it"),
    ("<bpmn:task> at 0x7f00deadbeef failed", "bpmn:task failed"),
])
def test_clean_folds_empty_notes_but_keeps_what_was_written(raw, said):
    assert clean(raw) == said
