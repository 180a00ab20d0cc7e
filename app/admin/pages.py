"""Administration pages (`/admin`): organisations and people, the roles that must sign in with a second factor,
resetting a person's second factor; and the public page where a one-time link sets a password (`/welcome/<link>`)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from ..auth import second_factor
from ..auth.models import ROLES
from ..auth.permissions import Permission, require
from ..auth.session import me
from ..db import utcnow
from ..errors import BadRequest
from ..extensions import db_session, services
from . import services as admin

bp = Blueprint("admin", __name__)


def _base_url() -> str:
    return current_app.config.get("BASE_URL") or request.host_url


def _page(*, errors=None, values=None, new_link=None, org_errors=None, org_values=None, policy_errors=None,
          policy_values=None, status=200):
    require(me(), Permission.ADMINISTER_USERS, "administration is for administrators")
    session = db_session()
    organisations = admin.organisations(session, me())
    required = admin.second_factor_policy(session, me())
    return render_template("admin/index.html", organisations=organisations, people=admin.people(session, me()),
                           roles=ROLES, errors=errors or {}, values=values or {}, new_link=new_link,
                           org_errors=org_errors or {}, org_values=org_values or {}, section="admin",
                           totp_on=second_factor.enabled_user_ids(session), totp_roles=required,
                           policy_errors=policy_errors or {},
                           policy_values=required if policy_values is None else set(policy_values),
                           active_organisations=[o.organisation for o in organisations if o.organisation.active]
                           ), status, {"Cache-Control": "no-store"}


@bp.get("/admin")
def index():
    return _page()


@bp.post("/admin/organisations")
def add_organisation():
    form = request.form
    try:
        org = admin.add_organisation(db_session(), me(), name=form.get("name", ""), kind=form.get("kind", "partner"),
                                     contact_email=form.get("contact_email", ""), now=utcnow())
    except BadRequest as exc:
        return _page(org_errors=exc.errors, org_values=form.to_dict(), status=400)
    flash(f"Organisation {org.name!r} added.", "success")
    return redirect(url_for("admin.index"))


@bp.post("/admin/organisations/<id:organisation_id>/active")
def organisation_active(organisation_id: int):
    active = request.form.get("active") == "1"
    org = admin.set_organisation_active(db_session(), me(), organisation_id, active, now=utcnow())
    flash(f"{org.name} is {'active' if active else 'deactivated'}.", "success")
    return redirect(url_for("admin.index"))


@bp.post("/admin/people")
def invite():
    form = request.form
    organisation = form.get("organisation", "")
    try:
        link = admin.invite(db_session(), me(), username=form.get("username", ""),
                            display_name=form.get("display_name", ""), email=form.get("email", ""),
                            roles=form.getlist("roles"),
                            organisation_id=int(organisation) if organisation.isdigit() else None,
                            now=utcnow(), mail=services().mail, base_url=_base_url())
    except BadRequest as exc:
        return _page(errors=exc.errors, values={**form.to_dict(), "roles": form.getlist("roles")}, status=400)
    return _page(new_link=link)  # the link is shown once, here, in case the e-mail does not arrive


@bp.post("/admin/people/<id:user_id>/active")
def person_active(user_id: int):
    active = request.form.get("active") == "1"
    user = admin.set_active(db_session(), me(), user_id, active, now=utcnow())
    flash(f"{user.display_name} is {'active again' if active else 'deactivated: they can no longer sign in'}.",
          "success")
    return redirect(url_for("admin.index"))


@bp.post("/admin/second-factor")
def second_factor_policy():
    roles = request.form.getlist("required_roles")
    try:
        after = admin.set_second_factor_policy(db_session(), me(), roles, now=utcnow())
    except BadRequest as exc:
        return _page(policy_errors=exc.errors, policy_values=roles, status=400)
    named = ", ".join(r.replace("_", " ") for r in sorted(after)) or "no role"
    flash(f"Two-step sign-in is required for {named}.", "success")
    return redirect(url_for("admin.index", _anchor="second-factor-policy"))


@bp.post("/admin/people/<id:user_id>/second-factor/reset")
def second_factor_reset(user_id: int):
    try:
        user = admin.reset_second_factor(db_session(), me(), user_id, now=utcnow())
    except BadRequest as exc:
        flash(exc.message[:1].upper() + exc.message[1:] + ".", "error")
        return redirect(url_for("admin.index"))
    flash(f"{user.display_name}'s two-step sign-in is reset and their sessions have ended: they sign in with their "
          "password and set it up again.", "success")
    return redirect(url_for("admin.index"))


@bp.post("/admin/people/<id:user_id>/reset")
def reset(user_id: int):
    link = admin.send_reset(db_session(), me(), user_id, now=utcnow(), mail=services().mail, base_url=_base_url())
    return _page(new_link=link)


@bp.route("/welcome/<string(maxlength=100):secret>", methods=["GET", "POST"])
def welcome(secret: str):
    """Public: the one-time link sets the person's password, then they sign in."""
    session, now = db_session(), utcnow()
    link = admin.valid_link(session, secret, now=now)
    if link is None:
        return render_template("admin/welcome.html", link=None, errors={}), 404
    errors = {}
    if request.method == "POST":
        try:
            user = admin.use_link(session, secret, request.form.get("new_password", ""),
                                  request.form.get("confirm_password", ""), now=now)
        except BadRequest as exc:
            errors = exc.errors
        else:
            flash(f"Your password is set, {user.display_name}. Sign in with your username {user.username!r}.",
                  "success")
            return redirect(url_for("auth.sign_in"))
    return render_template("admin/welcome.html", link=link, errors=errors), 400 if errors else 200
