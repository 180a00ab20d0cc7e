"""Form changes between two versions, field by field: added, removed and changed fields with their title, type,
required and choices old → new, columns of repeatable rows included."""

from __future__ import annotations

import json

from app.processes.form_changes import form_changes


def _form(**properties):
    required = [name for name, p in properties.items() if p.pop("required", False)]
    return json.dumps({"type": "object", "title": "Risks", "properties": properties, "required": required}).encode()


def test_fields_added_removed_and_changed_with_old_and_new_values():
    old = _form(owner={"type": "string", "title": "Owner"}, level={"type": "string", "enum": ["low", "high"]},
                risks={"type": "array", "items": {"type": "object", "properties": {
                    "title": {"type": "string", "title": "Risk"}}}}, note={"type": "string"})
    new = _form(owner={"type": "string", "title": "Risk owner", "required": True},
                level={"type": "string", "enum": ["low", "medium", "high"]},
                risks={"type": "array", "items": {"type": "object", "properties": {
                    "title": {"type": "string", "title": "Risk"}, "due": {"type": "string", "format": "date"}}}},
                review={"type": "integer", "title": "Review every (months)"})
    (change,) = form_changes({"risks.schema.json": old}, {"risks.schema.json": new})
    assert (change.name, change.how, change.other) == ("risks.schema.json", "changed", False)
    fields = {f.field: f for f in change.fields}
    assert fields["owner"].aspects == ("title", "required")
    assert (fields["owner"].old["title"], fields["owner"].new["title"]) == ("Owner", "Risk owner")
    assert (fields["owner"].old["required"], fields["owner"].new["required"]) == ("optional", "required")
    assert fields["level"].aspects == ("choices",) and fields["level"].new["choices"] == "low, medium, high"
    assert fields["risks[].due"].how == "added" and fields["risks[].due"].new["type"] == "string (date)"
    assert fields["note"].how == "removed" and fields["review"].how == "added"
    assert "risks[].title" not in fields and "risks" not in fields, "unchanged fields are not listed"


def test_forms_added_removed_and_changed_beyond_their_fields():
    form = _form(owner={"type": "string", "title": "Owner"})
    described = json.loads(form)
    described["properties"]["owner"]["description"] = "Who keeps it current"
    changes = form_changes({"a.schema.json": form, "b.schema.json": form},
                           {"b.schema.json": json.dumps(described).encode(), "c.schema.json": form})
    assert [(c.name, c.how) for c in changes] == [("a.schema.json", "removed"), ("b.schema.json", "changed"),
                                                  ("c.schema.json", "added")]
    assert changes[1].other and changes[1].fields == ()
    assert [(f.field, f.how, f.new["title"]) for f in changes[2].fields] == [("owner", "added", "Owner")]
    assert form_changes({"a.schema.json": form}, {"a.schema.json": form}) == []
