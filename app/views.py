"""Pages that belong to no domain: the landing page and the health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from sqlalchemy import func, select, text

from .extensions import db_session
from .processes.models import HumanTask, ProcessInstance, ProcessVersion

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    session = db_session()
    version = session.scalar(select(ProcessVersion).order_by(ProcessVersion.id.desc()).limit(1))
    counts = {
        "relationships": session.scalar(select(func.count()).select_from(ProcessInstance)
                                        .where(ProcessInstance.parent_id.is_(None))),
        "open_tasks": session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.state == "ready")),
    }
    return render_template("index.html", version=version, counts=counts)


@bp.get("/healthz")
def health():
    db_session().execute(text("select 1"))
    return jsonify(status="ok")
