"""Compliance for integrators: the matrix per relationship and for the organisation, the gap analysis, the
controlled versions of the Relationship Management Plan, and the exports an assessor takes away."""

from __future__ import annotations

from flask import Response
from marshmallow import RAISE

from ..api.common import blueprint, now, session, user
from ..compliance import export_jobs, exports, rmp
from ..compliance import services as compliance
from .schemas import (
    GapsOut,
    MatrixOut,
    OrganisationOut,
    PackFormatArgs,
    PlanFormatArgs,
    PlanVersionDetailOut,
    PlanVersionOut,
)

bp = blueprint("api_compliance", "The compliance matrix, gap analysis, the RMP's versions and the exports")


def _row(row) -> dict:
    r = row.requirement
    return dict(id=r.id, stage=r.stage, stage_name=r.stage_name, kind=r.kind, text=r.text, status=row.status,
                evidence=[vars(e) for e in row.evidence], open_tasks=row.open_tasks)


def _version(version, sections=False) -> dict:
    out = dict(number=version.number, kind=version.kind, stage=version.stage, approved_at=version.approved_at,
               approvers=version.approvers, changes=version.changes, partners=version.partners)
    if sections:
        out["sections"] = [dict(stage=s.stage, title=s.title, entries=[
            {"task": e.task, "fields_": [list(f) for f in e.fields]} for e in s.entries]) for s in version.sections]
    return out


@bp.get("/relationships/<id:relationship_id>/compliance")
@bp.response(200, MatrixOut)
def matrix(relationship_id: int):
    """Every requirement id with its status and evidence (our own organisation; 403 for partners)."""
    rows = compliance.matrix_for(session(), user(), relationship_id, now=now())
    return {"relationship_id": relationship_id, "summary": compliance.summary(rows), "rows": [_row(r) for r in rows]}


@bp.get("/relationships/<id:relationship_id>/gaps")
@bp.response(200, GapsOut)
def gaps(relationship_id: int):
    """What is missing or not current, by stage."""
    rows = compliance.matrix_for(session(), user(), relationship_id, now=now())
    return {"relationship_id": relationship_id,
            "stages": {stage: [_row(r) for r in found] for stage, found in compliance.gaps(rows).items()}}


@bp.get("/compliance")
@bp.response(200, OrganisationOut)
def organisation():
    """Every requirement x every relationship's status, with totals."""
    found = compliance.organisation_matrix(session(), user(), now=now())
    return {"relationships": [{"id": r.id, "title": r.title, "summary": found.by_relationship[r.id]}
                              for r in found.relationships],
            "totals": found.totals,
            "status": {rid: {str(k): v for k, v in cells.items()} for rid, cells in found.status.items()}}


@bp.get("/relationships/<id:relationship_id>/rmp")
@bp.response(200, PlanVersionOut(many=True))
def plan(relationship_id: int):
    """The plan's controlled versions you may read (partners: the joint plan's joint sections)."""
    return [_version(v) for v in rmp.versions(session(), relationship_id, viewer=user())]


@bp.get("/relationships/<id:relationship_id>/rmp/<id:number>")
@bp.response(200, PlanVersionDetailOut)
def plan_version(relationship_id: int, number: int):
    """One version of the plan with its sections."""
    return _version(rmp.version(session(), relationship_id, number, viewer=user()), sections=True)


@bp.get("/relationships/<id:relationship_id>/rmp/<id:number>/export")
@bp.arguments(PlanFormatArgs, location="query", unknown=RAISE)
@bp.response(200, content_type="application/octet-stream",
             description="the version as a PDF or Markdown file (attachment)")
def plan_export(args, relationship_id: int, number: int):
    """The version as PDF or Markdown (a PDF printed before with the same content is not printed again)."""
    if args["format"] == "pdf":
        return _file(export_jobs.print_now(session(), user(), relationship_id, "rmp", number=number, now=now()))
    return _file(exports.plan_download(session(), user(), relationship_id, number, args["format"], now=now()))


@bp.get("/relationships/<id:relationship_id>/assessor-pack")
@bp.arguments(PackFormatArgs, location="query", unknown=RAISE)
@bp.response(200, content_type="application/octet-stream",
             description="the assessor pack as a PDF, CSV or XLSX file (attachment)")
def pack(args, relationship_id: int):
    """The assessor pack for a certification audit (our own organisation only; a PDF printed before with the same
    content is not printed again)."""
    if args["format"] == "pdf":
        return _file(export_jobs.print_now(session(), user(), relationship_id, "assessor_pack", now=now()))
    return _file(exports.pack_download(session(), user(), relationship_id, args["format"], now=now()))


def _file(download: exports.Download) -> Response:
    return Response(download.content, content_type=download.mimetype, headers={
        "Content-Disposition": f'attachment; filename="{download.filename}"', "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff"})
