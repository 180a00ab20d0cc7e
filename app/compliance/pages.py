"""Pages for assessors and SERs: the compliance matrix, the gap analysis, the organisation's matrix, the
Relationship Management Plan's versions and their comparison; and every export (PDF, Markdown, CSV, XLSX).

Read-only: nothing here changes the relationship. The rules (own organisation only for the matrix and the
pack; partners see the joint plan only) live in the services these pages call.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.routing import BuildError

from ..auth.session import me
from ..db import utcnow
from ..errors import BadRequest, NotFound
from ..extensions import db_session, services
from ..processes.models import ProcessInstance
from ..processes.services import may_start
from ..requirements import RELATIONSHIP
from ..stages import NONCONFORMITY, STAGES
from . import export_jobs, exports, rmp
from . import services as compliance
from .models import ExportJob

bp = Blueprint("compliance", __name__)

STATUS_LABELS = {"not_started": "Not started", "in_progress": "In progress", "evidenced": "Evidenced",
                 "review_overdue": "Review overdue"}
@bp.app_template_global()
def compliance_status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


@bp.app_template_global()
def compliance_summary(submitted: dict) -> str:
    return exports.summarise(submitted)


def _entry_url(entry_id: int) -> str | None:
    try:
        return url_for("registers.entry", entry_id=entry_id)
    except BuildError:  # the registers pages are not part of this application
        return None


@dataclass(frozen=True)
class FindingLink:
    source: str  # the nonconformity's source as the start form names it


def finding_link(user) -> FindingLink | None:
    """Whether the viewer may raise a nonconformity against a requirement row (assessors record their findings
    this way), and as what source."""
    if user.is_partner or not may_start(db_session(), services().workflows, user, NONCONFORMITY):
        return None
    return FindingLink("assessor" if "assessor" in user.roles else "hand")


# ---- the matrix ----------------------------------------------------------------------------------------------

@bp.get("/compliance")
def organisation():
    found = compliance.organisation_matrix(db_session(), me(), now=utcnow())
    stage = request.args.get("stage", "")
    requirements = [r for r in found.requirements if not stage or r.stage == stage]
    return render_template("compliance/organisation.html", matrix=found, requirements=requirements,
                           stage=stage, stage_options=_stage_options(found.requirements),
                           statuses=compliance.STATUSES)


@bp.get("/relationships/<id:relationship_id>/compliance")
def matrix(relationship_id: int):
    found = exports.pack(db_session(), me(), relationship_id, now=utcnow(), full=False, levels=(RELATIONSHIP,))
    status, stage = request.args.get("status", ""), request.args.get("stage", "")
    if status and status not in compliance.STATUSES:
        status = ""
    rows = [r for r in found.rows if (not status or r.status == status) and (not stage or r.requirement.stage == stage)]
    return render_template("compliance/matrix.html", pack=found, rows=rows, status=status, stage=stage,
                           stage_options=_stage_options([r.requirement for r in found.rows]),
                           statuses=compliance.STATUSES, entry_url=_entry_url, finding=finding_link(me()))


@bp.get("/relationships/<id:relationship_id>/gaps")
def gaps(relationship_id: int):
    found = exports.pack(db_session(), me(), relationship_id, now=utcnow(), full=False, levels=(RELATIONSHIP,))
    return render_template("compliance/gaps.html", pack=found)


def _stage_options(requirements) -> list[tuple[str, str]]:
    seen = {}
    for r in requirements:
        seen.setdefault(r.stage, f"{r.stage} {r.stage_name}")
    return list(seen.items())


# ---- the plan ------------------------------------------------------------------------------------------------

def _relationship_title(relationship_id: int) -> str:
    instance = db_session().get(ProcessInstance, relationship_id)
    return (instance.title if instance else None) or f"Relationship {relationship_id}"


@bp.get("/relationships/<id:relationship_id>/rmp")
def plan(relationship_id: int):
    versions = rmp.versions(db_session(), relationship_id, viewer=me())
    return render_template("compliance/rmp_index.html", versions=versions, relationship_id=relationship_id,
                           title=_relationship_title(relationship_id), stages=STAGES)


@bp.get("/relationships/<id:relationship_id>/rmp/<id:number>")
def plan_version(relationship_id: int, number: int):
    versions = rmp.versions(db_session(), relationship_id, viewer=me())
    version = _pick(versions, number, relationship_id)
    previous = next((v for v in reversed(versions) if v.number < number), None)
    return render_template("compliance/rmp_show.html", version=version, previous=previous,
                           relationship_id=relationship_id, title=_relationship_title(relationship_id))


@bp.get("/relationships/<id:relationship_id>/rmp/compare")
def plan_compare(relationship_id: int):
    versions = rmp.versions(db_session(), relationship_id, viewer=me())
    if not versions:
        raise NotFound("the plan has no approved version yet")
    try:
        a = int(request.args.get("a") or (versions[-2].number if len(versions) > 1 else versions[0].number))
        b = int(request.args.get("b") or versions[-1].number)
    except ValueError:
        raise BadRequest("a and b are version numbers") from None
    before, after = _pick(versions, a, relationship_id), _pick(versions, b, relationship_id)
    return render_template("compliance/rmp_compare.html", before=before, after=after, versions=versions,
                           diff=rmp.compare(before, after), relationship_id=relationship_id,
                           title=_relationship_title(relationship_id))


def _pick(versions: list[rmp.RmpVersion], number: int, relationship_id: int) -> rmp.RmpVersion:
    found = next((v for v in versions if v.number == number), None)
    if found is None:
        raise NotFound(f"the plan of relationship {relationship_id} has no version {number} you may read")
    return found


# ---- exports -------------------------------------------------------------------------------------------------

@bp.get("/relationships/<id:relationship_id>/rmp/<id:number>.<any(pdf, md):fmt>")
def plan_export(relationship_id: int, number: int, fmt: str):
    if fmt == "pdf":
        return _queued(export_jobs.request(db_session(), me(), relationship_id, "rmp", number=number, now=utcnow()))
    return _attachment(exports.plan_download(db_session(), me(), relationship_id, number, fmt, now=utcnow()))


@bp.get("/relationships/<id:relationship_id>/assessor-pack.<any(pdf, csv, xlsx):fmt>")
def pack_export(relationship_id: int, fmt: str):
    if fmt == "pdf":
        return _queued(export_jobs.request(db_session(), me(), relationship_id, "assessor_pack", now=utcnow()))
    return _attachment(exports.pack_download(db_session(), me(), relationship_id, fmt, now=utcnow()))


def _queued(job: ExportJob) -> Response:
    """A PDF renders off the request: the file at once when an unchanged one is ready, else its progress page."""
    if job.status == "done":
        return _job_file(job)
    return redirect(url_for(".export_progress", job_id=job.id, auto=1), 303)  # download as soon as it is done


@bp.get("/exports/<id:job_id>")
def export_progress(job_id: int):
    job = export_jobs.job_for(db_session(), me(), job_id)
    title = _relationship_title(job.relationship_id)
    again = (url_for(".plan_export", relationship_id=job.relationship_id, number=job.number, fmt="pdf")
             if job.what == "rmp" else url_for(".pack_export", relationship_id=job.relationship_id, fmt="pdf"))
    return render_template("compliance/export_progress.html", job=job, title=title, what=export_jobs.WHAT[job.what],
                           again=again, now=utcnow())


@bp.get("/exports/<id:job_id>/file")
def export_file(job_id: int):
    return _job_file(export_jobs.job_for(db_session(), me(), job_id))


def _job_file(job: ExportJob) -> Response:
    session = db_session()
    content = export_jobs.content(session, job)
    exports.record_export(session, me(), job.relationship_id, job.what, "pdf", job.filename, now=utcnow(),
                          details={"export_job": job.id, "rendered": job.rendered,
                                   **({"version": job.number} if job.number else {})})
    return _attachment(exports.Download(content, exports.MIMETYPES["pdf"], job.filename))


def _attachment(download: exports.Download) -> Response:
    response = Response(download.content, content_type=download.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
