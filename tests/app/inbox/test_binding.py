"""Forms as HTML fields and back: every field kind, typed values kept, messages people understand."""

from __future__ import annotations

import json

from werkzeug.datastructures import MultiDict

from app.inbox.binding import add_row, build_fields, check, evidence_field_names, evidence_values, read_form
from app.inbox.instructions import render_instructions
from tests.support.web import read_web_bundle

_files, FORMS = read_web_bundle()
POLICY, POLICY_UI = json.loads(FORMS["policy.schema.json"]), json.loads(FORMS["policy.uischema.json"])
GATE, GATE_UI = json.loads(FORMS["gate.schema.json"]), json.loads(FORMS["gate.uischema.json"])


def test_every_kind_of_field_is_recognised_in_ui_order():
    fields = build_fields(POLICY, POLICY_UI, {})
    assert [(f.key, f.kind) for f in fields] == [
        ("policy_text", "textarea"), ("owner", "text"), ("approved_on", "date"), ("review_months", "integer"),
        ("budget", "number"), ("scope", "select"), ("channels", "checkboxes"), ("improvement", "checkbox"),
        ("document", "evidence"), ("sponsor", "group"), ("communications", "rows")]
    by_key = {f.key: f for f in fields}
    assert by_key["review_months"].attrs == {"min": 1, "max": 36, "step": "1"}
    assert by_key["scope"].options[1] == ("division", "One division")
    assert by_key["policy_text"].required and not by_key["owner"].required
    rows = by_key["communications"]
    assert len(rows.rows) == 1  # minItems 1: one blank row to start with
    assert [f.kind for f in rows.rows[0].fields] == ["text", "select", "checkboxes", "evidence"]
    assert rows.template.fields[0].name == "f.communications.__index__.audience"
    assert [f.kind for f in build_fields(GATE, GATE_UI, {})] == ["radio", "textarea"]


def test_a_posted_form_becomes_typed_data():
    form = MultiDict([
        ("f.policy_text", " Policy "), ("f.owner", ""), ("f.review_months", "12"), ("f.budget", "2.5"),
        ("f.scope", "site"), ("f.channels", "email"), ("f.channels", "briefing"), ("f.improvement", "on"),
        ("f.document", "7"), ("f.sponsor.name", "Ann"),
        ("f.communications.__row", "3"), ("f.communications.__row", "0"),
        ("f.communications.0.audience", "Board"), ("f.communications.0.topics", "policy"),
        ("f.communications.3.audience", ""),  # an empty row is dropped
    ])
    assert read_form(POLICY, POLICY_UI, form) == {
        "policy_text": "Policy", "review_months": 12, "budget": 2.5, "scope": "site",
        "channels": ["email", "briefing"], "improvement": True, "document": "7", "sponsor": {"name": "Ann"},
        "communications": [{"audience": "Board", "topics": ["policy"]}]}
    assert evidence_field_names(POLICY, POLICY_UI, form) == ["f.document", "f.communications.3.proof",
                                                             "f.communications.0.proof"]
    assert read_form(POLICY, POLICY_UI, MultiDict([("f.improvement", "")]))["improvement"] is False


def test_messages_name_the_problem_in_plain_words():
    data = read_form(POLICY, POLICY_UI, MultiDict([("f.review_months", "many"), ("f.budget", "-1"),
                                                   ("f.approved_on", "31/01/2026"),
                                                   ("f.communications.__row", "0"),
                                                   ("f.communications.0.channel", "fax")]))
    errors = check(POLICY, data)
    assert errors["review_months"] == "Enter a whole number."
    assert errors["budget"] == "Enter a number of at least 0."
    assert errors["approved_on"] == "Enter a date as YYYY-MM-DD."
    assert errors["improvement"] == "Tick this box to confirm."
    assert errors["channels"] == "Choose at least one option."
    assert errors["communications/0/channel"] == "Choose one of the options."
    assert errors["communications/0/audience"] == "This field is required."
    fields = build_fields(POLICY, POLICY_UI, data, errors)
    assert [f.value for f in fields if f.key == "review_months"] == ["many"]  # kept as typed


def test_conditional_requirements_of_gates():
    assert check(GATE, {"decision": "approve"}) == {}
    assert check(GATE, {"decision": "rework"}) == {"comments": "This field is required."}
    assert check(GATE, {"decision": "stop", "comments": ""}) == {"comments": "This field is required."}
    assert check(GATE, {}) == {"decision": "This field is required."}


def test_rows_added_without_javascript_and_evidence_found_in_rows():
    assert add_row({"communications": [{"audience": "A"}]}, "f.communications") == \
        {"communications": [{"audience": "A"}, {}]}
    assert add_row({}, "f.sponsor.nothing") == {"sponsor": {"nothing": [{}]}}
    data = {"document": "1", "communications": [{"proof": "2"}, {"audience": "x"}]}
    assert evidence_values(POLICY, data) == ["1", "2"]


def test_instructions_are_markdown_without_html_or_scripts():
    html = str(render_instructions("Do **this** <img src=x onerror=alert(1)> [a](javascript:alert(1))"))
    assert "<strong>this</strong>" in html and "<img" not in html and 'href="javascript' not in html
    assert render_instructions("  ") is None


def test_instructions_are_a_sandboxed_template_over_the_task_data():
    text = '{% if decision == "rework" %}**Sent back:** {{ comments }}{% endif %}Write it.'
    assert "Sent back" not in str(render_instructions(text, {"decision": "approve"}))
    shown = str(render_instructions(text, {"decision": "rework", "comments": "<script>x</script> more"}))
    assert "<strong>Sent back:</strong>" in shown and "<script>" not in shown and "more" in shown
    assert "Write it." in str(render_instructions("{{ ''.__class__.__mro__ }}Write it.", {}))
    assert "{% if" in str(render_instructions("{% if %}broken", {}))


def test_instructions_put_periods_and_choices_in_words():
    html = str(render_instructions("Checked after {{ after|period }}; found by {{ source|words }}.",
                                   {"after": "P3M", "source": "internal_audit"}))
    assert "Checked after 3 months; found by internal audit." in html
