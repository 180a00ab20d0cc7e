"""Administration in a real browser: invite a partner organisation's SER, who sets a password through the one-time
link and decides the joint stage-5 gate; deactivating a person ends their open session at once."""

from sqlalchemy import select

from app.auth.models import User
from app.db import utcnow
from app.relationships import services as relationships
from tests.support.browser import sign_in
from tests.support.driver import Driver

PASSWORD = "fabrikam's own passphrase"


def test_an_invited_partner_ser_sets_a_password_and_decides_the_joint_gate(live_server, page, browser, session,
                                                                          services, users, bundled):
    started = relationships.start(session, services.workflows, users["staff"], title="Fabrikam alliance",
                                  partner="Fabrikam", now=utcnow())
    sign_in(page, live_server, session, users["admin"])
    page.get_by_role("link", name="Administration").click()
    assert "no SER" in page.locator('#organisations tr', has_text="Fabrikam").inner_text()
    page.get_by_label("Name", exact=True).last.fill("Fay Fabrikam")
    page.get_by_label("Username").fill("fay")
    page.get_by_label("E-mail", exact=True).fill("fay@fabrikam.test")
    page.get_by_label("Organisation", exact=True).select_option(label="Fabrikam (partner)")
    page.get_by_label("ser", exact=True).check()
    page.get_by_role("button", name="Invite").click()
    link = page.locator("#new-link-url").inner_text()

    fay = browser.new_context().new_page()
    fay.goto(live_server + link[link.index("/welcome/"):])
    fay.get_by_label("New password", exact=True).fill(PASSWORD)
    fay.get_by_label("New password again").fill(PASSWORD)
    fay.get_by_role("button", name="Set password").click()
    assert "Your password is set" in fay.locator(".flash").inner_text()

    invited = session.scalar(select(User).where(User.username == "fay"))
    driver = Driver(session, services, {**users, "pser": invited}, started.instance_id, utcnow())
    driver.drive(until=lambda d: "s5_partner_ser_gate" in d.ready_names())

    fay.get_by_label("Username").fill("fay")
    fay.get_by_label("Password").fill(PASSWORD)
    fay.get_by_role("button", name="Sign in").click()
    fay.get_by_role("link", name="Partner SER approves stage 5").click()
    fay.get_by_label("Approve the Working together stage").check()
    fay.get_by_role("button", name="Record decision").click()
    assert "Approved: Partner SER approves stage 5." in fay.locator(".flash").first.inner_text()
    fay.context.close()


def test_deactivating_a_person_ends_their_open_session(live_server, page, browser, session, users):
    staff = browser.new_context().new_page()
    sign_in(staff, live_server, session, users["staff"])
    sign_in(page, live_server, session, users["admin"])
    page.get_by_role("link", name="Administration").click()
    page.locator(f'#people tr[data-user="{users["staff"].id}"]').get_by_role("button", name="Deactivate").click()
    assert "deactivated" in page.locator(".flash").inner_text()
    staff.goto(live_server + "/inbox")
    assert staff.url.startswith(live_server + "/sign-in"), staff.url
    staff.context.close()
