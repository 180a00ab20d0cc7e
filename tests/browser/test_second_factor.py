"""Two-step sign-in in a real browser: a person sets it up on the account page (the key read off the page into an
authenticator, here pyotp), is shown ten recovery codes, signs out, and signs in with their password and a code."""

import time

import pyotp
from playwright.sync_api import expect

from tests.support.browser import sign_in
from tests.support.web import PASSWORD


def test_a_person_sets_up_two_step_sign_in_and_signs_in_with_a_code(live_server, page, session, users):
    sign_in(page, live_server, session, users["staff"])
    page.locator("#account-link").click()
    page.get_by_role("button", name="Set up two-step sign-in").click()
    assert page.locator("#totp-qr svg").is_visible()
    totp = pyotp.TOTP(page.locator("#totp-secret").inner_text().replace(" ", ""))
    page.get_by_label("Code the app shows").fill(totp.now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("button", name="Sign out").click()

    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server + "/sign-in/code")
    page.get_by_label("Code", exact=True).fill(totp.at(time.time() + 30))  # the next step: this one was used
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server + "/inbox")
    page.locator("#account-link").click()
    assert "10 of 10 recovery codes left" in page.locator("#second-factor-state").inner_text()
