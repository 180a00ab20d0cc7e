"""The portfolio dashboard page (`/dashboard`, JSON with `?format=json`): our own organisation's users only; the
organisation's part (its management system) for those who may read the management system."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from ..access.services import require_own_organisation
from ..auth.permissions import Permission, may
from ..auth.session import me
from ..db import utcnow
from ..extensions import db_session
from ..processes import operations
from ..stages import STAGE_NAMES
from . import charts
from . import services as dashboard

bp = Blueprint("dashboard", __name__)


@bp.get("/dashboard")
def index():
    require_own_organisation(me(), "The portfolio dashboard")
    figures = dashboard.portfolio(db_session(), now=utcnow(),
                                  organisation=may(me(), Permission.READ_MANAGEMENT_SYSTEM))
    if request.args.get("format") == "json":
        return jsonify(dashboard.as_json(figures))
    drawn = {
        "stages": charts.stages_chart(figures.by_stage, STAGE_NAMES),
        "status": charts.status_chart(figures.by_status),
        "stage_times": charts.durations_chart(
            [(str(s.number), f"{s.number} · {s.name}", s.durations.median, s.durations.worst)
             for s in figures.stage_times], title="Time spent in each stage (median and worst)",
            chart_id="chart-stage-times"),
        "gate_times": charts.durations_chart(
            [(g.bpmn_id, g.name, g.durations.median, g.durations.worst) for g in figures.gate_times],
            title="Waiting at each SER gate (median and worst)", chart_id="chart-gate-times", label_width=300,
            width=700),
        "issues": charts.issues_chart(figures.issues_by_level),
        "heat_map": charts.heat_map(figures.heat_map),
        "value": charts.value_chart([(v.relationship_id, v.relationship, v.realised_value) for v in figures.value]),
        "maturity": charts.maturity_chart(figures.organisation.maturity) if figures.organisation else None,
        "nonconformities": charts.nonconformities_chart(figures.organisation.nonconformities)
        if figures.organisation else None,
    }
    instances = operations.counts(db_session()) if may(me(), Permission.ADMINISTER_INSTANCES) else None
    return render_template("dashboard/index.html", p=figures, charts=drawn, stages=STAGE_NAMES,
                           duration=charts.duration_text, instances=instances)
