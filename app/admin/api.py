"""Administration for integrators: organisations and people (administrators only; every action audited)."""

from __future__ import annotations

from flask import current_app

from ..api.common import blueprint, mail, now, session, user
from ..auth import second_factor
from ..auth.models import ROLES
from . import services as admin
from .schemas import (
    AdminOrganisationIn,
    AdminOrganisationOut,
    InviteIn,
    LinkOut,
    PersonOut,
    SecondFactorPolicyIn,
    SecondFactorPolicyOut,
)

bp = blueprint("api_admin", "Administration: organisations (ours and partners) and the people in them")


def _org(row) -> dict:
    o = row.organisation
    return {"id": o.id, "name": o.name, "kind": o.kind, "contact_email": o.contact_email, "active": o.active,
            "people": row.people, "sers": row.sers, "relationships": row.relationships}


def _person(u, with_totp: set[int] | None = None) -> dict:
    state = "deactivated" if not u.is_active else "invited" if u.password_hash is None else "active"
    on = u.id in with_totp if with_totp is not None else second_factor.enabled(session(), u)
    return {"id": u.id, "username": u.username, "display_name": u.display_name, "email": u.email,
            "organisation_id": u.organisation_id, "organisation": u.organisation.name, "roles": sorted(u.roles),
            "state": state, "second_factor": on}


def _link(link) -> dict:
    return {"person": _person(link.user), "url": link.url, "emailed": link.emailed}


@bp.get("/admin/organisations")
@bp.response(200, AdminOrganisationOut(many=True))
def organisations():
    """Every organisation with its active SERs, its people and the relationships it is the partner of."""
    return [_org(r) for r in admin.organisations(session(), user())]


@bp.post("/admin/organisations")
@bp.arguments(AdminOrganisationIn)
@bp.response(201, AdminOrganisationOut)
def add_organisation(args):
    """Add an organisation (a partner, usually)."""
    org = admin.add_organisation(session(), user(), now=now(), **args)
    return next(_org(r) for r in admin.organisations(session(), user()) if r.organisation.id == org.id)


@bp.get("/admin/users")
@bp.response(200, PersonOut(many=True))
def people():
    """Every person, active first."""
    people = admin.people(session(), user())
    with_totp = second_factor.enabled_user_ids(session())
    return [_person(u, with_totp) for u in people]


@bp.post("/admin/users")
@bp.arguments(InviteIn)
@bp.response(201, LinkOut)
def invite(args):
    """Invite a person: they get a one-time link (valid 7 days) that sets their password."""
    return _link(admin.invite(session(), user(), now=now(), mail=mail(), base_url=current_app.config["BASE_URL"],
                              **args))


@bp.post("/admin/users/<id:user_id>/deactivate")
@bp.response(200, PersonOut)
def deactivate(user_id):
    """They can no longer sign in, and their API tokens are revoked at once."""
    return _person(admin.set_active(session(), user(), user_id, False, now=now()))


@bp.post("/admin/users/<id:user_id>/reactivate")
@bp.response(200, PersonOut)
def reactivate(user_id):
    return _person(admin.set_active(session(), user(), user_id, True, now=now()))


@bp.post("/admin/users/<id:user_id>/password-link")
@bp.response(201, LinkOut)
def password_link(user_id):
    """Send a one-time link (valid 24 hours) that sets a new password."""
    return _link(admin.send_reset(session(), user(), user_id, now=now(), mail=mail(),
                                  base_url=current_app.config["BASE_URL"]))


@bp.get("/admin/second-factor")
@bp.response(200, SecondFactorPolicyOut)
def second_factor_policy():
    """The roles whose people must sign in with a second factor (TOTP)."""
    return {"required_roles": sorted(admin.second_factor_policy(session(), user())), "roles": list(ROLES)}


@bp.put("/admin/second-factor")
@bp.arguments(SecondFactorPolicyIn)
@bp.response(200, SecondFactorPolicyOut)
def set_second_factor_policy(args):
    """Require a second factor for exactly these roles (audited as `security.policy_changed`). Their people
    without one are sent to set it up after their password; API tokens keep working."""
    after = admin.set_second_factor_policy(session(), user(), args["required_roles"], now=now())
    return {"required_roles": sorted(after), "roles": list(ROLES)}


@bp.post("/admin/users/<id:user_id>/second-factor/reset")
@bp.response(200, PersonOut)
def reset_second_factor(user_id):
    """Remove the person's second factor and recovery codes (a lost phone) and end their browser sessions."""
    return _person(admin.reset_second_factor(session(), user(), user_id, now=now()))
