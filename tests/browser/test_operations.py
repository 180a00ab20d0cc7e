"""The operations console in a real browser: an instance whose timer script failed is retried after a fix (moved to
the fixed version), and it goes on."""

from playwright.sync_api import expect
from sqlalchemy import select

from app.db import utcnow
from app.processes import services
from app.processes.models import HumanTask
from tests.support.browser import sign_in
from tests.support.failing_timer import failing_timer


def _deploy(session, wf_engine, users, version, script):
    files = {f.name: f.content for f in version.files if f.kind == "bpmn"}
    forms = {f.name: f.content for f in version.files if f.kind == "form"}
    files["failing_timer.bpmn"] = failing_timer(script)
    return services.deploy_version(session, wf_engine, files, forms, user=users["owner"], message=script)[0]


def test_the_console_retries_a_failed_instance_after_a_fix(live_server, page, session, wf_engine, users, version):
    from datetime import timedelta
    broken = _deploy(session, wf_engine, users, version, "figure = missing_name + 1")
    started = services.start_instance(session, wf_engine, user=users["staff"], process_id="failing_timer",
                                      title="Figure run")
    services.fire_due_timers(session, wf_engine, now=utcnow() + timedelta(seconds=1))
    fixed = _deploy(session, wf_engine, users, broken, "figure = 41 + 1")
    sign_in(page, live_server, session, users["admin"])
    page.get_by_role("link", name="Operations").click()
    row = page.locator(f'#failed tr[data-instance="{started.instance_id}"]')
    assert "Compute the figure" in row.inner_text() and "missing_name" in row.inner_text()
    row.get_by_role("button", name=f"Move to version {fixed.id} and retry").click()
    assert "went on" in page.locator(".flash").inner_text()
    expect(page.locator("#failed")).to_have_count(0)
    session.expire_all()
    assert session.scalar(select(HumanTask.name).where(HumanTask.instance_id == started.instance_id,
                                                       HumanTask.state == "ready")) == "Check the figure"
