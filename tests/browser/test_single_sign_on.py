"""Single sign-on in a real browser: a person signs in at the local OpenID provider's own page, lands with the roles
its groups map to, and once the provider no longer knows them, the next page they open sends them to sign in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.oidc_provider import app_settings


@pytest.fixture
def app(make_app, oidc_provider):
    return make_app(**app_settings(oidc_provider))


def test_a_person_signs_in_through_the_provider_and_a_removed_one_cannot_open_the_next_page(
        live_server, page, oidc_provider):
    oidc_provider.allow_redirect(f"{live_server}/sign-in/sso/callback")
    oidc_provider.add_user("alice", groups=["cf-ser", "cf-staff", "canteen"], name="Alice Example",
                           email="alice@example.com")
    page.goto(live_server + "/relationships")
    page.get_by_role("link", name="Sign in with Local provider").click()
    expect(page.get_by_role("heading", name="Local provider")).to_be_visible()
    page.get_by_label("Provider username").fill("alice")
    page.get_by_label("Provider password").fill("provider-password")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(live_server + "/relationships")
    expect(page.locator("#account-link")).to_have_text("Alice Example")
    expect(page.locator("header")).to_contain_text("ser, staff")
    page.locator("#account-link").click()
    expect(page.locator("main")).to_contain_text("Alice Example (alice) · Us · ser, staff")

    oidc_provider.remove_user("alice")
    page.goto(live_server + "/inbox")
    page.wait_for_url(re.compile(r"/sign-in"))
    expect(page.get_by_role("alert")).to_contain_text("Local provider no longer signs you in")
    page.goto(live_server + "/relationships")
    page.wait_for_url(re.compile(r"/sign-in\?next=/relationships"))
