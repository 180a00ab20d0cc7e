"""Which forms changed between two versions, field by field (title, type, required; old → new), so a diff shows
what the people filling a task will see differently, not only that a file changed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

_ASPECTS = ("title", "type", "required", "choices")


@dataclass(frozen=True)
class FieldChange:
    field: str  # the field's path: "risks" or "risks[].owner" for a column of repeatable rows
    how: str  # added | removed | changed
    old: dict = field(default_factory=dict)  # {title, type, required, choices} as they were
    new: dict = field(default_factory=dict)
    aspects: tuple[str, ...] = ()  # for a changed field: which of title/type/required/choices differ


@dataclass(frozen=True)
class FormChange:
    name: str  # the form file
    how: str  # added | removed | changed
    fields: tuple[FieldChange, ...] = ()
    title: tuple[str | None, str | None] = (None, None)  # the form's own title, old and new
    other: bool = False  # it changed in ways beyond its fields' title, type, required and choices


def form_changes(old_forms: dict[str, bytes], new_forms: dict[str, bytes]) -> list[FormChange]:
    """Forms added, removed and changed between two versions' form files (`*.schema.json`; a changed layout file
    shows as a change of its own)."""
    found = []
    for name in sorted(set(old_forms) | set(new_forms)):
        before, after = old_forms.get(name), new_forms.get(name)
        if before == after:
            continue
        if before is None or after is None:
            schema = _load(after if before is None else before)
            how = "added" if before is None else "removed"
            fields = tuple(FieldChange(path, how, **({"new": f} if how == "added" else {"old": f}))
                           for path, f in _fields(schema).items())
            found.append(FormChange(name, how, fields))
            continue
        old_schema, new_schema = _load(before), _load(after)
        fields = tuple(_compare(_fields(old_schema), _fields(new_schema)))
        title = (old_schema.get("title"), new_schema.get("title"))
        found.append(FormChange(name, "changed", fields, title if title[0] != title[1] else (None, None),
                                other=not fields and title[0] == title[1]))
    return found


def _load(content: bytes | None) -> dict:
    try:
        value = json.loads(content or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _fields(schema: dict, prefix: str = "") -> dict[str, dict]:
    """{path: {title, type, required, choices}} of an object schema's properties, rows of arrays included."""
    result: dict[str, dict] = {}
    required = set(schema.get("required") or [])
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        path = prefix + name
        items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
        choices = prop.get("enum") or items.get("enum") or [o.get("const") for o in prop.get("oneOf") or []
                                                             if isinstance(o, dict) and "const" in o]
        result[path] = {"title": prop.get("title") or name, "type": _type(prop), "required": "required" if name in required else "optional",
                        "choices": ", ".join(map(str, choices)) if choices else ""}
        if items.get("type") == "object":
            result.update(_fields(items, path + "[]."))
        elif prop.get("type") == "object":
            result.update(_fields(prop, path + "."))
    return result


def _type(prop: dict) -> str:
    kind = prop.get("type") or ("choice" if "enum" in prop or "oneOf" in prop else "any")
    kind = "/".join(kind) if isinstance(kind, list) else kind
    if prop.get("format"):
        kind += f" ({prop['format']})"
    if kind == "array" and isinstance(prop.get("items"), dict):
        kind = "rows" if prop["items"].get("type") == "object" else f"list of {_type(prop['items'])}"
    return kind


def _compare(old: dict[str, dict], new: dict[str, dict]):
    for path in list(new) + [p for p in old if p not in new]:
        if path not in old:
            yield FieldChange(path, "added", new=new[path])
        elif path not in new:
            yield FieldChange(path, "removed", old=old[path])
        elif old[path] != new[path]:
            yield FieldChange(path, "changed", old[path], new[path],
                              tuple(a for a in _ASPECTS if old[path][a] != new[path][a]))
