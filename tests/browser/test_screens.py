"""Every page, drawn by a real browser on a desktop and on a phone, on the bundled lifecycle with a relationship
in stage 5 (an issue and an exit review open): a PNG of each is written under this run's screenshot directory,
and on a 390x844 phone no page is wider than the screen."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.lifecycle import services as lifecycle
from app.processes.models import HumanTask
from tests.support.browser import screenshot, sign_in

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def scene(session, wf_engine, users, working_together):
    rel = working_together
    lifecycle.raise_issue(session, wf_engine, user=users["jmt"], relationship_id=rel.instance_id,
                          title="Late design drawings", description="Three weeks late.", now=utcnow())
    lifecycle.raise_exit_trigger(session, wf_engine, user=users["ser"], relationship_id=rel.instance_id,
                                 reason="Trust has broken down.", now=utcnow())
    ready = {row.bpmn_id: row.id for row in session.scalars(select(HumanTask).where(HumanTask.state == "ready"))}
    return {"relationship": rel.instance_id, "jmt_task": ready["s5_identify_sers"], "ser_task": ready["exit_review"],
            "issue_task": ready["ir_log_issue"]}


def pages(live_server, scene):
    """name -> URL of every kind of page (the 403 is tried by a staff member, see `visit`)."""
    return {
        "inbox": "/inbox",
        "task": f"/tasks/{scene['jmt_task']}",
        "issue-task": f"/tasks/{scene['issue_task']}",
        "ser-task": f"/tasks/{scene['ser_task']}",
        "relationships": "/relationships",
        "relationship": f"/relationships/{scene['relationship']}",
        "agenda": f"/agenda?relationship={scene['relationship']}",
        "notifications": "/notifications",
        "about": "/",
        "not-found": "/tasks/999999",
    }


WIDER_THAN_THE_WINDOW = """() => Array.from(document.querySelectorAll("body *"))
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest(".djs-container")
                 && getComputedStyle(e).position !== "absolute")
    .filter(e => !Array.from(e.children).some(c => c.getBoundingClientRect().right > window.innerWidth + 1))
    .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
                     (e.className && e.className.baseVal === undefined ? "." + e.className.split(" ").join(".") : "")
                     + " " + Math.round(e.getBoundingClientRect().right))"""


def overflow(page):
    """0 when the page fits the window (document.documentElement.scrollWidth <= window.innerWidth), else how
    many pixels it is wider, with the elements sticking out."""
    wider = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return 0 if wider <= 0 else (wider, page.evaluate(WIDER_THAN_THE_WINDOW))


def visit(browser, live_server, session, users, scene, screenshots, viewport, suffix):
    """Sign in as an SER, then as staff, open every page, keep a screenshot; returns {name: overflow}."""
    found, taken = {}, []
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(live_server + "/sign-in")
    found["sign-in"] = overflow(page)
    taken.append(screenshot(page, screenshots / f"sign-in{suffix}.png"))
    sign_in(page, live_server, session, users["ser"])  # an SER may open every task of our side
    for name, url in pages(live_server, scene).items():
        response = page.goto(live_server + url)
        assert response.status == (404 if name == "not-found" else 200), name
        if name == "relationship":
            page.locator(".diagram[data-drawn=true]").nth(1).wait_for()
        found[name] = overflow(page)
        taken.append(screenshot(page, screenshots / f"{name}{suffix}.png"))
    context.close()

    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    sign_in(page, live_server, session, users["staff"])
    assert page.goto(f"{live_server}/tasks/{scene['ser_task']}").status == 403
    found["forbidden"] = overflow(page)
    taken.append(screenshot(page, screenshots / f"forbidden{suffix}.png"))
    context.close()
    for path in taken:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000, path
    return found


def test_every_page_on_a_desktop_is_screenshotted(browser, live_server, session, users, scene, screenshots):
    widths = visit(browser, live_server, session, users, scene, screenshots, DESKTOP, "")
    assert len(widths) == 12
    assert {name: px for name, px in widths.items() if px} == {}


def test_pages_fit_a_phone_screen(browser, live_server, session, users, scene, screenshots):
    widths = visit(browser, live_server, session, users, scene, screenshots, PHONE, "-phone")
    assert {"inbox", "task", "relationship"} <= set(widths)
    # document.documentElement.scrollWidth <= window.innerWidth on every page, at 390x844
    assert {name: px for name, px in widths.items() if px} == {}
