"""Safe changes in Debian's Chromium, as a process owner: a roll back asks for a reason on a page that says which
running instances cannot follow; the migration dry run shows each instance's stage, tasks and what it will meet;
Undo is disabled, with the reason, once an instance moved on."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import utcnow
from app.processes import services as processes
from app.processes.models import InstanceMove, ProcessInstance, ProcessVersion
from tests.support.browser import sign_in
from tests.support.bundles import T0, read_test_bundle
from tests.support.driver import Driver
from tests.support.versions import version_2


def _v2(session, services, users):
    files, forms = read_test_bundle()
    v2, _, _ = processes.deploy_version(session, services.workflows, version_2(files), forms, user=users["owner"],
                                        message="a check step", now=T0)
    return v2


def _start(session, services, users, version_id, title):
    return processes.start_instance(session, services.workflows, user=users["staff"], process_id="approval",
                                    title=title, version_id=version_id, now=T0).instance_id


def test_roll_back_asks_for_a_reason_and_names_who_cannot_follow(page, live_server, session, users, services,
                                                                   version):
    v2 = _v2(session, services, users)
    at_check = _start(session, services, users, v2.id, "Plan at its check")
    Driver(session, services, users, at_check, T0).complete("prepare")
    at_prepare = _start(session, services, users, v2.id, "Plan in preparation")
    sign_in(page, live_server, session, users["owner"])
    page.goto(live_server + "/processes")
    page.locator(f'#history tr[data-version="{version.id}"]').get_by_role("link", name="Roll back to this…").click()
    page.wait_for_url(re.compile(rf".*/processes/versions/{version.id}/roll-back$"))
    expect(page.get_by_role("heading", name=f"Roll back to version {version.id}?")).to_be_visible()
    blocked = page.locator(f'#blocked tr[data-instance="{at_check}"]')
    expect(blocked).to_contain_text("Plan at its check")
    expect(blocked).to_contain_text(f"check (Check the plan) is ready here but does not exist in version {version.id}")
    expect(page.locator(f'#follow tr[data-instance="{at_prepare}"]')).to_contain_text("Prepare the plan")

    page.get_by_role("button", name=f"Roll back to version {version.id}").click()  # no reason: not sent
    expect(page).to_have_url(re.compile(rf".*/processes/versions/{version.id}/roll-back$"))
    assert session.scalar(select(ProcessVersion).where(ProcessVersion.id > v2.id)) is None
    page.get_by_label("Why roll back").fill("approvals wait too long at the check")
    page.get_by_role("button", name=f"Roll back to version {version.id}").click()
    page.wait_for_url(live_server + "/processes")
    expect(page.locator(f'#history tr[data-version="{v2.id + 1}"]')).to_contain_text(
        "approvals wait too long at the check")
    session.expire_all()
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "version.rolled_back"))
    assert [b["instance_id"] for b in event.payload["cannot_follow"]] == [at_check]


def test_the_dry_run_table_and_an_undo_disabled_once_the_instance_moved_on(page, live_server, session, users,
                                                                             services, version):
    first = _start(session, services, users, version.id, "First plan")
    second = _start(session, services, users, version.id, "Second plan")
    v2 = _v2(session, services, users)
    sign_in(page, live_server, session, users["owner"])
    page.goto(live_server + f"/processes/migrate?to={v2.id}")
    row = page.locator(f'#dry-run tr[data-instance="{first}"]')
    expect(row.locator("td.instance")).to_contain_text("First plan")
    expect(row.locator("td.ready")).to_have_text("Prepare the plan")
    expect(row.locator("td.meets")).to_contain_text("'Prepare the plan' is there, with the same form")
    expect(row.locator("td.meets")).to_contain_text("will reach the new task 'Check the plan' in approval")
    expect(row.locator("td.verdict")).to_have_text("yes")

    page.locator("#select-all").check()
    page.get_by_role("button", name="Migrate selected").click()
    expect(page.locator("#moves tbody tr")).to_have_count(2, timeout=20000)
    session.expire_all()
    assert {session.get(ProcessInstance, i).version_id for i in (first, second)} == {v2.id}
    moves = {m.instance_id: m.id for m in session.scalars(select(InstanceMove))}

    Driver(session, services, users, second, utcnow() + timedelta(minutes=1)).complete("prepare")
    page.reload()
    stale = page.locator(f'#moves tr[data-move="{moves[second]}"]')
    expect(stale.get_by_role("button", name="Undo")).to_be_disabled()
    expect(stale).to_contain_text("Cannot undo: the relationship has moved on since: 1 task completed")
    fresh = page.locator(f'#moves tr[data-move="{moves[first]}"]')
    expect(fresh.get_by_role("button", name="Undo")).to_be_enabled()
    fresh.get_by_role("button", name="Undo").click()
    expect(page.locator(f'#moves tr[data-move="{moves[first]}"]')).to_contain_text("undone")
    session.expire_all()
    assert session.get(ProcessInstance, first).version_id == version.id
    assert session.get(ProcessInstance, second).version_id == v2.id
