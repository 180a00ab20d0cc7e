"""What every page shares (CSRF on every form, security headers, the `id` converter, template helpers), and the
pages of no domain: the landing page and the health check."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Blueprint, Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import func, select, text
from werkzeug.routing import IntegerConverter

from .access.services import partners_without_ser
from .auth.permissions import Permission, may
from .auth.session import me
from .errors import BadRequest
from .extensions import db_session
from .processes.models import HumanTask, ProcessInstance, ProcessVersion
from .stages import LIFECYCLE
from .text_input import first_bad_text

csrf = CSRFProtect()
bp = Blueprint("main", __name__)

# bpmn-js draws SVG with inline style attributes and a data: logo; nothing is loaded from elsewhere.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:",
    "font-src 'self'", "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'",
    "frame-ancestors 'none'",
])


class IdConverter(IntegerConverter):
    """`<id:...>`: a positive id that fits the database's integer, so a silly URL is a 404, never a 500."""

    # Only 1..2**31-1 matches at all: werkzeug answers "405" before a converter may refuse a value, so with a
    # looser pattern PATCH /registers/entries/0 was a 405 (GET shares the path) instead of a 404.
    regex = (r"(?:[1-9]\d{0,8}|1\d{9}|20\d{8}|21[0-3]\d{7}|214[0-6]\d{6}|2147[0-3]\d{5}|21474[0-7]\d{4}"
             r"|214748[0-2]\d{3}|2147483[0-5]\d{2}|21474836[0-3]\d|214748364[0-7])")

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=2**31 - 1)


_ID = re.compile(IdConverter.regex)


def id_arg(name: str) -> int | None:
    """An id in the query string (`?relationship=12`): None when absent or empty, else 1..2**31-1, or BadRequest
    naming the parameter. Never handed to the database unchecked: PostgreSQL's integer stops at 2**31-1."""
    value = request.args.get(name, "").strip()
    if not value:
        return None
    if not _ID.fullmatch(value):
        raise BadRequest(f"{name} must be an id: a whole number from 1 to {2**31 - 1}",
                         {name: f"not an id: {value[:40]!r}"})
    return int(value)


def init_app(app: Flask) -> None:
    """Call before blueprints are registered: their routes use the `id` converter."""
    app.url_map.converters["id"] = IdConverter
    csrf.init_app(app)
    app.before_request(refuse_bad_text)
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.add_template_filter(when)
    app.add_template_filter(when_date)
    app.add_template_filter(action_label)
    app.add_template_filter(filesize)
    app.add_template_global(lambda permission: may(me(), Permission(permission)), "can")  # named permissions


def refuse_bad_text():
    """Every query argument, form field and JSON body, at any depth, is text without NUL characters and lone
    surrogates (app/text_input.py), or the request is refused here, naming the field, before any view or
    service runs: the API with its JSON error (422), pages with the error page (400).

    This includes the diagrams and forms the process owners' API takes as JSON strings (/api/v1/processes/
    validate and deploy): neither character may appear in an XML or JSON document, so they are refused with
    the file named instead of being handed to the validator."""
    if request.url_rule is None:
        return None  # a 404 or 405 whatever the request holds
    found = _first_bad_field(request.args)
    if found is None and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        found = _first_bad_field(request.form)
    if found is None and request.is_json:
        found = first_bad_text(request.get_json(silent=True))
    if found is None:
        return None
    field, problem = found
    message = f"{field} {problem}."
    if request.path.startswith("/api/"):
        return jsonify(code="invalid_text", status=422, message=message, errors={field: problem}), 422
    raise BadRequest(message, {field: problem})


def _first_bad_field(fields) -> tuple[str, str] | None:
    """The first (name, problem) of a query string or form, each field named as it was sent."""
    for name, value in fields.items(multi=True):
        found = first_bad_text({name: value})
        if found is not None:
            return found
    return None


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if response.mimetype == "text/html" and request.endpoint != "static":
        headers.setdefault("Cache-Control", "no-store")  # signed-in pages never come back from a cache
    return response


def _csrf_failed(exc: CSRFError):
    error = {"code": "csrf", "status": 400, "errors": {},
             "message": "This form has expired or did not come from this site. Go back, reload the page and try again."}
    return render_template("error.html", error=error), 400


def when(value: datetime | None) -> str:
    """A moment as people read it: '31 Jan 2026, 09:00 UTC'."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%d %b %Y, %H:%M UTC").lstrip("0")


def when_date(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%d %b %Y").lstrip("0") if value else ""


ACTION_LABELS = {
    "instance.started": "Started", "instance.completed": "Finished", "instance.cancelled": "Cancelled",
    "instance.error": "Failed", "task.created": "Task ready", "task.completed": "Task completed",
    "task.cancelled": "Task withdrawn", "task.claimed": "Claimed", "task.released": "Released",
    "task.reassigned": "Reassigned", "task.due_set": "Due date set", "task.commented": "Commented",
    "task.draft_saved": "Draft saved", "task.draft_discarded": "Draft discarded",
    "evidence.uploaded": "Evidence added", "evidence.downloaded": "Evidence read", "timer.fired": "Timer fired",
    "signal.received": "Signal received", "message.received": "Message received",
    "relationship.described": "Relationship named", "instance.retried": "Retried",
    "instance.suspended": "Suspended", "instance.resumed": "Resumed", "task.skipped": "Script task skipped",
    "token.moved": "Token moved", "instance.move_proposed": "Token move proposed",
    "instance.move_approved": "Token move approved", "instance.move_rejected": "Token move rejected",
    "instance.move_outdated": "Token move outdated",
    "connector.notification_sent": "Notification sent", "connector.register_entry": "Register entry made",
    "connector.nonconformity_raised": "Nonconformity raised",
    "calendar.feed_created": "Calendar feed made", "calendar.feed_revoked": "Calendar feed revoked",
}


def action_label(action: str) -> str:
    """An audit action as people say it ('task.claimed' -> 'Claimed')."""
    return ACTION_LABELS.get(action) or action.replace("_", " ").replace(".", ": ").capitalize()


def filesize(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    return f"{size / 1024:.0f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


@bp.get("/")
def index():
    session = db_session()
    version = session.scalar(select(ProcessVersion).order_by(ProcessVersion.id.desc()).limit(1))
    counts = {
        "relationships": session.scalar(select(func.count()).select_from(ProcessInstance)
                                        .where(ProcessInstance.parent_id.is_(None),
                                               ProcessInstance.process_id == LIFECYCLE)),
        "open_tasks": session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.state == "ready")),
    }
    user = me()
    waiting = []  # relationships whose partner has no SER, for those who can act on it
    if not user.is_partner and (may(user, Permission.MANAGE_ANY_TASK) or may(user, Permission.MANAGE_LANE_TASKS)):
        flagged = partners_without_ser(session)
        titles = dict(session.execute(select(ProcessInstance.id, ProcessInstance.title)
                                      .where(ProcessInstance.id.in_(flagged))).all()) if flagged else {}
        waiting = [(rid, titles.get(rid) or f"Relationship #{rid}", " and ".join(names))
                   for rid, names in flagged.items()]
    return render_template("index.html", version=version, counts=counts, partners_waiting=waiting)


@bp.get("/healthz")
def health():
    db_session().execute(text("select 1"))
    return jsonify(status="ok")
