"""Fixtures for the workbench (the page fixtures come from tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def owner(signed_in):
    return signed_in("owner")
