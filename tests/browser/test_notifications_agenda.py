"""The notifications page and the agenda in a real browser: the unread badge, marking read, upcoming items."""

from datetime import timedelta

from playwright.sync_api import expect

from app.db import utcnow
from app.processes import services
from tests.support.browser import sign_in


def test_notifications_show_new_tasks_and_mark_read(live_server, page, session, wf_engine, users, version):
    services.start_instance(session, wf_engine, user=users["staff"], process_id="approval", title="ACME")
    sign_in(page, live_server, session, users["staff"])
    badge = page.locator("nav a", has_text="Notifications").locator(".count")
    assert badge.inner_text() == "1"
    page.get_by_role("link", name="Notifications").click()
    page.wait_for_url("**/notifications")
    row = page.locator("#notifications tbody tr")
    expect(row).to_have_count(1)
    assert "New task: Prepare the plan" in row.inner_text()
    assert row.get_attribute("class") == "unread"
    row.get_by_role("button", name="Mark read").click()
    assert page.locator("#notifications tbody tr").get_attribute("class") in ("", None)
    expect(page.locator("nav a", has_text="Notifications").locator(".count")).to_have_count(0)


def test_the_agenda_lists_what_falls_due(live_server, page, session, wf_engine, users, version):
    now = utcnow()
    services.start_instance(session, wf_engine, user=users["staff"], process_id="timers", data={"limit": "P5D"},
                            title="ACME", now=now)
    services.start_instance(session, wf_engine, user=users["staff"], process_id="approval", title="Beta", now=now)
    sign_in(page, live_server, session, users["staff"])
    page.get_by_role("link", name="Agenda").click()
    page.wait_for_url("**/agenda")
    rows = page.locator("table.agenda tbody tr")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert any("Prepare the plan" in t and "Beta" in t for t in texts), texts      # dueIn P2D
    assert any("Resolve at level 1" in t and "ACME" in t for t in texts), texts    # its time limit
    assert any("Level 1 time limit" in t for t in texts), texts                    # the timer itself
    due = (now + timedelta(days=2)).strftime("%d %b %Y").lstrip("0")
    assert due in texts[0]
    data = page.request.get(live_server + "/api/v1/agenda").json()
    assert {d["relationship"] for d in data} == {"ACME", "Beta"}
