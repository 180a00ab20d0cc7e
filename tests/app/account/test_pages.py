"""The account page: change your password (the current one required, every refusal names its field and changes
nothing), and make and revoke API tokens in the browser (the secret shown once)."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import User

NEW = "a much longer passphrase"


def test_changing_the_password_needs_the_current_one_and_names_each_problem(session, users, signed_in,
                                                                            browser_client):
    staff = signed_in("staff")
    before = session.get(User, users["staff"].id).password_hash
    wrong = staff.post("/account/password", {"current_password": "nope", "new_password": "short",
                                             "confirm_password": "short"}, page="/account")
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 400
    assert 'id="current_password-error"' in html and 'id="new_password-error"' in html
    session.expire_all()
    assert session.get(User, users["staff"].id).password_hash == before, "nothing changed"
    differ = staff.post("/account/password", {"current_password": "correct horse battery staple",
                                              "new_password": NEW, "confirm_password": NEW + "!"}, page="/account")
    assert differ.status_code == 400 and 'id="confirm_password-error"' in differ.get_data(as_text=True)
    done = staff.post("/account/password", {"current_password": "correct horse battery staple",
                                            "new_password": NEW, "confirm_password": NEW}, page="/account")
    assert done.status_code == 302
    assert browser_client.sign_in("staff", NEW).status_code == 302
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.action == "user.password_changed"))


def test_a_token_made_in_the_browser_opens_the_api_until_it_is_revoked(app, signed_in):
    staff = signed_in("staff")
    made = staff.post("/account/tokens", {"name": "Reporting script", "days": "30"}, page="/account")
    html = made.get_data(as_text=True)
    secret = re.search(r'id="new-token-secret">([^<]+)<', html).group(1)
    assert made.headers["Cache-Control"] == "no-store"
    assert secret not in staff.get("/account").get_data(as_text=True), "shown once"
    api = app.test_client()
    assert api.get("/api/v1/tasks", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    token_id = re.search(r'data-token="(\d+)"', html).group(1)
    assert staff.post(f"/account/tokens/{token_id}/revoke", {}, page="/account").status_code == 302
    assert api.get("/api/v1/tasks", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    refused = staff.post("/account/tokens", {"name": "", "days": "30"}, page="/account")
    assert refused.status_code == 400 and "this field is required" in refused.get_data(as_text=True)


def test_your_sessions_are_listed_and_another_one_can_be_ended(signed_in):
    here, elsewhere = signed_in("staff"), signed_in("staff")
    page = here.get("/account").get_data(as_text=True)
    ids = re.findall(r'data-session="(\d+)"', page)
    assert len(ids) == 2 and page.count("this session") == 1
    other = next(i for i in ids if f'/account/sessions/{i}/end' in page)
    assert elsewhere.get("/inbox").status_code == 200
    assert here.post(f"/account/sessions/{other}/end", {}, page="/account").status_code == 302
    assert elsewhere.get("/inbox").status_code == 302, "that session has ended"
    assert here.get("/inbox").status_code == 200, "this one goes on"
