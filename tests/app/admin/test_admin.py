"""Administration in the browser's forms: add a partner organisation, invite its SER with a one-time link that sets
the password, who then signs in; deactivating a person ends their open session and revokes their tokens at once;
every refusal names its field and changes nothing."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.auth.models import Organisation, User
from app.db import utcnow
from app.relationships import services as relationships
from app.tokens.services import create_token

PASSWORD = "nadia's long passphrase"


def test_invite_a_partner_ser_who_sets_a_password_and_signs_in(session, services, users, signed_in, browser_client,
                                                               bundled):
    lonely = relationships.start(session, services.workflows, users["staff"], title="Nobody bid",
                                 partner="Nobody Ltd", now=utcnow())
    admin = signed_in("admin")
    assert 'data-no-ser' in admin.get("/admin").get_data(as_text=True)
    nobody = session.scalar(select(Organisation).where(Organisation.name == "Nobody Ltd"))
    refused = admin.post("/admin/people", {"display_name": "Nadia", "username": "N!", "email": "no",
                                           "organisation": str(nobody.id), "roles": ["admin"]}, page="/admin")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and all(f'id="invite-{f}-error"' in html for f in ("username", "email", "roles"))
    assert session.scalar(select(func.count()).select_from(User).where(User.display_name == "Nadia")) == 0

    invited = admin.post("/admin/people", {"display_name": "Nadia Nobody", "username": "nadia",
                                           "email": "nadia@nobody.test", "organisation": str(nobody.id),
                                           "roles": ["ser"]}, page="/admin")
    url = re.search(r'id="new-link-url">([^<]+)<', invited.get_data(as_text=True)).group(1)
    path = url[url.index("/welcome/"):]
    welcome = browser_client.get(path)
    assert welcome.status_code == 200
    short = browser_client.post(path, {"new_password": "short", "confirm_password": "short"})
    assert short.status_code == 400 and 'id="new_password-error"' in short.get_data(as_text=True)
    done = browser_client.post(path, {"new_password": PASSWORD, "confirm_password": PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/sign-in")
    assert browser_client.get(path).status_code == 404, "a link works once"
    assert browser_client.sign_in("nadia", PASSWORD).status_code == 302
    page = browser_client.get(f"/relationships/{lonely.instance_id}")
    assert page.status_code == 200, "the partner's SER sees their relationship"
    assert 'id="no-partner-ser"' not in signed_in("staff").get(f"/relationships/{lonely.instance_id}").get_data(
        as_text=True)
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"user.invited", "user.password_set"} <= actions


def test_deactivating_a_person_ends_their_session_and_tokens_at_once(app, session, users, signed_in):
    staff = signed_in("staff")
    secret = create_token(session, users["staff"], name="script", days=30, now=utcnow()).secret
    api = app.test_client()
    assert staff.get("/inbox").status_code == 200
    assert api.get("/api/v1/tasks", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    admin = signed_in("admin")
    assert admin.post(f"/admin/people/{users['staff'].id}/active", {"active": "0"}, page="/admin").status_code == 302
    assert staff.get("/inbox").status_code == 302, "the open session stops working"
    assert api.get("/api/v1/tasks", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert admin.post(f"/admin/people/{users['admin'].id}/active", {"active": "0"}, page="/admin").status_code == 400
    assert signed_in("ser").get("/admin").status_code == 403


def test_the_api_administers_organisations_and_people(app, session, users, signed_in):
    from app.tokens.services import create_token as make
    token = make(session, users["admin"], name="admin", days=1, now=utcnow()).secret
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    made = api.post("/api/v1/admin/organisations", json={"name": "Fabrikam"}, headers=headers)
    assert made.status_code == 201 and made.get_json()["sers"] == []
    invited = api.post("/api/v1/admin/users", headers=headers, json={
        "username": "fab-ser", "display_name": "Fab SER", "email": "ser@fabrikam.test", "roles": ["ser"],
        "organisation_id": made.get_json()["id"]})
    assert invited.status_code == 201 and invited.get_json()["person"]["state"] == "invited"
    assert "/welcome/" in invited.get_json()["url"]
    again = api.post("/api/v1/admin/users", headers=headers, json={
        "username": "fab-ser", "display_name": "Fab SER", "email": "ser@fabrikam.test", "roles": ["ser"],
        "organisation_id": made.get_json()["id"]})
    assert again.status_code == 400 and "username" in again.get_json()["errors"]
    staff = make(session, users["staff"], name="staff", days=1, now=utcnow()).secret
    assert api.get("/api/v1/admin/users", headers={"Authorization": f"Bearer {staff}"}).status_code == 403
    paths = api.get("/api/v1/openapi.json", headers=headers).get_json()["paths"]
    assert {"/api/v1/admin/organisations", "/api/v1/admin/users"} <= set(paths)
