"""The agenda: upcoming reviews, timers and task deadlines (the agenda page links here for its JSON)."""

from __future__ import annotations

from datetime import timedelta

from marshmallow import RAISE, Schema, fields, validate

from ..agenda.services import upcoming
from .common import In, blueprint, now, session, user

bp = blueprint("api_agenda", "Upcoming reviews, timers and deadlines")
HORIZONS = {"1m": 31, "3m": 92, "12m": 366}


class AgendaArgs(In):
    relationship = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
    horizon = fields.String(load_default="3m", validate=validate.OneOf(list(HORIZONS)))


class EntryOut(Schema):
    when = fields.DateTime()
    kind = fields.String(metadata={"description": "review | timer | deadline"})
    title = fields.String()
    relationship_id = fields.Integer()
    relationship = fields.String(allow_none=True)
    instance_id = fields.Integer()
    process_id = fields.String()
    task_id = fields.Integer(allow_none=True)
    overdue = fields.Boolean()


@bp.get("/agenda")
@bp.arguments(AgendaArgs, location="query", unknown=RAISE)
@bp.response(200, EntryOut(many=True))
def index(args):
    """What falls due within the horizon (overdue deadlines included), earliest first."""
    moment = now()
    return upcoming(session(), now=moment, until=moment + timedelta(days=HORIZONS[args["horizon"]]),
                    relationship_id=args["relationship"], viewer=user())
