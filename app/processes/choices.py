"""Choices a form takes from the process's data instead of having them retyped.

A text field whose UI schema says `"ui:options": {"choicesFrom": "selection_criteria.criterion"}` offers the
values found at that path of the task's data (a list on the way is walked item by item), so an evaluator picks
the criteria the organisation defined and a typo cannot score 0. The choices become the field's `enum`, both
when the page renders and when the submission is validated. Without the named data (a preview, a form used
elsewhere) the field stays free text.
"""

from __future__ import annotations

import copy

OPTION = "choicesFrom"


def has_choices(ui: dict | None) -> bool:
    """Whether any field of the UI schema takes its choices from the data (so the task's data is needed)."""
    if isinstance(ui, dict):
        if isinstance(ui.get("ui:options"), dict) and ui["ui:options"].get(OPTION):
            return True
        return any(has_choices(v) for k, v in ui.items() if not k.startswith("ui:"))
    return False


def values_at(data, path: str) -> list | None:
    """The distinct values at a dotted path (`candidate_ranking.name`), in order; None when the data lacks it."""
    current = [data]
    for part in path.split("."):
        found = []
        for item in current:
            if isinstance(item, list):
                found += [i[part] for i in item if isinstance(i, dict) and part in i]
            elif isinstance(item, dict) and part in item:
                found.append(item[part])
        if not found:
            return None
        current = found
    flat = [v for value in current for v in (value if isinstance(value, list) else [value])]
    return list(dict.fromkeys(v for v in flat if isinstance(v, str) and v.strip()))


def with_choices(schema: dict | None, ui: dict | None, data: dict | None) -> dict | None:
    """A copy of `schema` whose data-backed fields carry their choices as `enum`; `schema` itself when none do."""
    if not schema or not has_choices(ui) or not data:
        return schema
    resolved = copy.deepcopy(schema)
    _resolve(resolved, ui or {}, data)
    return resolved


def _resolve(schema: dict, ui: dict, data: dict) -> None:
    option = (ui.get("ui:options") or {}).get(OPTION) if isinstance(ui.get("ui:options"), dict) else None
    if option and schema.get("type") == "string":
        choices = values_at(data, option)
        if choices is not None:
            schema["enum"] = choices
    for key, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, dict) and isinstance(ui.get(key), dict):
            _resolve(sub, ui[key], data)
    items = schema.get("items")
    if isinstance(items, dict) and isinstance(ui.get("items"), dict):
        _resolve(items, ui["items"], data)
