"""The app configured for single sign-on against the real provider of `oidc_provider` (tests/conftest.py). A test
changes the settings by parametrizing `sso_overrides`."""

from __future__ import annotations

import pytest

from tests.support.oidc_provider import app_settings


@pytest.fixture
def sso_overrides():
    return {}


@pytest.fixture
def sso_config(oidc_provider, sso_overrides):
    return app_settings(oidc_provider, **sso_overrides)


@pytest.fixture
def app(make_app, sso_config):
    return make_app(**sso_config)
