"""A token move in a real browser, four eyes: one administrator picks an instance in the operations console, proposes
to reopen a task done before, sees the dry run and proposes the move; the same administrator cannot approve it; a
second administrator sees the proposal with its dry run and approves it, and the task is open again."""

from playwright.sync_api import expect
from sqlalchemy import select

from app.auth.services import create_user
from app.processes import services
from app.processes.models import HumanTask, TokenMove
from tests.support.browser import sign_in


def test_a_second_administrator_approves_a_token_move_proposed_on_a_dry_run(live_server, page, browser, session,
                                                                             wf_engine, users, version):
    started = services.start_instance(session, wf_engine, user=users["staff"], process_id="approval",
                                      title="Plan for ACME")
    instance_id = started.instance_id
    prepare = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id))
    services.complete_task(session, wf_engine, user=users["staff"], human_task_id=prepare, data={"plan": "grow"})
    admin2 = create_user(session, "admin2", password=None, roles=["admin"], organisation="Us",
                         organisation_kind="own")
    session.commit()

    sign_in(page, live_server, session, users["admin"])
    page.get_by_role("link", name="Operations").click()
    page.get_by_label("Instance number").fill(str(instance_id))
    page.get_by_role("button", name="Show").click()
    page.get_by_label("Waiting task").select_option(label="Approve the plan")
    page.get_by_label("Move its token").select_option(label="Prepare the plan")
    page.get_by_label("Why move it").fill("The plan left out the budget")
    page.get_by_role("button", name="Dry run").click()
    dry_run = page.locator("#dry-run")
    assert "nothing was changed" in dry_run.inner_text()
    assert "Approve the plan" in dry_run.locator("dd").nth(0).inner_text()  # withdrawn
    assert "Prepare the plan" in dry_run.locator("dd").nth(1).inner_text()  # becomes ready
    page.get_by_role("button", name="Propose the move").click()
    assert "another administrator must approve it" in page.locator(".flash").inner_text()
    proposed = page.locator("#pending-moves tr[data-move]")
    assert "You proposed it" in proposed.inner_text()
    expect(proposed.get_by_role("button", name="Approve", exact=False)).to_have_count(0)
    move_id = session.scalar(select(TokenMove.id).where(TokenMove.instance_id == instance_id))

    context = browser.new_context()
    try:
        other = context.new_page()
        sign_in(other, live_server, session, admin2)
        other.goto(live_server + "/operations")
        row = other.locator(f'#pending-moves tr[data-move="{move_id}"]')
        assert "The plan left out the budget" in row.inner_text()
        assert "Prepare the plan" in row.locator(".dry-run").inner_text()
        row.get_by_label("Note (optional)").fill("Agreed with the SER")
        row.get_by_role("button", name=f"Approve move {move_id}").click()
        assert "approved and made" in other.locator(".flash").inner_text()
        assert "No token move waits for approval" in other.locator("#moves").inner_text()
    finally:
        context.close()
    session.expire_all()
    assert session.scalar(select(HumanTask.name).where(HumanTask.instance_id == instance_id,
                                                       HumanTask.state == "ready")) == "Prepare the plan"
    assert session.get(TokenMove, move_id).status == "applied"
