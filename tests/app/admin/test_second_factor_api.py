"""The administration API's side of two-step sign-in: the policy (which roles must use a second factor) read and
set, each person's state, and the reset of a lost second factor, which ends that person's sessions."""

from __future__ import annotations

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth import second_factor
from tests.support.web import enrol_second_factor


def test_the_api_reads_and_sets_the_policy_and_resets_a_second_factor(app, session, users, api, signed_in, clock):
    admin, staff_api = api("admin"), api("staff")
    assert admin.get("admin/second-factor").get_json() == {
        "required_roles": [], "roles": ["staff", "ser", "jmt", "process_owner", "assessor", "admin", "top_management"]}
    refused = admin.call("PUT", "admin/second-factor", {"required_roles": ["ser", "janitor"]})
    assert refused.status_code == 422 and "required_roles" in refused.get_json()["errors"]
    assert admin.call("PUT", "admin/second-factor", {}).status_code == 422
    assert staff_api.call("PUT", "admin/second-factor", {"required_roles": []}).status_code == 403
    done = admin.call("PUT", "admin/second-factor", {"required_roles": ["admin", "ser", "process_owner"]})
    assert done.status_code == 200 and done.get_json()["required_roles"] == ["admin", "process_owner", "ser"]
    assert admin.get("tasks").status_code == 200  # the administrator's token keeps working, required or not
    assert second_factor.must_enrol(session, users["ser"]) and not second_factor.must_enrol(session, users["staff"])
    assert session.scalar(select(AuditEvent.payload).where(AuditEvent.action == "security.policy_changed")) == {
        "policy": "second_factor_roles", "before": [], "after": ["admin", "process_owner", "ser"]}

    staff = signed_in("staff")
    enrol_second_factor(staff, clock.now)
    people = {p["username"]: p for p in admin.get("admin/users").get_json()}
    assert people["staff"]["second_factor"] is True and people["ser"]["second_factor"] is False
    reset = admin.post(f"admin/users/{users['staff'].id}/second-factor/reset", None)
    assert reset.status_code == 200 and reset.get_json()["second_factor"] is False
    assert staff.get("/inbox").status_code == 302, "their session ended"
    again = admin.post(f"admin/users/{users['staff'].id}/second-factor/reset", None)
    assert again.status_code == 400 and set(again.get_json()) == {"code", "status", "message", "errors"}
    assert admin.post("admin/users/999999/second-factor/reset", None).status_code == 404
    assert staff_api.post(f"admin/users/{users['ser'].id}/second-factor/reset", None).status_code == 403
    assert session.scalar(select(AuditEvent.actor).where(AuditEvent.action == "user.totp_reset")) == "admin"
    paths = admin.get("openapi.json").get_json()["paths"]
    assert {"get", "put"} <= set(paths["/api/v1/admin/second-factor"])
    assert "post" in paths["/api/v1/admin/users/{user_id}/second-factor/reset"]
