"""Fixtures for the workbench: the web fixtures (test lifecycle, signed-in clients) and the bundled lifecycle."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.conftest import browser_client, lifecycle, signed_in  # noqa: F401  (shared page fixtures)

ROOT = Path(__file__).resolve().parents[2]
MIWG = ROOT.parent / "shared" / "conformance" / "miwg"
NON_OWNERS = ("staff", "ser", "jmt", "assessor", "pser")


@pytest.fixture
def owner(signed_in):  # noqa: F811  (the imported fixture, by name)
    return signed_in("owner")


def json_post(client, url, body, *, page="/processes"):
    """POST JSON the way the modeller's script does: CSRF token in the header, JSON accepted."""
    from tests.web.conftest import token
    csrf = token(client.get(page).get_data(as_text=True))
    return client.client.post(url, json=body, headers={"X-CSRFToken": csrf, "Accept": "application/json"})
