"""Choices a form takes from the process's data: the values found at the named path become the field's enum, so
the page offers them and validation accepts nothing else; without that data the field stays free text."""

from __future__ import annotations

from app.processes.choices import has_choices, values_at, with_choices
from app.processes.forms import field_errors

SCHEMA = {"type": "object", "properties": {
    "partner": {"type": "string"},
    "scores": {"type": "array", "items": {"type": "object", "properties": {"criterion": {"type": "string"}}}}}}
UI = {"partner": {"ui:options": {"choicesFrom": "ranking.name"}},
      "scores": {"items": {"criterion": {"ui:options": {"choicesFrom": "criteria.criterion"}}}}}
DATA = {"ranking": [{"name": "Alpha Ltd"}, {"name": "Beta GmbH"}, {"name": "Alpha Ltd"}],
        "criteria": [{"criterion": "Culture"}, {"criterion": ""}, {"criterion": "Quality"}]}


def test_the_values_at_a_path_walk_lists_keep_order_and_drop_blanks_and_repeats():
    assert values_at(DATA, "ranking.name") == ["Alpha Ltd", "Beta GmbH"]
    assert values_at(DATA, "criteria.criterion") == ["Culture", "Quality"]
    assert values_at(DATA, "ranking.missing") is None and values_at({}, "ranking.name") is None


def test_the_choices_become_the_enum_and_only_they_are_accepted():
    assert has_choices(UI) and not has_choices({"partner": {"ui:widget": "select"}})
    resolved = with_choices(SCHEMA, UI, DATA)
    assert resolved["properties"]["partner"]["enum"] == ["Alpha Ltd", "Beta GmbH"]
    assert resolved["properties"]["scores"]["items"]["properties"]["criterion"]["enum"] == ["Culture", "Quality"]
    assert "enum" not in SCHEMA["properties"]["partner"], "the cached form is not changed"
    assert field_errors(resolved, {"partner": "Beta GmbH", "scores": [{"criterion": "Quality"}]}) == {}
    errors = field_errors(resolved, {"partner": "Alpha Limited", "scores": [{"criterion": "Qualty"}]})
    assert set(errors) == {"partner", "scores/0/criterion"}


def test_without_the_data_the_field_stays_free_text():
    assert with_choices(SCHEMA, UI, {}) is SCHEMA
    assert "enum" not in with_choices(SCHEMA, UI, {"other": 1})["properties"]["partner"]
