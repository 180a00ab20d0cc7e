"""Fixtures of the calendar feed tests."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest


@pytest.fixture
def host(app):
    """The UIDs' domain part: the host of the site's address (BASE_URL, else the request's)."""
    return urlsplit(app.config.get("BASE_URL") or "http://localhost/").hostname
