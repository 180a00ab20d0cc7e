"""The audit trail of a relationship (its own events and those of its linked instances)."""

from __future__ import annotations

from marshmallow import RAISE
from sqlalchemy import func, select

from ..access import services as access
from ..api.common import blueprint, session, user
from ..audit.models import AuditEvent
from ..pagination import window
from ..relationships import services as relationships
from .schemas import EventArgs, EventPage

bp = blueprint("api_audit", "Who did what, when")


@bp.get("/relationships/<id:relationship_id>/events")
@bp.arguments(EventArgs, location="query", unknown=RAISE)
@bp.response(200, EventPage)
def events(args, relationship_id):
    """The relationship's audit events, oldest first, in pages."""
    db = session()
    access.relationship_or_404(db, relationship_id, user())
    members = access.member_ids(db, relationship_id)
    where = [AuditEvent.instance_id.in_(members)]
    if not access.sees_everything(user()):
        where.append(relationships.partner_trail(db, relationship_id, members))
    if args["action"]:
        where.append(AuditEvent.action == args["action"])
    total = db.scalar(select(func.count()).select_from(AuditEvent).where(*where))
    at = window(total, args["page"], args["per_page"])
    items = db.scalars(select(AuditEvent).where(*where).order_by(AuditEvent.at, AuditEvent.id)
                       .limit(at.per_page).offset(at.offset)).all()
    return at.as_dict(items)
