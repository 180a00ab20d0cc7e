"""Pages: the list of relationships with their progress, starting one, one relationship, its diagrams."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from ..auth.session import me
from ..db import utcnow
from ..errors import BadRequest, Forbidden
from ..extensions import db_session, services
from ..inbox.stages import STAGES
from . import diagrams
from . import services as relationships

bp = Blueprint("relationships", __name__)


@bp.get("/relationships")
def index():
    status = request.args.get("status", "")
    return _list(status=status)


@bp.post("/relationships")
def start():
    session = db_session()
    title, partner = request.form.get("title", ""), request.form.get("partner", "")
    try:
        result = relationships.start(session, services().workflows, me(), title=title, partner=partner,
                                     now=utcnow())
    except BadRequest as exc:
        return _list(errors=exc.errors or {"(form)": exc.message}, message=exc.message,
                     typed={"title": title, "partner": partner}, status_code=400)
    except Forbidden as exc:
        return _list(errors={"(form)": exc.message}, message=exc.message,
                     typed={"title": title, "partner": partner}, status_code=403)
    flash(f"Started the relationship {title.strip()!r}.", "success")
    return redirect(url_for("relationships.show", relationship_id=result.instance_id))


@bp.get("/relationships/<id:relationship_id>")
def show(relationship_id: int):
    everything = request.args.get("trail") == "all"
    detail = relationships.relationship(db_session(), relationship_id, now=utcnow(), trail=None if everything else 50)
    return render_template("relationships/show.html", detail=detail, stages=STAGES, now=utcnow())


@bp.get("/versions/<id:version_id>/diagrams/<name>")
def diagram_xml(version_id: int, name: str):
    content = diagrams.diagram_xml(db_session(), version_id, name)
    return Response(content, mimetype="application/xml", headers={"Cache-Control": "private, max-age=3600"})


def _list(*, status="", errors=None, message=None, typed=None, status_code=200):
    session = db_session()
    found = relationships.summaries(session, now=utcnow(), status=status)
    return render_template("relationships/index.html", relationships=found, stages=STAGES, status=status,
                           errors=errors or {}, message=message, typed=typed or {},
                           can_start="admin" in me().roles or bool(me().roles & {"staff", "ser", "jmt"}),
                           lifecycle=relationships.lifecycle_deployed(session), now=utcnow()), status_code
