"""The agenda: upcoming reviews, timers and task deadlines (the agenda page links here for its JSON)."""

from __future__ import annotations

from datetime import timedelta

from marshmallow import RAISE

from ..agenda.services import upcoming
from ..api.common import blueprint, now, session, user
from .schemas import HORIZONS, AgendaArgs, EntryOut

bp = blueprint("api_agenda", "Upcoming reviews, timers and deadlines")


@bp.get("/agenda")
@bp.arguments(AgendaArgs, location="query", unknown=RAISE)
@bp.response(200, EntryOut(many=True))
def index(args):
    """What falls due within the horizon (overdue deadlines included), earliest first."""
    moment = now()
    return upcoming(session(), now=moment, until=moment + timedelta(days=HORIZONS[args["horizon"]]),
                    relationship_id=args["relationship"], viewer=user())
