"""Helpers for the real-browser tests (tests/browser): sign a test user in through the real sign-in form, check a
diagram's zoom buttons, keep a screenshot."""

from __future__ import annotations

from pathlib import Path

from tests.support.web import PASSWORD, set_password


def sign_in(page, live_server, session, user):
    set_password(session, user)
    page.goto(live_server + "/sign-in")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server + "/inbox")


def assert_zoom_buttons_work(container):
    """The drawn diagram in `container` (a locator) zooms in and out with its buttons and fits back: the
    canvas's viewport transform changes each time (one script, collabflow.js, serves every viewer)."""
    viewport = container.locator("svg .viewport").first
    fitted = viewport.get_attribute("transform")
    container.get_by_role("button", name="Zoom in").click()
    zoomed_in = viewport.get_attribute("transform")
    container.get_by_role("button", name="Zoom out").click()
    container.get_by_role("button", name="Zoom out").click()
    zoomed_out = viewport.get_attribute("transform")
    assert len({fitted, zoomed_in, zoomed_out}) == 3, (fitted, zoomed_in, zoomed_out)
    container.get_by_role("button", name="Fit").click()
    assert viewport.get_attribute("transform") == fitted


def screenshot(page, path: Path, *, full_page=True) -> Path:
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path


def open_modeller(page, live_server, path):
    """Open a diagram in the modeller and wait until it is drawn."""
    page.goto(live_server + path)
    page.wait_for_selector("#canvas-box[data-drawn=true]")


def select_element(page, element_id):
    """Click the element, scrolled to first as a person scrolls a long stage to it."""
    from playwright.sync_api import expect
    page.evaluate("id => { const m = window.collabflowModeler; "
                  "m.get('canvas').scrollToElement(m.get('elementRegistry').get(id)); }", element_id)
    page.locator(f'.djs-element[data-element-id="{element_id}"]').first.click()
    expect(page.locator("#prop-id")).to_have_text(element_id)
