"""Field helpers that produce a JSON Schema (draft 2020-12) + react-jsonschema-form UI schema pair.

Each helper returns a `Field`; `form()` assembles fields into `(schema, uischema)`.
Every field carries a `title` and a plain-words `description`.  Evidence uploads are strings with
`format: "evidence"` (the id of a file the server stores separately).
"""
from __future__ import annotations

from dataclasses import dataclass, field

DRAFT = "https://json-schema.org/draft/2020-12/schema"


@dataclass
class Field:
    name: str
    schema: dict
    ui: dict = field(default_factory=dict)
    required: bool = True


def _ui(ui, help_text):
    if help_text:
        ui = dict(ui, **{"ui:help": help_text})
    return ui


def text(name, title, desc, required=True, max_length=300, read_only=False, help=None, pattern=None):
    s = {"type": "string", "title": title, "description": desc, "maxLength": max_length}
    if pattern:
        s["pattern"] = pattern
    if read_only:
        s["readOnly"] = True
    return Field(name, s, _ui({}, help), required)


def textarea(name, title, desc, required=True, help=None, read_only=False):
    s = {"type": "string", "title": title, "description": desc, "maxLength": 20000}
    if read_only:
        s["readOnly"] = True
    return Field(name, s, _ui({"ui:widget": "textarea", "ui:options": {"rows": 5}}, help), required)


def integer(name, title, desc, minimum=None, maximum=None, required=True, help=None):
    s = {"type": "integer", "title": title, "description": desc}
    if minimum is not None:
        s["minimum"] = minimum
    if maximum is not None:
        s["maximum"] = maximum
    ui = {"ui:widget": "updown"}
    return Field(name, s, _ui(ui, help), required)


def number(name, title, desc, minimum=None, maximum=None, required=True, help=None):
    s = {"type": "number", "title": title, "description": desc}
    if minimum is not None:
        s["minimum"] = minimum
    if maximum is not None:
        s["maximum"] = maximum
    return Field(name, s, _ui({}, help), required)


def date(name, title, desc, required=True, help=None):
    s = {"type": "string", "format": "date", "title": title, "description": desc}
    return Field(name, s, _ui({"ui:widget": "date"}, help), required)


def choice(name, title, desc, options, required=True, widget="select", help=None, read_only=False):
    s = {"type": "string", "title": title, "description": desc, "enum": [v for v, _ in options]}
    if read_only:
        s["readOnly"] = True
    ui = {"ui:widget": widget, "ui:enumNames": [label for _, label in options]}
    return Field(name, s, _ui(ui, help), required)


def multi(name, title, desc, options, required=True, min_items=0, help=None):
    s = {"type": "array", "title": title, "description": desc, "uniqueItems": True,
         "items": {"type": "string", "enum": [v for v, _ in options]}}
    if min_items:
        s["minItems"] = min_items
    ui = {"ui:widget": "checkboxes", "items": {"ui:enumNames": [label for _, label in options]}}
    return Field(name, s, _ui(ui, help), required)


def boolean(name, title, desc, required=True, help=None, const=None):
    s = {"type": "boolean", "title": title, "description": desc}
    if const is not None:
        s["const"] = const
    return Field(name, s, _ui({"ui:widget": "checkbox"}, help), required)


def evidence(name, title, desc, required=False, help=None):
    s = {"type": "string", "format": "evidence", "title": title, "description": desc}
    return Field(name, s, _ui({"ui:widget": "file", "ui:options": {"evidence": True}}, help), required)


def _object_parts(fields):
    props = {f.name: f.schema for f in fields}
    req = [f.name for f in fields if f.required]
    ui = {"ui:order": [f.name for f in fields]}
    for f in fields:
        if f.ui:
            ui[f.name] = f.ui
    return props, req, ui


def rows(name, title, desc, fields, required=True, min_items=1, item_title=None, help=None):
    props, req, item_ui = _object_parts(fields)
    items = {"type": "object", "title": item_title or title, "properties": props}
    if req:
        items["required"] = req
    s = {"type": "array", "title": title, "description": desc, "items": items}
    if min_items:
        s["minItems"] = min_items
    ui = {"items": item_ui, "ui:options": {"orderable": True, "addable": True, "removable": True}}
    return Field(name, s, _ui(ui, help), required)


def obj(name, title, desc, fields, required=True, help=None, conditions=()):
    props, req, ui = _object_parts(fields)
    s = {"type": "object", "title": title, "description": desc, "properties": props}
    if req:
        s["required"] = req
    if conditions:
        s["allOf"] = list(conditions)
    return Field(name, s, _ui(ui, help), required)


def require_if(field_name, values, required_fields):
    """`if field_name in values then required_fields are required and non-empty`."""
    return {
        "if": {"properties": {field_name: {"enum": list(values)}}, "required": [field_name]},
        "then": {"required": list(required_fields),
                 "properties": {f: {"minLength": 1} for f in required_fields}},
    }


def form(title, description, fields, conditions=()):
    props, req, ui = _object_parts(fields)
    schema = {"$schema": DRAFT, "title": title, "description": description, "type": "object",
              "properties": props}
    if req:
        schema["required"] = req
    if conditions:
        schema["allOf"] = list(conditions)
    return schema, ui
