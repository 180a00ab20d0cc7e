from __future__ import annotations

import pytest

from tests.support.bundles import read_test_bundle
from workflows import InMemoryStore, WorkflowEngine


@pytest.fixture
def engine():
    return WorkflowEngine(InMemoryStore(), script_time_limit=0.5)


@pytest.fixture
def bundle():
    return read_test_bundle()


@pytest.fixture
def version_id(engine, bundle):
    version_id, _compiled = engine.deploy(*bundle)
    return version_id
