"""The form builder in Debian's Chromium, as a process owner uses it: a new form for a task built field by field
beside its JSON, seen in the live preview, tried, saved into the drafts and handed back to the modeller; a JSON
mistake located and kept; every bundled form read into the builder and written back unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import jsonschema
from playwright.sync_api import expect
from sqlalchemy import select

from app.modeler.models import Draft
from tests.support.browser import sign_in

FORMS = Path(__file__).resolve().parents[2] / "forms"


def _watch_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def _settled_preview(page):
    """The preview once it shows the latest JSON: it is aria-busy from an edit until that edit's render arrives."""
    preview = page.locator("#preview")
    expect(preview).not_to_have_attribute("aria-busy", "true")
    return preview


def _field(page, index: str):
    """The builder's card of a field by its position (`1`, or `3-0` for row field 0 of field 3): ids fb-<path>-*."""
    return lambda part: page.locator(f"#fb-{index}-{part}")


def _add_field(page, label, type_label=None, *, add="#fb-add", index):
    page.locator(add).click()
    field = _field(page, index)
    field("title").fill(label)
    if type_label:
        field("type").select_option(label=type_label)
    return field


def test_a_new_form_built_field_by_field_is_previewed_tried_saved_and_handed_back(page, live_server, session, users,
                                                                                  lifecycle):
    errors = _watch_errors(page)
    sign_in(page, live_server, session, users["owner"])
    page.goto(live_server + "/processes")
    expect(page.get_by_role("link", name="New form")).to_be_visible()

    back = "/processes/diagrams/web_stage1.bpmn?zoom=1"
    page.goto(live_server + "/processes/forms/new?for=s5_new_task&diagram=web_stage1.bpmn&return=" + quote(back, safe=""))
    expect(page.get_by_label("Form name")).to_have_value("s5_new_task")
    page.get_by_role("button", name="Build the form").click()
    page.wait_for_url("**/processes/forms/s5_new_task?**")
    expect(page.locator("#builder[data-ready=true]")).to_have_count(1)
    expect(page.locator("#made-for")).to_contain_text("s5_new_task")

    page.get_by_label("Form title").fill("Joint review of the new work")
    summary = _add_field(page, "Summary of the review", index="0")
    expect(summary("key")).to_have_value("summary_of_the_review")  # the key follows the label while it is new
    summary("required").check()
    summary("help").fill("What the two organisations agreed.")

    outcome = _add_field(page, "Outcome", "Choice from a list", index="1")
    outcome("choices").fill("Carry on\nChange the plan\nStop")
    outcome("widget").select_option(label="Buttons, all visible")

    _add_field(page, "Review date", "Date", index="2")

    actions = _add_field(page, "Actions", "Repeatable rows", index="3")
    actions("row-title").fill("Action")
    page.locator("#fb-3-add").click()
    page.locator("#fb-3-0-title").fill("What to do")
    page.locator("#fb-3-0-required").check()
    page.locator("#fb-3-add").click()
    page.locator("#fb-3-1-title").fill("Due by")
    page.locator("#fb-3-1-type").select_option(label="Date")

    # the JSON follows the builder
    schema = json.loads(page.input_value("#schema"))
    ui = json.loads(page.input_value("#ui"))
    assert schema["title"] == "Joint review of the new work"
    assert list(schema["properties"]) == ["summary_of_the_review", "outcome", "review_date", "actions"]
    assert schema["required"] == ["summary_of_the_review"]
    assert schema["properties"]["outcome"]["enum"] == ["carry_on", "change_the_plan", "stop"]
    assert ui["outcome"] == {"ui:widget": "radio", "ui:enumNames": ["Carry on", "Change the plan", "Stop"]}
    assert schema["properties"]["actions"]["items"]["required"] == ["what_to_do"]
    assert ui["ui:order"] == ["summary_of_the_review", "outcome", "review_date", "actions"]

    # the live preview is the task page's renderer
    preview = _settled_preview(page)
    expect(preview.locator('input[name="f.summary_of_the_review"]')).to_be_visible()
    expect(preview.locator('input[type=radio][name="f.outcome"]')).to_have_count(3)
    expect(preview.get_by_label("Change the plan")).to_be_visible()
    expect(preview.locator('input[type=date][name="f.review_date"]')).to_be_visible()
    preview.get_by_role("button", name="+ Add action").click()
    expect(preview.locator('input[name="f.actions.0.what_to_do"]')).to_be_visible()
    expect(preview.locator('input[type=date][name="f.actions.0.due_by"]')).to_be_visible()

    # "Try it": empty required answers get the messages staff would get, beside their fields
    preview.locator('input[name="f.actions.0.due_by"]').fill("2027-01-15")
    preview.get_by_role("button", name="Try it").click()
    expect(preview.locator("#try-summary")).to_contain_text("Summary of the review")
    expect(preview.locator("#fld-f-summary_of_the_review-error")).to_contain_text("This field is required.")
    expect(preview.locator("#fld-f-actions-0-what_to_do-error")).to_contain_text("This field is required.")
    preview.locator('input[name="f.summary_of_the_review"]').fill("Agreed to go on")
    preview.locator('input[name="f.actions.0.what_to_do"]').fill("Share the plan")
    preview.get_by_role("button", name="Try it").click()
    expect(preview.locator("#try-summary")).to_have_text("These answers would be accepted.")

    # the modeller takes form=, ui= and for= out of its address as soon as it has read them: read the navigation
    with page.expect_request(lambda r: r.is_navigation_request() and "/processes/diagrams/web_stage1.bpmn" in r.url
                             ) as back_to_modeller:
        page.get_by_role("button", name="Save to my drafts and go back").click()
    query = parse_qs(urlsplit(back_to_modeller.value.url).query)
    assert query == {"zoom": ["1"], "form": ["s5_new_task.schema.json"], "ui": ["s5_new_task.uischema.json"],
                     "for": ["s5_new_task"]}

    session.expire_all()
    saved = {d.name: json.loads(d.content) for d in session.scalars(
        select(Draft).where(Draft.user_id == users["owner"].id, Draft.kind == "form"))}
    session.commit()
    assert set(saved) == {"s5_new_task.schema.json", "s5_new_task.uischema.json"}
    jsonschema.Draft202012Validator.check_schema(saved["s5_new_task.schema.json"])
    assert saved["s5_new_task.schema.json"] == schema and saved["s5_new_task.uischema.json"] == ui
    assert not errors, errors


def test_a_json_mistake_is_located_and_kept_and_the_builder_follows_valid_json(page, live_server, session, users,
                                                                              lifecycle):
    errors = _watch_errors(page)
    sign_in(page, live_server, session, users["owner"])
    page.goto(live_server + "/processes/forms/policy")
    expect(page.locator("#builder[data-ready=true]")).to_have_count(1)

    broken = '{\n  "type": "object",\n  "properties": {\n    "budget": {"type": "integer", "title": "Budget"},\n  }\n}'
    page.fill("#schema", broken)
    expect(page.locator("#builder-status")).to_contain_text("line 5")
    expect(page.locator("#builder-status")).to_contain_text("what you typed is kept")
    expect(page.locator("#form-title")).to_be_disabled()
    assert page.input_value("#schema") == broken

    page.get_by_role("button", name="Save to my drafts").click()
    expect(page.locator("#form-errors")).to_contain_text("line 5")
    assert page.input_value("#schema") == broken  # refused, kept as typed
    expect(page.locator("#builder-status")).to_contain_text("line 5")  # the page drawn again says it too
    assert errors == ["Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"]
    errors.clear()
    session.expire_all()
    assert session.scalars(select(Draft)).first() is None
    session.commit()

    page.fill("#schema", broken.replace("},\n  }", "}\n  }"))
    expect(page.locator("#fb-0-title")).to_have_value("Budget")
    expect(page.locator("#fb-0-type")).to_have_value("integer")
    page.locator("#fb-0-minimum").fill("0")
    expect(page.locator("#preview input[name='f.budget']")).to_have_attribute("min", "0")
    assert json.loads(page.input_value("#schema"))["properties"]["budget"]["minimum"] == 0

    page.locator("#fb-0-title").press("Control+s")  # Ctrl+S saves to the drafts
    expect(page.locator(".flash.success")).to_contain_text("Saved the form to your drafts")
    session.expire_all()
    saved = session.scalars(select(Draft).where(Draft.name == "policy.schema.json")).one()
    assert json.loads(saved.content)["properties"]["budget"] == {"type": "integer", "title": "Budget", "minimum": 0}
    session.commit()
    assert not errors, errors


def test_a_bundled_form_opens_in_the_builder_and_every_bundled_form_round_trips(page, live_server, session, users,
                                                                               bundled):
    errors = _watch_errors(page)
    sign_in(page, live_server, session, users["owner"])
    page.goto(live_server + "/processes")
    page.get_by_role("link", name="exit_deadlock.schema.json").click()
    expect(page.locator("#builder[data-ready=true]")).to_have_count(1)
    expect(page.get_by_label("Form title")).to_have_value("Exit trigger deadlock")
    expect(page.locator("#fb-0[data-type=json]")).to_contain_text("edit it in the JSON")  # a group of fields
    expect(page.locator("#fb-1-type")).to_have_value("choice")
    expect(page.locator("#fb-1-choices")).to_have_value(
        "continue = Continue the relationship\nInvoke exit\nexternal_mediation = Refer to external mediation")
    expect(page.locator("#preview #form-preview-fields")).to_be_visible()

    # an edit in the builder changes that and nothing else of the form
    before = json.loads(page.input_value("#schema")), json.loads(page.input_value("#ui"))
    page.locator("#fb-1-title").fill("How the exit strategy settles it")
    after = json.loads(page.input_value("#schema")), json.loads(page.input_value("#ui"))
    before[0]["properties"]["deadlock_resolution"]["title"] = "How the exit strategy settles it"
    assert after == before
    expect(page.locator("#preview")).to_contain_text("How the exit strategy settles it")

    # a key another field has is refused beside the field, and the JSON waits
    page.locator("#fb-2-key").fill("deadlock_resolution")
    expect(page.locator("#fb-2-problem")).to_have_text("another field has this key")
    assert json.loads(page.input_value("#schema")) == after[0]
    page.locator("#fb-2-key").fill("provision")
    expect(page.locator("#fb-2-problem")).to_have_text("")
    renamed = json.loads(page.input_value("#schema"))
    assert "provision" in renamed["properties"] and "exit_strategy_provision" not in renamed["properties"]
    assert json.loads(page.input_value("#ui"))["ui:order"][2] == "provision"

    # move and remove
    page.get_by_role("button", name="Move How the exit strategy settles it up").click()
    assert json.loads(page.input_value("#ui"))["ui:order"][:2] == ["deadlock_resolution", "exit_info"]
    page.get_by_role("button", name="Remove How the exit strategy settles it").click()
    schema = json.loads(page.input_value("#schema"))
    assert "deadlock_resolution" not in schema["properties"] and "deadlock_resolution" not in schema["required"]
    assert "deadlock_resolution" not in json.loads(page.input_value("#ui"))
    expect(page.locator("#preview [name='f.deadlock_resolution']")).to_have_count(0)

    pairs = {path.name[: -len(".schema.json")]: [json.loads(path.read_text()),
                                                  json.loads(path.with_name(path.name.replace(".schema.", ".uischema.")).read_text())]
             for path in sorted(FORMS.glob("*.schema.json"))}
    assert len(pairs) > 50
    written = page.evaluate("""pairs => Object.fromEntries(Object.entries(pairs).map(([name, [schema, ui]]) => {
        const b = window.collabflowFormBuilder, out = b.fromModel(b.toModel(schema, ui));
        const model = b.toModel(schema, ui);
        const types = model.fields.flatMap(f => [f.type].concat((f.sub || []).map(s => s.type)));
        // the choices as the builder shows them read back to the same values and labels
        const choices = model.fields.filter(f => f.type === "choice" || f.type === "choices").map(f => {
            const read = b.parseChoices(b.choicesText(f));
            const home = f.type === "choices" ? f.schema.items : f.schema;
            const names = f.ui["ui:enumNames"] || (f.ui.items || {})["ui:enumNames"]
                || home.enum.map(v => v.replace(/_/g, " ").replace(/^./, c => c.toUpperCase()));
            return [f.key, read.problem, JSON.stringify(read.values) === JSON.stringify(home.enum),
                    JSON.stringify(read.labels) === JSON.stringify(names)];
        });
        return [name, [out.schema, out.ui, types, choices]];
    }))""", pairs)
    kinds: list[str] = []
    for name, (schema, ui) in pairs.items():
        out_schema, out_ui, types, choices = written[name]
        assert out_schema == schema, name
        assert out_ui == ui, name
        assert all(c[1:] == [None, True, True] for c in choices), (name, choices)
        kinds += types
    assert {"text", "textarea", "date", "choice", "choices", "evidence", "rows", "boolean", "integer", "number"} <= set(kinds)
    assert kinds.count("json") < len(kinds) / 20, kinds.count("json")  # nearly every bundled field is in the builder
    assert not errors, errors
