"""The agenda page: upcoming reviews, timers and deadlines, per relationship (JSON: the API's /api/v1/agenda)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template, request

from ..agenda.services import upcoming
from ..auth.session import me
from ..db import utcnow
from ..extensions import db_session
from ..pages import id_arg

bp = Blueprint("agenda", __name__)
HORIZONS = {"1m": 31, "3m": 92, "12m": 366}


def _query():
    relationship_id = id_arg("relationship")
    relationship = "" if relationship_id is None else str(relationship_id)
    horizon = request.args.get("horizon", "3m")
    horizon = horizon if horizon in HORIZONS else "3m"
    now = utcnow()
    entries = upcoming(db_session(), now=now, until=now + timedelta(days=HORIZONS[horizon]),
                       relationship_id=relationship_id, viewer=me())
    return entries, relationship, horizon, now


@bp.get("/agenda")
def index():
    entries, relationship, horizon, now = _query()
    months: dict[str, list] = {}
    for entry in entries:
        months.setdefault(entry.when.strftime("%B %Y"), []).append(entry)
    return render_template("agenda/index.html", months=months, relationship=relationship, horizon=horizon,
                           now=now, count=len(entries))
