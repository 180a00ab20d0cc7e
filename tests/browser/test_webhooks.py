"""Webhooks in a real browser: an administrator subscribes a receiver on 127.0.0.1 to completed tasks, sees the
signing secret once, and reads the delivery log after the scheduler delivered a completed task; "send again"
queues it again."""

import re

from playwright.sync_api import expect

from app.db import utcnow
from app.jobs.scheduler import TimerScheduler
from app.relationships import services as relationships
from tests.support.browser import sign_in
from tests.support.tasks import complete_policy, ready
from tests.support.webhooks import Receiver, verify_signature


def test_an_administrator_subscribes_sees_the_secret_once_and_reads_the_delivery_log(live_server, page, session,
                                                                                     services, users, lifecycle):
    relationships.start(session, services.workflows, users["staff"], title="ACME", partner="ACME Ltd", now=utcnow())
    receiver = Receiver().start()
    try:
        sign_in(page, live_server, session, users["admin"])
        page.get_by_role("link", name="Administration").click()
        page.locator("#webhooks-link").click()
        expect(page.locator("#no-webhooks")).to_be_visible()
        page.get_by_label("Address (http:// or https://)").fill("ftp://example.com/in")
        page.get_by_label("task.completed").check()
        page.get_by_role("button", name="Subscribe").click()
        expect(page.locator("#webhook-url-error")).to_contain_text("http:// or https://")
        expect(page.get_by_label("task.completed")).to_be_checked()

        page.get_by_label("Address (http:// or https://)").fill(receiver.url)
        page.get_by_label("Description (optional)").fill("Our ERP")
        page.get_by_role("button", name="Subscribe").click()
        expect(page.locator("#new-secret-value")).to_contain_text("whsec_")
        secret = page.locator("#new-secret-value").inner_text().strip()
        page.goto(live_server + "/admin/webhooks")
        expect(page.locator("#webhooks")).to_contain_text(receiver.url)
        expect(page.locator("#new-secret")).to_have_count(0)
        assert secret not in page.content(), "the secret is shown once"

        complete_policy(session, services.workflows, users["staff"], ready(session, "s1_policy").id)
        TimerScheduler(services).follow_up(now=utcnow())
        (got,) = receiver.received
        assert verify_signature(secret, got.headers["X-Collabflow-Signature"], got.body)

        page.get_by_role("link", name=receiver.url).click()
        row = page.locator("#deliveries tbody tr").first
        expect(row).to_contain_text("task.completed")
        expect(row).to_contain_text("delivered")
        expect(row.locator("[data-last-answer]")).to_have_text("HTTP 200")
        row.get_by_role("button", name=re.compile(r"^Send the task.completed delivery .* again$")).click()
        expect(page.locator(".flash")).to_contain_text("goes out again")
        expect(page.locator("#deliveries tbody tr").first).to_contain_text("pending")
    finally:
        receiver.stop()
