"""Pages of the process owner workbench (`/processes`): versions, the modeller, uploads, diffs, migration, forms.

Only process owners and administrators get past `_owners_only`; the services check the same rule again.
Endpoints the page scripts call answer JSON (they send `Accept: application/json` and the CSRF token header).
"""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from workflows import MAX_SCRIPT_CHARS, Conflict, MigrationRefused, check_script

from ..auth.session import me
from ..db import utcnow
from ..errors import BadRequest, NotFound
from ..extensions import db_session, services
from ..inbox.binding import build_fields, read_form, titles
from ..inbox.binding import check as check_answers
from ..pages import id_arg
from ..processes import versioning
from ..processes.services import latest_version
from ..requirements import periodic_reviews
from . import diagrams, new_form
from . import services as workbench

bp = Blueprint("modeler", __name__, url_prefix="/processes")

MIGRATE_BATCH = 5


@bp.before_request
def _owners_only():
    workbench.require_owner(me())


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _payload() -> dict:
    return request.get_json(silent=True) or request.form.to_dict()


def _max_bytes() -> int:
    return int(current_app.config["UPLOAD_MAX_BYTES"])


# -------------------------------------------------------------------- 1. versions and files
@bp.get("")
def index():
    session = db_session()
    versions = workbench.history(session)
    latest = versions[0] if versions else None
    return render_template("modeler/index.html", versions=versions, latest=latest,
                           drafts=workbench.drafts(session, me()), running=workbench.running_counts(session))


@bp.get("/versions/<id:version_id>/files/<kind>/<name>")
def download(version_id: int, kind: str, name: str):
    row = workbench.version_file(db_session(), version_id, kind, name)
    return _attachment(row.content, name, "application/json" if kind in ("form", "scenario") else "application/xml")


@bp.get("/versions/<id:version_id>/xml/<name>")
def version_xml(version_id: int, name: str):
    row = workbench.version_file(db_session(), version_id, "bpmn", name)
    return Response(row.content, mimetype="application/xml", headers={"Cache-Control": "private, max-age=3600"})


def _attachment(content: bytes, name: str, mimetype: str):
    response = send_file(io.BytesIO(content), mimetype=mimetype, as_attachment=True, download_name=name,
                         etag=False, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


# -------------------------------------------------------------------- 2. the modeller and the decision tables
# A diagram (kind `bpmn`, the bpmn-js Modeler) and a decision table (kind `dmn`, the dmn-js editor) are opened,
# saved as drafts, validated and deployed the same way, by the same services.
EDITORS = {"bpmn": ("modeler.modeller", "modeler/modeller.html", "diagram"),
           "dmn": ("modeler.decision_editor", "modeler/decision.html", "decision table")}


def _editor(kind: str, name: str):
    session = db_session()
    workbench.check_name(kind, name)
    version_id = id_arg("version")
    latest = latest_version(session)
    if version_id is not None:
        workbench.version_or_404(session, version_id)
    mine = workbench.draft(session, me(), kind, name)
    source = "draft" if mine is not None and version_id is None else f"version {version_id or getattr(latest, 'id', '')}"
    if mine is None and version_id is None:
        workbench.file_content(session, me(), kind, name)  # 404 when no version has it
    versions_with_file = [v for v in workbench.history(session) if any(
        f.kind == kind and f.name == name for f in v.files)]
    return render_template(EDITORS[kind][1], name=name, kind=kind, version_id=version_id, latest=latest, draft=mine,
                           source=source, forms=workbench.form_names(session, me()),
                           versions_with_file=versions_with_file,
                           requirements=workbench.known_requirements(session),
                           connectors=workbench.connector_catalogue(),
                           decisions=workbench.decision_choices(session, me()) if kind == "bpmn" else [],
                           callers=diagrams.process_callers(workbench.candidate(session, me())[0]) if kind == "bpmn" else {},
                           drafts=workbench.drafts(session, me()))


def _source(kind: str, name: str):
    workbench.check_name(kind, name)
    content, _source = workbench.file_content(db_session(), me(), kind, name, version_id=id_arg("version"))
    return Response(content, mimetype="application/xml", headers={"Cache-Control": "no-store"})


def _posted_xml() -> bytes:
    xml = _payload().get("xml") or ""
    if not xml.strip():
        raise BadRequest("no diagram was sent", errors={"xml": "required"})
    content = xml.encode("utf-8")
    if len(content) > _max_bytes():
        raise BadRequest(f"the diagram is {len(content):,} bytes; the limit is {_max_bytes():,}")
    return content


def _save_draft(kind: str, name: str):
    session = db_session()
    latest = latest_version(session)
    row = workbench.save_draft(session, me(), kind, name, _posted_xml(),
                               base_version_id=getattr(latest, "id", None), max_bytes=_max_bytes(), now=utcnow(),
                               automatic=_payload().get("auto") is True)
    if _wants_json():
        return jsonify(saved=True, name=name, updated_at=row.updated_at.isoformat(), size=len(row.content))
    flash(f"Saved your draft of {name}.", "success")
    return redirect(url_for(EDITORS[kind][0], name=name))


def _problems(problems) -> list[dict]:
    return [p.as_dict() for p in problems]


def _validate(kind: str, name: str):
    outcome = workbench.validate_file(db_session(), services().workflows, me(), kind, name, _posted_xml())
    return jsonify(ok=outcome.ok, problems=_problems(outcome.problems), drafts=outcome.drafts_used)


def _deploy(kind: str, name: str):
    content = _posted_xml()
    outcome = workbench.deploy_file(db_session(), services().workflows, me(), kind, name, content,
                                    message=_payload().get("message", ""), now=utcnow())
    if not outcome.ok:
        return jsonify(ok=False, problems=_problems(outcome.problems), drafts=outcome.drafts_used), 422
    return jsonify(ok=True, version_id=outcome.version.id, problems=_problems(outcome.problems),
                   drafts=outcome.drafts_used, url=url_for("modeler.index"))


@bp.get("/diagrams/<name>")
def modeller(name: str):
    return _editor("bpmn", name)


@bp.get("/diagrams/<name>/xml")
def diagram_source(name: str):
    return _source("bpmn", name)


@bp.post("/diagrams/<name>/draft")
def save_diagram_draft(name: str):
    return _save_draft("bpmn", name)


@bp.post("/diagrams/<name>/validate")
def validate(name: str):
    return _validate("bpmn", name)


@bp.post("/diagrams/<name>/deploy")
def deploy(name: str):
    return _deploy("bpmn", name)


@bp.post("/check-script")
def check_script_text():
    """A script, pre-script or post-script as validation would see it, for the modeller's editors as the owner
    types: {ok, problems: [{line, message}]}. Changes nothing; text over the size bound is refused (400)."""
    if (request.content_length or 0) > 4 * MAX_SCRIPT_CHARS + 1024:
        raise BadRequest(f"the script is too long to check; the limit is {MAX_SCRIPT_CHARS:,} characters",
                         errors={"script": "too long"})
    payload = _payload()
    script, kind = payload.get("script", ""), payload.get("kind") or "script"
    if not isinstance(script, str):
        raise BadRequest("the script must be text", errors={"script": "not text"})
    if kind not in ("script", "preScript", "postScript"):
        raise BadRequest("kind must be script, preScript or postScript", errors={"kind": "unknown"})
    if len(script) > MAX_SCRIPT_CHARS:
        raise BadRequest(f"the script is {len(script):,} characters long; the limit is {MAX_SCRIPT_CHARS:,}",
                         errors={"script": "too long"})
    problems = check_script(script, kind)
    return jsonify(ok=not problems, problems=[p.as_dict() for p in problems])


@bp.get("/review-cadences")
def review_cadences():
    """The catalogue's recurring reviews (id, what they review, default cycle), named in the cadence settings."""
    return jsonify(reviews=[{"id": r.id, "what": r.what, "default_cycle": r.default_cycle,
                             "requirement": r.requirement} for r in periodic_reviews()])


@bp.get("/decisions/<name>")
def decision_editor(name: str):
    return _editor("dmn", name)


@bp.get("/decisions/<name>/xml")
def decision_source(name: str):
    return _source("dmn", name)


@bp.post("/decisions/<name>/draft")
def save_decision_draft(name: str):
    return _save_draft("dmn", name)


@bp.post("/decisions/<name>/validate")
def validate_decision(name: str):
    return _validate("dmn", name)


@bp.post("/decisions/<name>/deploy")
def deploy_decision(name: str):
    return _deploy("dmn", name)


@bp.post("/drafts/<kind>/<name>/discard")
def discard(kind: str, name: str):
    workbench.check_name(kind, name)
    if workbench.discard_draft(db_session(), me(), kind, name, now=utcnow()):
        flash(f"Discarded your draft of {name}.", "success")
    return redirect(request.form.get("next") or url_for("modeler.index"))


# -------------------------------------------------------------------- 3. uploads
@bp.get("/upload")
def upload_page():
    return _uploads_page()


def _uploads_page(error: str | None = None, status: int = 200):
    session = db_session()
    return render_template("modeler/upload.html", uploads=workbench.uploads(session), error=error,
                           max_bytes=_max_bytes(), latest=latest_version(session)), status


@bp.post("/upload")
def upload():
    posted = request.files.get("file")
    if posted is None or not posted.filename:
        return _uploads_page("Choose a .bpmn file to upload.", 400)
    content = posted.stream.read(_max_bytes() + 1)
    try:
        row = workbench.upload(db_session(), services().workflows, me(), posted.filename, content, max_bytes=_max_bytes(), now=utcnow())
    except BadRequest as exc:
        return _uploads_page(exc.message, 400)
    return redirect(url_for("modeler.upload_show", upload_id=row.id))


@bp.get("/uploads/<id:upload_id>")
def upload_show(upload_id: int, message: str | None = None, status: int = 200, refused=None):
    row = workbench.upload_or_404(db_session(), upload_id)
    problems = row.verdict.get("problems", [])
    markers = {p["element_id"]: "cf-problem" for p in problems if p.get("element_id")}
    return render_template("modeler/upload_show.html", upload=row, problems=problems,
                           replaceable=workbench.replaceable_files(db_session(), row),
                           draft_name=workbench.upload_name(row),
                           processes=row.verdict.get("processes", []), markers=markers,
                           lanes=row.verdict.get("lanes", []), lane_choices=LANE_CHOICES,
                           mapped=row.verdict.get("lane_roles") or {}, message=message,
                           refused=_problems(refused or [])), status


LANE_CHOICES = [("staff", "Staff"), ("ser", "SER"), ("jmt", "Joint management team"),
                ("top_management", "Top management"), ("partner:ser", "Partner SER (the partner's people)"),
                ("partner:staff", "Partner staff")]


def _posted_lanes(lanes: list[dict]) -> dict:
    """The mapping step's form: one choice per lane, `partner:<role>` for a lane the partner's people work."""
    chosen = {}
    for index, lane in enumerate(lanes):
        value = request.form.get(f"lane-{index}", "")
        if value:
            partner, _, role = value.rpartition(":")
            chosen[lane["lane"]] = {"role": role, "partner_side": partner == "partner"}
    return chosen


@bp.post("/uploads/<id:upload_id>/lanes")
def upload_lanes(upload_id: int):
    session = db_session()
    row = workbench.upload_or_404(session, upload_id)
    try:
        workbench.map_upload_lanes(session, services().workflows, me(), upload_id,
                                   _posted_lanes(row.verdict.get("lanes", [])), now=utcnow())
    except BadRequest as exc:
        session.rollback()
        return upload_show(upload_id, message=exc.message, status=400)
    flash("Lanes mapped: the verdict below is checked again with them.", "success")
    return redirect(url_for("modeler.upload_show", upload_id=upload_id))


@bp.post("/uploads/<id:upload_id>/deploy")
def upload_deploy(upload_id: int):
    """Deploy the latest version with this upload added (or replacing its file) and its lane mapping."""
    session = db_session()
    row = workbench.upload_or_404(session, upload_id)
    try:
        name, _replaces = workbench.upload_target(session, row, request.form.get("target"))
        outcome = workbench.deploy_file(session, services().workflows, me(), "bpmn", name,
                                        row.content, message=request.form.get("message", ""), now=utcnow(),
                                        lane_roles=row.verdict.get("lane_roles"))
    except BadRequest as exc:
        session.rollback()
        return upload_show(upload_id, message=exc.message, status=400)
    if not outcome.ok:
        return upload_show(upload_id, message="Not deployed: the version it would make has the problems below; "
                                              "nothing changed.", status=422, refused=outcome.problems)
    flash(f"Deployed as version {outcome.version.id} with {name}.", "success")
    return redirect(url_for("modeler.index"))


@bp.get("/uploads/<id:upload_id>/download")
def upload_download(upload_id: int):
    row = workbench.upload_or_404(db_session(), upload_id)
    return _attachment(row.content, row.filename, "application/xml")


@bp.get("/uploads/<id:upload_id>/xml")
def upload_xml(upload_id: int):
    row = workbench.upload_or_404(db_session(), upload_id)
    return Response(row.content, mimetype="application/xml", headers={"Cache-Control": "no-store"})


@bp.post("/uploads/<id:upload_id>/draft")
def upload_to_draft(upload_id: int):
    """The upload becomes a draft: of a file of its own, or (the owner's explicit choice) of the deployed diagram
    that already holds its processes, which the draft then replaces under that diagram's name."""
    session = db_session()
    row = workbench.upload_or_404(session, upload_id)
    try:
        name, replaces = workbench.upload_target(session, row, request.form.get("target"), request.form.get("name"))
        latest = latest_version(session)
        workbench.save_draft(session, me(), "bpmn", name, row.content, max_bytes=_max_bytes(), now=utcnow(),
                             base_version_id=getattr(latest, "id", None) if replaces else None,
                             audit={"upload_id": row.id, "uploaded_as": row.filename, "replaces": replaces})
    except BadRequest as exc:
        session.rollback()
        return upload_show(upload_id, message=exc.message, status=400)
    flash(f"{row.filename} is now your draft {name}" + (f", replacing the deployed {replaces}" if replaces else "")
          + ": edit it, validate and deploy.", "success")
    return redirect(url_for("modeler.modeller", name=name))


# -------------------------------------------------------------------- 4. diff and roll back
@bp.get("/versions/<id:old_id>/diff/<id:new_id>")
def diff(old_id: int, new_id: int):
    session = db_session()
    old, new = workbench.version_or_404(session, old_id), workbench.version_or_404(session, new_id)
    changes = versioning.compare(session, services().workflows, old_id, new_id)
    return render_template("modeler/diff.html", old=old, new=new, diff=changes,
                           files=diagrams.diff_by_file(old, new, changes), latest=latest_version(session),
                           forms=versioning.compare_forms(session, old_id, new_id))


@bp.get("/versions/<id:version_id>/roll-back")
def roll_back_page(version_id: int, message: str = "", error: str | None = None, status: int = 200):
    """The confirmation a roll back needs: which running instances can follow the old diagrams and which cannot."""
    impact = versioning.roll_back_impact(db_session(), services().workflows, user=me(), version_id=version_id)
    return render_template("modeler/roll_back.html", impact=impact, message=message, error=error), status


@bp.post("/versions/<id:version_id>/roll-back")
def roll_back(version_id: int):
    session = db_session()
    message = request.form.get("message", "")
    try:
        version = versioning.roll_back(session, services().workflows, user=me(), version_id=version_id,
                                       message=message, now=utcnow())
    except BadRequest as exc:
        session.rollback()
        return roll_back_page(version_id, message=message, error=exc.message, status=400)
    flash(f"Rolled back: version {version.id} has the files of version {version_id}.", "success")
    return redirect(url_for("modeler.index"))


# -------------------------------------------------------------------- 5. migration
@bp.get("/migrate")
def migrate_page():
    session = db_session()
    latest = latest_version(session)
    to = id_arg("to") or getattr(latest, "id", None)
    if to is None:
        raise NotFound("no version is deployed yet")
    workbench.version_or_404(session, to)
    rows = versioning.dry_run(session, services().workflows, user=me(), to_version_id=to)
    return render_template("modeler/migrate.html", to=to, rows=rows, versions=workbench.history(session),
                           moves=workbench.recent_moves(session), batch=MIGRATE_BATCH)


@bp.post("/migrate")
def migrate():
    session = db_session()
    payload = request.get_json(silent=True)
    if payload is not None:
        to, ids = payload.get("to"), payload.get("instances") or []
    else:
        to, ids = request.form.get("to", type=int), request.form.getlist("instance")
    try:
        to = int(to)
        ids = [int(i) for i in ids]
    except (TypeError, ValueError):
        raise BadRequest("choose a version and the instances to move") from None
    if not ids:
        raise BadRequest("choose at least one instance to move")
    outcome = versioning.migrate(session, services().workflows, user=me(), instance_ids=ids, to_version_id=to,
                                 now=utcnow(), mail=services().mail)
    moved = [i for i, why in outcome.items() if why is None]
    refused = {str(i): why for i, why in outcome.items() if why is not None}
    if payload is not None:
        return jsonify(moved=moved, refused=refused)
    flash(f"Moved {len(moved)} of {len(ids)} instance(s) to version {to}." +
          (" Not moved: " + "; ".join(f"#{i}: {why}" for i, why in refused.items()) if refused else ""),
          "success" if not refused else "error")
    return redirect(url_for("modeler.migrate_page", to=to))


@bp.post("/moves/<id:move_id>/undo")
def undo(move_id: int):
    try:
        versioning.undo(db_session(), services().workflows, user=me(), move_id=move_id, now=utcnow(),
                        mail=services().mail)
    except (MigrationRefused, Conflict) as exc:
        db_session().rollback()
        if _wants_json():
            return jsonify(undone=False, message=exc.message, reason=exc.details.get("reason", exc.message)), 409
        flash(f"Cannot undo migration #{move_id}: {exc.details.get('reason', exc.message)}", "error")
    else:
        if _wants_json():
            return jsonify(undone=True, move_id=move_id)
        flash(f"Undid migration #{move_id}: the instance is back on its old version.", "success")
    return redirect(request.form.get("next") or url_for("modeler.migrate_page"))


# -------------------------------------------------------------------- 6. forms
def _form_texts(base: str) -> tuple[str, str, dict[str, str]]:
    session = db_session()
    schema_name, ui_name = workbench.form_files(base)
    first_schema, first_ui = new_form.first_texts(schema_name[: -len(".schema.json")])
    texts, sources = {}, {}
    for key, name in (("schema", schema_name), ("ui", ui_name)):
        try:
            content, source = workbench.file_content(session, me(), "form", name)
        except NotFound:
            content, source = (first_ui if key == "ui" else first_schema).encode(), "new"
        texts[key], sources[key] = content.decode("utf-8", errors="replace"), source
    return texts["schema"], texts["ui"], sources


def _came_from(args) -> dict[str, str | None]:
    """Where the owner came from (the modeller's task, its diagram, its URL), kept through the builder and its save.
    Raises BadRequest for a return URL off this site or a malformed task id."""
    return {"for": new_form.check_element_id(args.get("for")), "diagram": (args.get("diagram") or "").strip()[:200],
            "return": new_form.safe_return(args.get("return"))}


@bp.get("/forms/new")
def form_new():
    came = _came_from(request.args)
    return render_template("modeler/form_new.html", came=came, name=new_form.suggest_name(came["for"]), error=None)


@bp.post("/forms/new")
def form_create():
    came = _came_from(request.form)
    typed = request.form.get("name", "")
    try:
        name = new_form.check_name(typed, workbench.form_names(db_session(), me()))
    except new_form.FormExists as exc:
        return render_template("modeler/form_new.html", came=came, name=typed, error=exc.message,
                               exists=exc.name,
                               exists_url=url_for("modeler.form_editor", name=exc.name, **_came_args(came))), 409
    except BadRequest as exc:
        return render_template("modeler/form_new.html", came=came, name=typed, error=exc.message), 400
    return redirect(url_for("modeler.form_editor", name=name, **_came_args(came)))


def _came_args(came: dict) -> dict:
    return {key: value for key, value in came.items() if value}


@bp.get("/forms/<name>")
def form_editor(name: str):
    came = _came_from(request.args)
    schema_text, ui_text, sources = _form_texts(name)
    return _form_page(name, schema_text, ui_text, sources, came=came)


def _form_page(name, schema_text, ui_text, sources, status=200, came=None):
    schema_name, ui_name = workbench.form_files(name)
    checked = workbench.check_form(schema_text, ui_text)
    base = schema_name[: -len(".schema.json")]
    return render_template("modeler/form.html", base=base, schema_name=schema_name, ui_name=ui_name,
                           schema_text=schema_text, ui_text=ui_text, sources=sources, checked=checked,
                           came=came or {}, came_args=_came_args(came or {}),
                           fields=build_fields(checked.schema, checked.ui, {}) if checked.schema else []), status


@bp.post("/forms/<name>/preview")
def form_preview(name: str):
    """The form as staff will see it; with `try` set, filled with the posted answers and their messages."""
    payload = _payload()
    checked = workbench.check_form(payload.get("schema", ""), payload.get("ui", ""))
    values, errors, tried = {}, {}, bool(payload.get("try")) and checked.schema is not None
    if tried:
        values = read_form(checked.schema, checked.ui, request.form)
        errors = check_answers(checked.schema, values)
    fields = build_fields(checked.schema, checked.ui, values, errors) if checked.schema else []
    return render_template("modeler/_preview.html", checked=checked, fields=fields, tried=tried,
                           problems=titles(fields) if tried else {}, errors=errors)


@bp.post("/forms/<name>")
def form_save(name: str):
    schema_text, ui_text = request.form.get("schema", ""), request.form.get("ui", "")
    came = _came_from(request.form)
    latest = latest_version(db_session())
    try:
        workbench.save_form(db_session(), me(), name, schema_text, ui_text,
                            base_version_id=getattr(latest, "id", None), now=utcnow(), for_element=came["for"],
                            diagram=came["diagram"] or None)
    except BadRequest as exc:
        flash(exc.message, "error")
        return _form_page(name, schema_text, ui_text, {"schema": "typed", "ui": "typed"}, 400, came=came)
    flash("Saved the form to your drafts: the next deploy includes it.", "success")
    if came["return"]:
        base = workbench.form_files(name)[0][: -len(".schema.json")]
        return redirect(new_form.return_url(came["return"], base, came["for"]))
    return redirect(url_for("modeler.form_editor", name=name, **_came_args(came)))


from . import scenario_pages  # noqa: E402,F401 (the scenario pages' routes are on this blueprint)
