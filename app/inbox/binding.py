"""A task's form (JSON Schema + UI schema) as HTML fields, and a posted HTML form back into form data.

Field names are dotted paths under `f.` (`f.risks.0.owner`); error paths are the slash paths that
`app.processes.forms.field_errors` uses (`risks/0/owner`), so a message lands beside its field.
Whatever a person typed comes back in the re-rendered form, even when it is not valid yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import jsonschema

from ..processes.forms import field_errors

PREFIX = "f"
ROW_MARK = "__row"  # hidden input naming the index of each repeatable row that was on the page
FILE_SUFFIX = "__file"  # the file input beside an evidence field's hidden id


@dataclass
class Field:
    key: str
    name: str  # HTML name: f.risks.0.owner
    path: str  # error path: risks/0/owner
    kind: str  # text textarea integer number date select radio checkboxes checkbox evidence group rows
    title: str
    description: str | None = None
    required: bool = False
    value: Any = None
    error: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    attrs: dict = field(default_factory=dict)  # min, max, step, maxlength, rows
    children: list[Field] = field(default_factory=list)  # group: its fields
    rows: list[Row] = field(default_factory=list)  # rows: one per item
    template: Row | None = None  # rows: a blank row for "Add a row"

    @property
    def id(self) -> str:
        return "fld-" + self.name.replace(".", "-")

    def label_of(self, value) -> str:
        return next((label for v, label in self.options if v == value), str(value))


@dataclass
class Row:
    index: int | str
    fields: list[Field]
    name: str  # f.risks.0


def build_fields(schema: dict | None, ui: dict | None, values: dict | None, errors: dict | None = None) -> list[Field]:
    """The fields of a form in display order, filled with `values` and `errors`."""
    if not schema:
        return []
    return _object_fields(schema, ui or {}, values or {}, errors or {}, PREFIX, "")


def _ordered(properties: dict, ui: dict) -> list[str]:
    order = [k for k in ui.get("ui:order", []) if k in properties]
    return order + [k for k in properties if k not in order]


def _object_fields(schema, ui, values, errors, name, path) -> list[Field]:
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    values = values if isinstance(values, dict) else {}
    return [_field(key, properties[key] or {}, ui.get(key) or {}, values.get(key), errors,
                   f"{name}.{key}", f"{path}/{key}" if path else key, key in required)
            for key in _ordered(properties, ui)]


def _field(key, schema, ui, value, errors, name, path, required) -> Field:
    kind = kind_of(schema, ui)
    title = ui.get("ui:title") or schema.get("title") or key.replace("_", " ").capitalize()
    description = ui.get("ui:help") or schema.get("description") or ui.get("ui:description")
    made = Field(key, name, path, kind, title, description, required, value, errors.get(path))
    options = ui.get("ui:options") or {}
    fixed = bool(schema.get("readOnly")) and kind not in ("group", "rows", "evidence")
    if kind in ("select", "radio"):  # choices taken from the process's data read as they were written
        made.options = _options(schema.get("enum") or [],
                                ui.get("ui:enumNames") or (schema.get("enum") if options.get("choicesFrom") else None))
    elif kind == "checkboxes":
        items_ui = ui.get("items") or {}
        from_data = (items_ui.get("ui:options") or {}).get("choicesFrom")
        made.options = _options((schema.get("items") or {}).get("enum") or [],
                                ui.get("ui:enumNames") or items_ui.get("ui:enumNames")
                                or ((schema.get("items") or {}).get("enum") if from_data else None))
        made.value = value if isinstance(value, list) else []
    elif kind in ("integer", "number"):
        made.attrs = {k: schema[s] for k, s in (("min", "minimum"), ("max", "maximum")) if s in schema}
        made.attrs["step"] = "1" if kind == "integer" else "any"
    elif kind in ("text", "textarea"):
        if "maxLength" in schema:
            made.attrs["maxlength"] = schema["maxLength"]
        if kind == "textarea":
            made.attrs["rows"] = options.get("rows", 4)
    elif kind == "group":
        made.children = _object_fields(schema, ui, value or {}, errors, name, path)
    if fixed:  # filled in by the process: shown, sent back as it was, not edited
        made.attrs["readonly"] = True
    elif kind == "rows":
        items = schema.get("items") or {}
        items_ui = ui.get("items") or {}
        current = value if isinstance(value, list) else []
        made.rows = [_row(items, items_ui, item, errors, name, path, i) for i, item in enumerate(current)]
        if not made.rows and schema.get("minItems", 0) > 0:
            made.rows = [_row(items, items_ui, {}, errors, name, path, 0)]
        made.template = _row(items, items_ui, {}, {}, name, path, "__index__")
        made.attrs = {"min_items": schema.get("minItems", 0), "max_items": schema.get("maxItems"),
                      "item_title": items.get("title") or "Row",  # rows the process fills in may be fixed
                      "addable": options.get("addable", True) is not False,
                      "removable": options.get("removable", True) is not False}
    return made


def _row(items, items_ui, item, errors, name, path, index) -> Row:
    row_name, row_path = f"{name}.{index}", f"{path}/{index}"
    if (items.get("type") or "object") == "object":
        fields = _object_fields(items, items_ui, item, errors, row_name, row_path)
    else:  # a list of plain values: one field per row
        fields = [_field("value", items, items_ui, item, errors, f"{row_name}.value", row_path, True)]
    return Row(index, fields, row_name)


def _options(values, names) -> list[tuple[str, str]]:
    names = names or []
    return [(v, names[i] if i < len(names) else str(v).replace("_", " ").capitalize()) for i, v in enumerate(values)]


def kind_of(schema: dict, ui: dict) -> str:
    widget = ui.get("ui:widget")
    kind = schema.get("type")
    if kind == "object":
        return "group"
    if kind == "array":
        items = schema.get("items") or {}
        return "checkboxes" if "enum" in items else "rows"
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return kind
    if schema.get("format") == "evidence" or widget == "file":
        return "evidence"
    if "enum" in schema:
        return "radio" if widget == "radio" else "select"
    if schema.get("format") == "date" or widget == "date":
        return "date"
    return "textarea" if widget == "textarea" else "text"


# ------------------------------------------------------------------------------ reading a posted form
def read_form(schema: dict | None, ui: dict | None, form, evidence_ids: dict[str, str] | None = None,
              skip_rows: set[str] | frozenset = frozenset()) -> dict:
    """Form data from a posted form (a werkzeug MultiDict). Empty inputs are left out, so `required` speaks.

    `evidence_ids` maps an evidence field's HTML name to the id of a file just uploaded for it;
    `skip_rows` names rows to leave out (the no-JavaScript 'Remove' button).
    A number that does not parse is kept as typed: validation then names it and the form shows it again.
    """
    if not schema:
        return {}
    return _read_object(schema, ui or {}, form, _Context(evidence_ids or {}, skip_rows), PREFIX)


@dataclass(frozen=True)
class _Context:
    evidence: dict
    skip_rows: set | frozenset

    def get(self, name):
        return self.evidence.get(name)


def _read_object(schema, ui, form, evidence, name) -> dict:
    data = {}
    for key, sub in (schema.get("properties") or {}).items():
        value = _read(sub or {}, ui.get(key) or {}, form, evidence, f"{name}.{key}")
        if value is not None:
            data[key] = value
    return data


def _read(schema, ui, form, evidence, name):
    kind = kind_of(schema, ui)
    if kind == "group":
        return _read_object(schema, ui, form, evidence, name) or None
    if kind == "rows":
        items, items_ui = schema.get("items") or {}, ui.get("items") or {}
        indexes = sorted({int(i) for i in form.getlist(f"{name}.{ROW_MARK}") if i.isdigit()})
        rows = []
        for index in indexes:
            row_name = f"{name}.{index}"
            if row_name in evidence.skip_rows:
                continue
            if (items.get("type") or "object") == "object":
                row = _read_object(items, items_ui, form, evidence, row_name)
                if any(v not in (None, False, "", []) for v in row.values()):
                    rows.append(row)
            else:
                value = _read(items, items_ui, form, evidence, f"{row_name}.value")
                if value is not None:
                    rows.append(value)
        return rows or None
    if kind == "checkboxes":
        chosen = [v for v in form.getlist(name) if v]
        return chosen or None
    if kind == "checkbox":
        return form.get(name) in ("on", "true", "1", "yes")
    if kind == "evidence":
        return evidence.get(name) or (form.get(name) or "").strip() or None
    raw = (form.get(name) or "").strip()
    if raw == "":
        return None
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw
    if kind == "number":
        try:
            number = float(raw)
        except ValueError:
            return raw
        return int(number) if number.is_integer() and "." not in raw and "e" not in raw.lower() else number
    if kind in ("select", "radio"):
        return _typed_choice(raw, schema.get("enum") or [])
    return raw


def _typed_choice(raw: str, choices: list):
    """An enum may hold numbers or booleans; the browser sends text."""
    return next((c for c in choices if str(c) == raw), raw)


def evidence_field_names(schema: dict | None, ui: dict | None, form) -> list[str]:
    """HTML names of the evidence fields on the posted page (including those inside repeatable rows)."""
    names: list[str] = []

    def walk(sch, u, name):
        for key, sub in (sch.get("properties") or {}).items():
            sub, sub_ui, sub_name = sub or {}, (u.get(key) or {}), f"{name}.{key}"
            kind = kind_of(sub, sub_ui)
            if kind == "evidence":
                names.append(sub_name)
            elif kind == "group":
                walk(sub, sub_ui, sub_name)
            elif kind == "rows":
                items, items_ui = sub.get("items") or {}, sub_ui.get("items") or {}
                for index in form.getlist(f"{sub_name}.{ROW_MARK}"):
                    if index.isdigit():
                        if (items.get("type") or "object") == "object":
                            walk(items, items_ui, f"{sub_name}.{index}")
                        elif kind_of(items, items_ui) == "evidence":
                            names.append(f"{sub_name}.{index}.value")

    if schema:
        walk(schema, ui or {}, PREFIX)
    return names


def evidence_values(schema: dict | None, data: dict) -> list[str]:
    """Every evidence id the data refers to."""
    found: list[str] = []

    def walk(sch, value):
        kind = sch.get("type")
        if kind == "object" and isinstance(value, dict):
            for key, sub in (sch.get("properties") or {}).items():
                if key in value:
                    walk(sub or {}, value[key])
        elif kind == "array" and isinstance(value, list):
            for item in value:
                walk(sch.get("items") or {}, item)
        elif sch.get("format") == "evidence" and isinstance(value, str) and value:
            found.append(value)

    if schema:
        walk({"type": "object", **schema}, data)
    return found


def declared(schema: dict | None, data: dict | None) -> dict:
    """Only the fields the form declares: task data also holds engine state a form must not show or send. A value
    an earlier task left that this form's choices do not allow (a stage-1 plan type at stage 4) is not offered:
    the field starts from its default instead."""
    if not schema or not data:
        return {}
    properties = schema.get("properties") or {}
    return {k: v for k, v in data.items() if k in properties and not isinstance(v, date | bytes)
            and ("enum" not in properties[k] or v in properties[k]["enum"])}


# ------------------------------------------------------------------------------ messages people understand
def check(schema: dict | None, data: dict) -> dict[str, str]:
    """{error path: plain-language message}; empty when `data` is valid. Paths agree with `field_errors`."""
    if not schema:
        return {}
    errors: dict[str, str] = {}
    validator = jsonschema.validators.validator_for(schema)(schema, format_checker=jsonschema.FormatChecker())
    for error in validator.iter_errors(data):
        for path, message in _explain(error):
            errors.setdefault(path, message)
    for path, message in field_errors(schema, data).items():  # the rule complete_task applies, as a backstop
        errors.setdefault(path, message)
    return errors


def _missing(schema: dict) -> str:
    if schema.get("type") == "array":
        return "Choose at least one option." if "enum" in (schema.get("items") or {}) else "Add at least one entry."
    if schema.get("type") == "boolean":
        return "Tick this box to confirm."
    return "This field is required."


def _explain(error) -> list[tuple[str, str]]:
    path = "/".join(str(p) for p in error.absolute_path)
    kind, expected, value = error.validator, error.validator_value, error.instance
    if kind in ("allOf", "anyOf", "oneOf", "if", "then") and error.context:
        return [pair for sub in error.context for pair in _explain(sub)]
    if kind == "required":
        missing = [k for k in expected if isinstance(value, dict) and k not in value]
        properties = (error.schema or {}).get("properties") or {}
        return [("/".join(p for p in (path, k) if p), _missing(properties.get(k) or {})) for k in missing]
    if kind == "minLength":
        return [(path, "This field is required." if expected <= 1 else f"Write at least {expected} characters.")]
    if kind == "maxLength":
        return [(path, f"Write at most {expected} characters (this has {len(value)}).")]
    if kind == "minimum":
        return [(path, f"Enter a number of at least {expected}.")]
    if kind == "maximum":
        return [(path, f"Enter a number no greater than {expected}.")]
    if kind in ("exclusiveMinimum", "exclusiveMaximum"):
        return [(path, f"Enter a number {'above' if kind == 'exclusiveMinimum' else 'below'} {expected}.")]
    if kind == "type":
        wanted = {"integer": "a whole number", "number": "a number", "string": "text", "boolean": "yes or no",
                  "array": "a list", "object": "a group of answers"}
        names = expected if isinstance(expected, list) else [expected]
        return [(path, "Enter " + " or ".join(wanted.get(n, n) for n in names) + ".")]
    if kind == "enum":
        return [(path, "Choose one of the options.")]
    if kind == "const":
        return [(path, "Tick this box to confirm." if expected is True else f"This must be {expected!r}.")]
    if kind == "format":
        return [(path, "Enter a date as YYYY-MM-DD." if expected == "date" else f"Enter a valid {expected}.")]
    if kind == "minItems":
        return [(path, f"Add at least {expected} {'entry' if expected == 1 else 'entries'}.")]
    if kind == "maxItems":
        return [(path, f"Keep at most {expected} entries.")]
    if kind == "uniqueItems":
        return [(path, "Each entry must be different.")]
    if kind == "pattern":
        return [(path, "This is not in the expected format.")]
    return [(path or "(form)", error.message)]


# ------------------------------------------------------------------------------ repeatable rows without JS
def path_of(name: str) -> str:
    """The error path of an HTML name: f.risks.0.owner -> risks/0/owner."""
    return "/".join(name.split(".")[1:])


def add_row(data: dict, name: str) -> dict:
    """`data` with one blank row appended to the repeatable field `name` (the no-JavaScript 'Add' button)."""
    parts = name.split(".")[1:]
    target = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        key = int(part) if isinstance(target, list) else part
        if isinstance(target, list):
            if not 0 <= key < len(target):
                return data
            target = target[key]
            continue
        if last:
            target.setdefault(part, [])
            if isinstance(target[part], list):
                target[part].append({})
        else:
            target = target.setdefault(part, {})
        if not isinstance(target, dict | list):
            return data
    return data


def titles(fields: list[Field], prefix: str = "") -> dict[str, str]:
    """{error path: 'Risks › 2 › Owner'}: how the error summary names a field."""
    named: dict[str, str] = {}
    for f in fields:
        label = f"{prefix} › {f.title}" if prefix else f.title
        named[f.path] = label
        named.update(titles(f.children, label))
        for number, row in enumerate(f.rows, 1):
            named[f"{f.path}/{row.index}"] = f"{label} › {number}"
            named.update(titles(row.fields, f"{label} › {number}"))
    return named
