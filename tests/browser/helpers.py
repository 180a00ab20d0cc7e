"""Helpers for the page tests: sign a test user in through the real sign-in form."""

from __future__ import annotations

from tests.web.conftest import PASSWORD, set_password


def sign_in(page, live_server, session, user):
    set_password(session, user)
    page.goto(live_server + "/sign-in")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server + "/inbox")
