"""The organisation's home ("Management system"): the clauses' state, the internal assessment every relationship
relies on, what is open, the review calendar, nonconformities and the maturity trend. Our organisation only."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for

from ..auth.permissions import Permission, require
from ..auth.session import me
from ..compliance import services as compliance
from ..compliance.pages import finding_link
from ..db import utcnow
from ..errors import BadRequest, Forbidden
from ..extensions import db_session, services
from ..registers.kinds import REGISTERS
from ..requirements import ORGANISATION
from . import charts
from . import services as management

bp = Blueprint("management", __name__)


def _reader():
    user = me()
    if user.is_partner:
        raise Forbidden("the management system is our own organisation's record")
    require(user, Permission.READ_MANAGEMENT_SYSTEM, "your roles do not let you read the management system")
    return user


@bp.get("/management")
def home(message=None, status_code=200):
    _reader()
    session, now = db_session(), utcnow()
    found = management.overview(session, now)
    rows = compliance.matrix(session, found.management_system.id, now=now, scope=ORGANISATION) \
        if found.management_system else []
    clauses: dict[str, list] = {}
    for row in rows:
        clauses.setdefault(f"{row.requirement.stage} · {row.requirement.stage_name}", []).append(row)
    entries = management.portfolio(session)
    return render_template("management/home.html", overview=found, clauses=clauses, summary=compliance.summary(rows),
                           statuses=compliance.STATUSES, now=now, message=message, section="management",
                           maturity_chart=charts.maturity_chart(found.maturity), portfolio=entries,
                           portfolio_chart=charts.portfolio_matrix(entries), finding=finding_link(me()),
                           registers=[r for r in REGISTERS.values() if r.scope in ("both", ORGANISATION)
                                      and r.name != "issues"]), status_code


@bp.post("/management/start")
def start():
    user = _reader()
    require(user, Permission.SET_UP_MANAGEMENT_SYSTEM, "top management or an administrator sets it up")
    session = db_session()
    try:
        management.start(session, services().workflows, user, now=utcnow(), mail=services().mail)
    except BadRequest as exc:
        session.rollback()
        return home(message=exc.message, status_code=409)
    flash("The management system is set up: its first tasks (appointing the SER, the policy, the context) are in "
          "the inbox of the people whose lanes they are in.", "success")
    return redirect(url_for("management.home"))
