"""A notification leads somewhere: its link opens its task, and once the task is completed it no longer counts as
unread (real browser)."""

from playwright.sync_api import expect

from app.processes import services
from tests.support.browser import sign_in


def test_a_notification_opens_its_task_and_clears_when_it_is_completed(live_server, page, session, wf_engine, users,
                                                                       version):
    services.start_instance(session, wf_engine, user=users["staff"], process_id="approval", title="ACME plan")
    sign_in(page, live_server, session, users["staff"])
    page.get_by_role("link", name="Notifications").click()
    row = page.locator("#notifications tbody tr")
    assert "ACME plan" in row.inner_text()
    row.get_by_role("link", name="New task: Prepare the plan").click()
    assert "/tasks/" in page.url
    page.get_by_label("Plan").fill("We will share the load.")
    page.get_by_role("button", name="Complete task").click()
    expect(page.locator("nav a", has_text="Notifications").locator(".count")).to_have_count(0)
    page.get_by_role("link", name="Notifications").click()
    assert "done" in page.locator("#notifications tbody tr").inner_text()
