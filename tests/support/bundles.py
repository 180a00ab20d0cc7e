"""The test diagrams and the test clock: the engine's bundle (tests/workflows/data) and the pages' bundle
(tests/support/web_data, with layout for bpmn-js)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
DATA = TESTS / "workflows" / "data"
MIWG = ROOT.parent / "shared" / "conformance" / "miwg"  # the BPMN MIWG reference models, beside the repository
WEB_DATA = Path(__file__).resolve().parent / "web_data"
T0 = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)


def read_test_bundle():
    from workflows import read_directory
    return read_directory(DATA, DATA / "forms")


def read_web_bundle():
    from workflows import read_directory
    return read_directory(WEB_DATA, WEB_DATA / "forms")
