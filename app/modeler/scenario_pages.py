"""Pages of the workbench's scenarios (`/processes/scenarios`): the latest version's scenarios with their last result,
the scenario page (edit the JSON, save it to the drafts, run it against the latest version or the drafts), and
"Save as a scenario" from an instance's page. The routes live on the workbench's blueprint (owners only)."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for

from ..auth.session import me
from ..db import utcnow
from ..errors import BadRequest, NotFound
from ..extensions import db_session, services
from ..processes.services import latest_version
from . import scenarios
from .pages import bp


@bp.get("/scenarios")
def scenarios_index():
    return render_template("modeler/scenarios.html", listed=scenarios.listing(db_session(), me()))


@bp.post("/scenarios/run-all")
def scenarios_run_all():
    """Run the latest version's scenarios against it (each run audited), for the list's last results."""
    session = db_session()
    latest = latest_version(session)
    if latest is None:
        raise NotFound("no version is deployed yet")
    results = scenarios.run_version(session, services().workflows, me(), latest.id, now=utcnow())
    failed = [r for r in results if not r.passed]
    flash(f"{len(results) - len(failed)} of {len(results)} scenarios passed on version {latest.id}"
          + (f"; {failed[0].name} fails at {failed[0].failure.message}" if failed else "."),
          "success" if not failed else "error")
    return redirect(url_for("modeler.scenarios_index"))


@bp.get("/scenarios/<name>")
def scenario_page(name: str):
    text, source = scenarios.scenario_text(db_session(), me(), name)
    return render_template("modeler/scenario.html", name=name, text=text, source=source,
                           last=scenarios.last_run(db_session(), name))


@bp.post("/scenarios")
def scenario_save():
    """Save the scenario typed on the page to the drafts; a scenario that cannot be read comes back with its
    problems and everything typed kept."""
    form = request.form
    name, text = form.get("name", "").strip(), form.get("text", "")
    try:
        scenarios.save(db_session(), me(), name, text, now=utcnow())
    except BadRequest as exc:
        db_session().rollback()
        return render_template("modeler/scenario.html", name=name, text=text, source="typed", last=None,
                               refused=exc), 400
    return redirect(url_for("modeler.scenario_page", name=name, saved=1))


@bp.post("/scenarios/<name>/run")
def scenario_run(name: str):
    """Run the scenario as typed (JSON {text, against}); answers the result per step."""
    payload = request.get_json(silent=True) or request.form.to_dict()
    result = scenarios.run(db_session(), services().workflows, me(), name, payload.get("text") or "",
                           against=payload.get("against") or "latest", now=utcnow())
    return jsonify(result.as_dict())


@bp.post("/instances/<id:instance_id>/scenario")
def scenario_record(instance_id: int):
    """Build a scenario from the instance's history and open it on the scenario page, not saved yet."""
    name, text = scenarios.from_instance(db_session(), services().workflows, me(), instance_id)
    return render_template("modeler/scenario.html", name=name, text=text, source=f"recorded from instance "
                           f"{instance_id}, not saved yet", last=None, recorded=True)
