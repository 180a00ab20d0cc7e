"""PDF exports off the request path. A request queues a job (or finds the one it already queued while nothing
changed) and answers at once; the scheduler claims queued jobs for a lease and renders them. What a PDF is
rendered from is hashed without its print time, and each distinct source is rendered once (`RenderedExport`), so
asking again for an unchanged plan or pack costs no rendering. A process that dies mid-render leaves its lease to
run out, and the job is claimed again (at most `MAX_ATTEMPTS` times)."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.orm import Session

from ..audit.models import AuditEvent
from ..auth.models import User
from ..errors import AppError, BadRequest, Conflict, NotFound
from ..processes import timer_notices
from ..processes.models import ProcessInstance
from . import exports, rmp
from .models import ExportJob, RenderedExport
from .services import relationship_for

log = logging.getLogger(__name__)

WHAT = {"rmp": "the plan", "assessor_pack": "the assessor pack"}
LEASE = timedelta(minutes=5)  # a render taking longer than this is taken for dead and claimed again
MAX_ATTEMPTS = 3
KEPT_FOR = timedelta(days=30)  # finished jobs and the PDFs only they used are deleted this long after
SOURCE_TIME = datetime(2000, 1, 1, tzinfo=UTC)  # the print time a source is hashed with


def stamp(session: Session, now: datetime) -> str:
    """What a request saw: the newest recorded change anywhere (every change leaves an audit event; exports are
    not changes) and the day (statuses such as 'review overdue' move with the date)."""
    newest = session.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.action.not_like("export.%")))
    return f"{newest or 0}@{now.date().isoformat()}"


def request(session: Session, user: User, relationship_id: int, what: str, *, number: int | None = None,
            now: datetime) -> ExportJob:
    """The job that answers this request: the user's finished or running one for the same export while nothing
    changed, else a new queued one. Checks what the user may export first (NotFound, Forbidden). Commits."""
    if what not in WHAT:
        raise BadRequest("exports are the plan (rmp) or the assessor pack", {"what": "rmp or assessor_pack"})
    if what == "rmp":
        _readable_version(session, user, relationship_id, number)
    else:
        relationship_for(session, user, relationship_id, WHAT[what])
    seen = stamp(session, now)
    existing = session.scalars(select(ExportJob).where(
        ExportJob.relationship_id == relationship_id, ExportJob.user_id == user.id, ExportJob.what == what,
        ExportJob.number.is_(number) if number is None else ExportJob.number == number, ExportJob.stamp == seen,
        ExportJob.status != "failed").order_by(ExportJob.id.desc()).limit(1)).first()
    if existing is not None:
        return existing
    job = ExportJob(relationship_id=relationship_id, user_id=user.id, what=what, number=number, stamp=seen,
                    status="queued", attempts=0, filename="", rendered=False, requested_at=now)
    session.add(job)
    if session.get_bind().dialect.name == "postgresql":  # schedulers in other processes wake at the commit
        session.execute(text("SELECT pg_notify(:channel, :due)"),
                        {"channel": timer_notices.CHANNEL, "due": now.isoformat()})
    session.commit()
    timer_notices.publish(now)  # and this process's at once
    return job


def job_for(session: Session, user: User, job_id: int) -> ExportJob:
    """A job its requester may look at (NotFound for anyone else: what a pack shows depends on who asked)."""
    job = session.get(ExportJob, job_id)
    if job is None or job.user_id != user.id:
        raise NotFound(f"there is no export {job_id} of yours")
    return job


def content(session: Session, job: ExportJob) -> bytes:
    """The finished job's PDF. Raises Conflict while it is not ready."""
    if job.status != "done" or job.content_sha256 is None:
        raise Conflict(f"export {job.id} is {job.status}, not ready to download")
    return _kept(session, job.content_sha256)


def prune(session: Session, *, now: datetime) -> tuple[int, int]:
    """Delete the jobs finished more than KEPT_FOR ago, then the kept PDFs no remaining job uses and older than
    that: a PDF is a copy of records that stay, so it is printed again if asked for again. Commits; returns
    (jobs, files) deleted."""
    before = now - KEPT_FOR
    jobs = session.execute(ExportJob.__table__.delete().where(
        ExportJob.status.in_(("done", "failed")), ExportJob.finished_at < before)).rowcount
    used = select(ExportJob.content_sha256).where(ExportJob.content_sha256.is_not(None))
    files = session.execute(RenderedExport.__table__.delete().where(
        RenderedExport.created_at < before, RenderedExport.source_sha256.not_in(used))).rowcount
    session.commit()
    return jobs, files


def next_render_at(session: Session) -> datetime | None:
    """When a job next needs the renderer: now for a queued one, the end of a running one's lease."""
    queued = session.scalar(select(func.min(ExportJob.requested_at)).where(ExportJob.status == "queued"))
    stale = session.scalar(select(func.min(ExportJob.lease_until)).where(
        ExportJob.status == "rendering", ExportJob.attempts < MAX_ATTEMPTS))
    return min((m for m in (queued, stale) if m is not None), default=None)


def claim(session: Session, now: datetime) -> ExportJob | None:
    """Take the oldest job waiting for the renderer (queued, or rendering with its lease run out) for a lease.
    The update only succeeds for one claimant, so several schedulers render each job once. Commits."""
    waiting = or_(ExportJob.status == "queued",
                  (ExportJob.status == "rendering") & (ExportJob.lease_until < now))
    for job_id in session.scalars(select(ExportJob.id).where(waiting, ExportJob.attempts < MAX_ATTEMPTS)
                                  .order_by(ExportJob.id).limit(5)).all():
        taken = session.execute(update(ExportJob).where(ExportJob.id == job_id, waiting).values(
            status="rendering", lease_until=now + LEASE, attempts=ExportJob.attempts + 1, started_at=now))
        session.commit()
        if taken.rowcount == 1:
            return session.get(ExportJob, job_id, populate_existing=True)
    _fail_exhausted(session, now)
    return None


def _fail_exhausted(session: Session, now: datetime) -> None:
    session.execute(update(ExportJob).where(ExportJob.status == "rendering", ExportJob.lease_until < now,
                                            ExportJob.attempts >= MAX_ATTEMPTS).values(
        status="failed", finished_at=now, error="the renderer stopped while rendering it, every time it tried"))
    session.commit()


def print_now(session: Session, user: User, relationship_id: int, what: str, *, number: int | None = None,
              now: datetime) -> exports.Download:
    """The PDF inside the caller's request (the JSON API, whose clients wait for their file), from the kept files
    when its source was printed before; recorded like every export. Raises NotFound, Forbidden, Unavailable."""
    if what == "assessor_pack":
        relationship_for(session, user, relationship_id, WHAT[what])
    html, source, name = _source(session, user, what, relationship_id, number, now=now)
    sha, printed = _print_once(session, html, source, now=now)
    data = printed if printed is not None else _kept(session, sha)
    exports.record_export(session, user, relationship_id, what, "pdf", name, now=now,
                          details={"rendered": printed is not None, **({"version": number} if number else {})})
    return exports.Download(data, exports.MIMETYPES["pdf"], name)


def render(session: Session, job: ExportJob, *, now: datetime) -> ExportJob:
    """Render a claimed job as its requester may see it, reusing the file of an identical source. Commits.
    A problem fails the job with its reason when it cannot succeed, else leaves it for the next attempt."""
    user = session.get(User, job.user_id)
    try:
        html, source, name = _source(session, user, job.what, job.relationship_id, job.number, now=now)
        sha, printed = _print_once(session, html, source, now=now)
        job.content_sha256, job.filename, job.rendered = sha, name, printed is not None
        job.status, job.finished_at, job.lease_until, job.error = "done", now, None, None
        session.commit()
    except AppError as exc:  # not found, forbidden, no PDF library: trying again would not help
        session.rollback()
        _finish_failed(session, job.id, exc.message, now)
    except Exception as exc:  # a bug or a database hiccup: try again, up to MAX_ATTEMPTS
        session.rollback()
        log.exception("export %s failed", job.id)
        row = session.get(ExportJob, job.id, populate_existing=True)
        if row.attempts >= MAX_ATTEMPTS:
            _finish_failed(session, job.id, f"rendering failed: {type(exc).__name__}", now)
        else:
            row.status, row.lease_until, row.error = "queued", None, f"attempt {row.attempts} failed; trying again"
            session.commit()
    return session.get(ExportJob, job.id, populate_existing=True)


def _finish_failed(session: Session, job_id: int, reason: str, now: datetime) -> None:
    row = session.get(ExportJob, job_id, populate_existing=True)
    row.status, row.finished_at, row.lease_until, row.error = "failed", now, None, reason[:2000]
    session.commit()


def _print_once(session: Session, html: str, source: str, *, now: datetime) -> tuple[str, bytes | None]:
    """(the source's SHA-256, the PDF when it was printed now): an identical source's kept PDF is used (None), else
    `html` is printed and kept under that hash."""
    sha = hashlib.sha256(source.encode()).hexdigest()
    if session.get(RenderedExport, sha) is not None:
        return sha, None
    data = exports.pdf(html)
    session.add(RenderedExport(source_sha256=sha, content=data, size=len(data), created_at=now))
    return sha, data


def _kept(session: Session, sha: str) -> bytes:
    return session.scalar(select(RenderedExport.content).where(RenderedExport.source_sha256 == sha))


def _readable_version(session: Session, user: User, relationship_id: int, number: int | None) -> rmp.RmpVersion:
    found = next((v for v in rmp.versions(session, relationship_id, viewer=user) if v.number == number), None)
    if found is None:
        raise NotFound(f"the plan of relationship {relationship_id} has no version {number} you may read")
    return found


def _source(session: Session, user: User, what: str, relationship_id: int, number: int | None, *,
            now: datetime) -> tuple[str, str, str]:
    """(the HTML to print, the same HTML with a fixed print time to hash, the file name)."""
    if what == "rmp":
        version = _readable_version(session, user, relationship_id, number)
        title = session.scalar(select(ProcessInstance.title).where(ProcessInstance.id == relationship_id))
        title = title or f"Relationship {relationship_id}"
        return (exports.rmp_html(version, title, generated_at=now),
                exports.rmp_html(version, title, generated_at=SOURCE_TIME),
                exports.filename(title, f"{version.kind}-v{version.number}", "pdf"))
    found = exports.pack(session, user, relationship_id, now=now)
    return (exports.pack_html(found), exports.pack_html(dataclasses.replace(found, generated_at=SOURCE_TIME)),
            exports.filename(found.title, "assessor-pack", "pdf", at=now))


def render_waiting(session: Session, *, now_fn) -> int:
    """Render every job waiting now, one after another; returns how many were taken."""
    taken = 0
    while (job := claim(session, now_fn())) is not None:
        render(session, job, now=now_fn())
        taken += 1
    return taken
