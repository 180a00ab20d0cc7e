"""Forms of a deployed version: JSON Schema lookup (cached per version) and validation of submissions.

A submission may only carry the fields its form declares: task data also holds engine state
(current stage, decisions, review dates), and a form must not be a way to overwrite it.
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache

import jsonschema
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import InvalidData

from .models import ProcessVersion, VersionFile

_lock = threading.Lock()


@lru_cache(maxsize=2048)
def _parse(content: bytes) -> dict:
    return json.loads(content)


_cache: dict[tuple[str, str], dict | None] = {}


def know_content(session: Session, version_id: int, content_hash: str) -> None:
    """Tell this session a version's content hash read along with something else (saves form_schema a query)."""
    session.info.setdefault("version_content", {})[version_id] = content_hash


def _content_of(session: Session, version_id: int) -> str:
    """The version's content hash, read once per session: version ids are unique only within one database (a
    test's, a restored backup's), content hashes everywhere, so the process-wide cache is keyed by them."""
    known = session.info.setdefault("version_content", {})
    if version_id not in known:
        known[version_id] = session.scalar(select(ProcessVersion.content_hash).where(ProcessVersion.id == version_id))
    return known[version_id] or f"version {version_id}"


def form_schema(session: Session, version_id: int, name: str | None) -> dict | None:
    """The parsed form `name` of a version, or None. Versions are immutable, so the cache never goes stale."""
    if not name:
        return None
    key = (_content_of(session, version_id), name)
    with _lock:
        if key in _cache:
            return _cache[key]
    content = session.scalar(select(VersionFile.content).where(
        VersionFile.version_id == version_id, VersionFile.kind == "form", VersionFile.name == name))
    schema = _parse(content) if content is not None else None
    with _lock:
        _cache[key] = schema
    return schema


def field_errors(schema: dict, data: dict) -> dict[str, str]:
    """{field path: message} for every problem in `data` against `schema`; empty when valid."""
    errors: dict[str, str] = {}
    declared = set((schema.get("properties") or {}).keys())
    for key in data:
        if key not in declared:
            errors[key] = "unknown field: this form has no such field"
    validator = jsonschema.validators.validator_for(schema)(schema, format_checker=jsonschema.FormatChecker())
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = "/".join(str(p) for p in error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path = "/".join(p for p in (path, missing) if p)
            errors.setdefault(path, "this field is required")
        else:
            errors.setdefault(path or "(form)", error.message)
    return errors


def validate_submission(schema: dict | None, data: dict) -> None:
    """Raises InvalidData with per-field messages; a task without a form accepts no data."""
    if schema is None:
        if data:
            raise InvalidData("this task has no form, so it takes no data", errors={k: "unknown field" for k in data})
        return
    errors = field_errors(schema, data)
    if errors:
        raise InvalidData(f"{len(errors)} field(s) need attention", errors=errors)
