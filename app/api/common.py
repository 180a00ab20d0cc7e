"""What every API module shares: the request's session/user/clock, strict input schemas, the one error shape
`{code, status, message, errors}` for every failure, and the blueprint factory that wires it in."""

from __future__ import annotations

import logging

from flask import jsonify, request
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate
from werkzeug.exceptions import HTTPException

from workflows import InvalidData, WorkflowError

from ..auth.models import User
from ..auth.session import me
from ..db import utcnow
from ..errors import AppError, Forbidden, describe
from ..extensions import db_session, services
from ..pagination import paginate  # noqa: F401  (the API modules' one pagination)
from ..tokens.services import record_forbidden

log = logging.getLogger(__name__)

NAME_MAX = 300
TEXT_MAX = 20_000
ID = validate.Range(min=1, max=2**31 - 1)


def session():
    return db_session()


def user() -> User:
    return me()


def engine():
    return services().workflows


def now():
    return utcnow()


def mail():
    """The app's SMTP settings (None: no e-mail), given to every service that may notify someone."""
    return services().mail


class In(Schema):
    """Every input schema refuses fields it does not declare."""

    class Meta:
        unknown = RAISE


class Error(Schema):
    code = fields.String(required=True)
    status = fields.Integer(required=True)
    message = fields.String(required=True)
    errors = fields.Raw(required=True, metadata={"description": "per-field messages, or a list of problems"})


class PageArgs(In):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


def page_of(item: type[Schema]) -> type[Schema]:
    """The one shape of every paged list: `<Item>Page` with the items and where they stand (see `paginate`)."""
    name = item.__name__.removesuffix("Out") + "Page"
    return Schema.from_dict({"items": fields.List(fields.Nested(item)), "total": fields.Integer(),
                             "page": fields.Integer(), "pages": fields.Integer(), "per_page": fields.Integer()},
                            name=name)


def error_body(code: str, status: int, message: str, errors=None):
    return jsonify({"code": code, "status": status, "message": message, "errors": errors or {}}), status


def _flatten(messages) -> dict:
    """webargs says {location: {field: [messages]}}; clients want {field: message(s)} (location only if mixed)."""
    if not isinstance(messages, dict):
        return {"(request)": messages}
    if len(messages) == 1:
        only = next(iter(messages.values()))
        return only if isinstance(only, dict) else {"(request)": only}
    return messages


def handle_http(exc: HTTPException):
    data = getattr(exc, "data", None) or {}
    if exc.code == 422 and "messages" in data:
        return error_body("invalid_request", 422, "some fields of the request are invalid",
                          _flatten(data["messages"]))
    if exc.code == 400 and "messages" in data:
        return error_body("bad_request", 400, "the request body is not valid JSON", _flatten(data["messages"]))
    code = (exc.name or "error").lower().replace(" ", "_")
    return error_body(code, exc.code or 500, exc.description or code)


def handle_domain(exc: Exception):
    status, body = describe(exc)
    if isinstance(exc, InvalidData):
        details = getattr(exc, "details", None) or {}
        body["errors"] = details.get("errors") or details or {}
    if isinstance(exc, Forbidden):
        try:
            record_forbidden(session(), me(), method=request.method, path=request.path, message=exc.message,
                             now=now())
        except Exception:  # the refusal stands even if it cannot be recorded
            log.exception("could not record api.forbidden")
    return jsonify(body), status


def handle_unexpected(exc: Exception):
    log.exception("API request failed: %s %s", request.method, request.path)
    try:
        session().rollback()
    except Exception:
        log.exception("rollback failed")
    return error_body("internal_error", 500, "the server failed to handle this request; nothing was changed")


class ApiBlueprint(Blueprint):
    def response(self, status_code, schema=None, **kwargs):
        documented_in_full(schema)
        return super().response(status_code, schema, **kwargs)


def documented_in_full(schema, seen=None) -> None:
    """A response carries every key its schema declares (null where the field allows it): the document says so
    (`required`), so clients, and schemathesis, may rely on it. Input schemas (In) are left as they are."""
    seen = set() if seen is None else seen
    if schema is None or isinstance(schema, str) or id(schema) in seen:
        return
    seen.add(id(schema))
    cls = schema if isinstance(schema, type) else type(schema)
    if not issubclass(cls, Schema) or issubclass(cls, In):
        return
    found = list(cls._declared_fields.values())
    if not isinstance(schema, type):
        found += list(schema.fields.values())
    for field in found:
        field.required = True
        while isinstance(field, fields.List):
            field = field.inner
        if isinstance(field, fields.Nested) and isinstance(field.nested, type | Schema):
            documented_in_full(field.nested, seen)


def blueprint(name: str, description: str, url_prefix: str = "/api/v1") -> Blueprint:
    """A flask-smorest blueprint whose every error is the one JSON shape, and whose responses are documented
    with every key they always carry."""
    bp = ApiBlueprint(name, __name__, url_prefix=url_prefix, description=description)
    bp.register_error_handler(HTTPException, handle_http)
    bp.register_error_handler(AppError, handle_domain)
    bp.register_error_handler(WorkflowError, handle_domain)
    bp.register_error_handler(Exception, handle_unexpected)
    return bp


def stage_dict(stage) -> dict:
    return {"key": stage.key, "number": stage.number, "label": stage.label}


class StageOut(Schema):
    key = fields.String()
    number = fields.Integer(allow_none=True)
    label = fields.String()
