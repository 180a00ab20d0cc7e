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

from workflows import Conflict, MigrationRefused

from ..auth.session import me
from ..db import utcnow
from ..errors import BadRequest, NotFound
from ..extensions import db_session, services
from ..inbox.binding import build_fields
from ..pages import id_arg
from ..processes import versioning
from ..processes.services import latest_version
from . import diagrams
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
    return _attachment(row.content, name, "application/json" if kind == "form" else "application/xml")


@bp.get("/versions/<id:version_id>/xml/<name>")
def version_xml(version_id: int, name: str):
    row = workbench.version_file(db_session(), version_id, "bpmn", name)
    return Response(row.content, mimetype="application/xml", headers={"Cache-Control": "private, max-age=3600"})


def _attachment(content: bytes, name: str, mimetype: str):
    response = send_file(io.BytesIO(content), mimetype=mimetype, as_attachment=True, download_name=name,
                         etag=False, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


# -------------------------------------------------------------------- 2. the modeller
@bp.get("/diagrams/<name>")
def modeller(name: str):
    session = db_session()
    workbench.check_name("bpmn", name)
    version_id = id_arg("version")
    latest = latest_version(session)
    if version_id is not None:
        workbench.version_or_404(session, version_id)
    mine = workbench.draft(session, me(), "bpmn", name)
    source = "draft" if mine is not None and version_id is None else f"version {version_id or getattr(latest, 'id', '')}"
    if mine is None and version_id is None:
        workbench.file_content(session, me(), "bpmn", name)  # 404 when no version has it
    versions_with_file = [v for v in workbench.history(session) if any(
        f.kind == "bpmn" and f.name == name for f in v.files)]
    return render_template("modeler/modeller.html", name=name, version_id=version_id, latest=latest, draft=mine,
                           source=source, forms=workbench.form_names(session, me()),
                           versions_with_file=versions_with_file,
                           requirements=workbench.known_requirements(session),
                           drafts=workbench.drafts(session, me()))


@bp.get("/diagrams/<name>/xml")
def diagram_source(name: str):
    workbench.check_name("bpmn", name)
    content, _source = workbench.file_content(db_session(), me(), "bpmn", name,
                                              version_id=id_arg("version"))
    return Response(content, mimetype="application/xml", headers={"Cache-Control": "no-store"})


def _posted_xml() -> bytes:
    xml = _payload().get("xml") or ""
    if not xml.strip():
        raise BadRequest("no diagram was sent", errors={"xml": "required"})
    content = xml.encode("utf-8")
    if len(content) > _max_bytes():
        raise BadRequest(f"the diagram is {len(content):,} bytes; the limit is {_max_bytes():,}")
    return content


@bp.post("/diagrams/<name>/draft")
def save_diagram_draft(name: str):
    session = db_session()
    latest = latest_version(session)
    row = workbench.save_draft(session, me(), "bpmn", name, _posted_xml(),
                               base_version_id=getattr(latest, "id", None), max_bytes=_max_bytes(), now=utcnow())
    if _wants_json():
        return jsonify(saved=True, name=name, updated_at=row.updated_at.isoformat(), size=len(row.content))
    flash(f"Saved your draft of {name}.", "success")
    return redirect(url_for("modeler.modeller", name=name))


@bp.post("/drafts/<kind>/<name>/discard")
def discard(kind: str, name: str):
    workbench.check_name(kind, name)
    if workbench.discard_draft(db_session(), me(), kind, name, now=utcnow()):
        flash(f"Discarded your draft of {name}.", "success")
    return redirect(request.form.get("next") or url_for("modeler.index"))


def _problems(problems) -> list[dict]:
    return [p.as_dict() for p in problems]


@bp.post("/diagrams/<name>/validate")
def validate(name: str):
    outcome = workbench.validate_file(db_session(), services().workflows, me(), "bpmn", name, _posted_xml())
    return jsonify(ok=outcome.ok, problems=_problems(outcome.problems), drafts=outcome.drafts_used)


@bp.post("/diagrams/<name>/deploy")
def deploy(name: str):
    content = _posted_xml()
    outcome = workbench.deploy_file(db_session(), services().workflows, me(), "bpmn", name, content,
                                    message=_payload().get("message", ""), now=utcnow())
    if not outcome.ok:
        return jsonify(ok=False, problems=_problems(outcome.problems), drafts=outcome.drafts_used), 422
    return jsonify(ok=True, version_id=outcome.version.id, problems=_problems(outcome.problems),
                   drafts=outcome.drafts_used, url=url_for("modeler.index"))


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
def upload_show(upload_id: int):
    row = workbench.upload_or_404(db_session(), upload_id)
    problems = row.verdict.get("problems", [])
    markers = {p["element_id"]: "cf-problem" for p in problems if p.get("element_id")}
    return render_template("modeler/upload_show.html", upload=row, problems=problems,
                           processes=row.verdict.get("processes", []), markers=markers)


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
    session = db_session()
    row = workbench.upload_or_404(session, upload_id)
    name = row.filename if row.filename.endswith(".bpmn") else row.filename.rsplit(".", 1)[0] + ".bpmn"
    name = request.form.get("name", "").strip() or name
    try:
        workbench.save_draft(session, me(), "bpmn", name, row.content, max_bytes=_max_bytes(), now=utcnow())
    except BadRequest as exc:
        flash(exc.message, "error")
        return redirect(url_for("modeler.upload_show", upload_id=upload_id))
    flash(f"{row.filename} is now your draft {name}: edit it, validate and deploy.", "success")
    return redirect(url_for("modeler.modeller", name=name))


# -------------------------------------------------------------------- 4. diff and roll back
@bp.get("/versions/<id:old_id>/diff/<id:new_id>")
def diff(old_id: int, new_id: int):
    session = db_session()
    old, new = workbench.version_or_404(session, old_id), workbench.version_or_404(session, new_id)
    changes = versioning.compare(session, services().workflows, old_id, new_id)
    return render_template("modeler/diff.html", old=old, new=new, diff=changes,
                           files=diagrams.diff_by_file(old, new, changes), latest=latest_version(session))


@bp.post("/versions/<id:version_id>/roll-back")
def roll_back(version_id: int):
    version = versioning.roll_back(db_session(), services().workflows, user=me(), version_id=version_id,
                                   now=utcnow())
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
        flash(f"Cannot undo migration #{move_id}: {exc.message}", "error")
    else:
        flash(f"Undid migration #{move_id}: the instance is back on its old version.", "success")
    return redirect(request.form.get("next") or url_for("modeler.migrate_page"))


# -------------------------------------------------------------------- 6. forms
def _form_texts(base: str) -> tuple[str, str, dict[str, str]]:
    session = db_session()
    schema_name, ui_name = workbench.form_files(base)
    texts, sources = {}, {}
    for key, name in (("schema", schema_name), ("ui", ui_name)):
        try:
            content, source = workbench.file_content(session, me(), "form", name)
        except NotFound:
            content, source = (b"{}" if key == "ui" else b'{\n  "type": "object",\n  "properties": {}\n}\n'), "new"
        texts[key], sources[key] = content.decode("utf-8", errors="replace"), source
    return texts["schema"], texts["ui"], sources


@bp.get("/forms/<name>")
def form_editor(name: str):
    schema_text, ui_text, sources = _form_texts(name)
    return _form_page(name, schema_text, ui_text, sources)


def _form_page(name, schema_text, ui_text, sources, status=200):
    schema_name, ui_name = workbench.form_files(name)
    checked = workbench.check_form(schema_text, ui_text)
    base = schema_name[: -len(".schema.json")]
    return render_template("modeler/form.html", base=base, schema_name=schema_name, ui_name=ui_name,
                           schema_text=schema_text, ui_text=ui_text, sources=sources, checked=checked,
                           fields=build_fields(checked.schema, checked.ui, {}) if checked.schema else []), status


@bp.post("/forms/<name>/preview")
def form_preview(name: str):
    payload = _payload()
    checked = workbench.check_form(payload.get("schema", ""), payload.get("ui", ""))
    fields = build_fields(checked.schema, checked.ui, {}) if checked.schema else []
    return render_template("modeler/_preview.html", checked=checked, fields=fields)


@bp.post("/forms/<name>")
def form_save(name: str):
    schema_text, ui_text = request.form.get("schema", ""), request.form.get("ui", "")
    latest = latest_version(db_session())
    try:
        workbench.save_form(db_session(), me(), name, schema_text, ui_text,
                            base_version_id=getattr(latest, "id", None), now=utcnow())
    except BadRequest as exc:
        flash(exc.message, "error")
        return _form_page(name, schema_text, ui_text, {"schema": "typed", "ui": "typed"}, 400)
    flash("Saved the form to your drafts: the next deploy includes it.", "success")
    return redirect(url_for("modeler.form_editor", name=name))
