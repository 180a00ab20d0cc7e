"""Starting a new form and saving it back to the page that asked for it, through the real app and database: names
checked (unsafe, reserved, taken), return URLs only on this site, nothing written on a refusal, the "Try it" preview."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.modeler.models import Draft
from app.modeler.new_form import suggest_name
from app.modeler.services import check_form
from tests.support.web import token

FORMS = Path(__file__).resolve().parents[3] / "forms"
MODELLER = "/processes/diagrams/web_stage1.bpmn?zoom=1"
SCHEMA = json.dumps({"type": "object", "title": "Check", "properties": {
    "summary": {"type": "string", "title": "Summary"},
    "actions": {"type": "array", "title": "Actions", "items": {"type": "object", "title": "Action", "properties": {
        "what": {"type": "string", "title": "What"}}, "required": ["what"]}}}, "required": ["summary"]})
UI = json.dumps({"ui:order": ["summary", "actions"]})


def drafts(session) -> int:
    session.expire_all()
    count = session.scalar(select(func.count()).select_from(Draft))
    session.commit()
    return count


@pytest.mark.parametrize(("element_id", "name"), [
    ("s5_new_task", "s5_new_task"), ("Activity_1nh24ja", "activity_1nh24ja"), ("s5 New--Task", "s5_new_task"),
    ("5_review", "form_5_review"), ("", ""), ("new", ""), ("___", "")])
def test_a_form_name_is_suggested_from_the_task_id(element_id, name):
    assert suggest_name(element_id) == name


def test_the_processes_page_offers_a_new_form(owner, lifecycle):
    page = owner.get("/processes").get_data(as_text=True)
    assert 'id="new-form" href="/processes/forms/new"' in page


def test_a_new_form_is_named_from_its_task_and_opened_with_the_way_back(owner, lifecycle, session):
    url = f"/processes/forms/new?for=s5_new_task&diagram=web_stage1.bpmn&return={quote(MODELLER, safe='')}"
    page = owner.get(url).get_data(as_text=True)
    assert 'value="s5_new_task"' in page and "web_stage1.bpmn" in page
    made = owner.post("/processes/forms/new", {"name": "s5_new_task", "for": "s5_new_task",
                                               "diagram": "web_stage1.bpmn", "return": MODELLER}, page=url)
    assert made.status_code == 302
    target = urlsplit(made.headers["Location"])
    assert target.path == "/processes/forms/s5_new_task"
    assert parse_qs(target.query) == {"for": ["s5_new_task"], "diagram": ["web_stage1.bpmn"], "return": [MODELLER]}

    editor = owner.get(made.headers["Location"]).get_data(as_text=True)
    assert "S5 new task" in editor and f'name="return" value="{MODELLER}"'.replace("&", "&amp;") in editor
    assert drafts(session) == 0  # naming writes nothing: saving does

    saved = owner.post("/processes/forms/s5_new_task", {"schema": SCHEMA, "ui": UI, "for": "s5_new_task",
                                                        "diagram": "web_stage1.bpmn", "return": MODELLER},
                       page=made.headers["Location"])
    assert saved.status_code == 302
    back = urlsplit(saved.headers["Location"])
    assert back.path == "/processes/diagrams/web_stage1.bpmn"
    assert parse_qs(back.query) == {"zoom": ["1"], "form": ["s5_new_task.schema.json"],
                                    "ui": ["s5_new_task.uischema.json"], "for": ["s5_new_task"]}
    rows = {d.name: d.content for d in session.scalars(select(Draft))}
    assert rows == {"s5_new_task.schema.json": SCHEMA.encode(), "s5_new_task.uischema.json": UI.encode()}
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "modeler.form_saved")).one()
    assert event.payload == {"form": "s5_new_task.schema.json", "fields": 2, "for": "s5_new_task",
                             "diagram": "web_stage1.bpmn"}


@pytest.mark.parametrize("name", ["", "../etc/passwd", "a b", "new", "9lives", "x" * 101, "policy.bpmn", "é"])
def test_a_bad_form_name_is_refused_with_the_reason(owner, lifecycle, session, name):
    response = owner.post("/processes/forms/new", {"name": name}, page="/processes/forms/new")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="new-form-error"' in page and ("give the form a name" in page or "cannot be a form name" in page)
    assert drafts(session) == 0


def test_a_taken_name_offers_to_open_that_form(owner, lifecycle, session):
    response = owner.post("/processes/forms/new", {"name": "policy", "for": "s1_policy", "return": MODELLER},
                          page="/processes/forms/new")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "a form named &#39;policy&#39; exists already" in page
    assert 'id="open-existing" href="/processes/forms/policy?for=s1_policy&amp;return=' in page
    owner.post("/processes/forms/mine", {"schema": SCHEMA, "ui": UI}, page="/processes/forms/mine")
    assert owner.post("/processes/forms/new", {"name": "mine.schema.json"}, page="/processes/forms/new"
                      ).status_code == 409  # a draft of the user's counts too


@pytest.mark.parametrize("url", ["https://elsewhere.example/x", "//elsewhere.example/x", "/\\elsewhere.example",
                                 "javascript:alert(1)", "processes", "/processes\r\nX-Injected: 1"])
def test_a_return_url_off_this_site_is_refused_and_nothing_is_saved(owner, lifecycle, session, url):
    assert owner.get(f"/processes/forms/new?return={quote(url, safe='')}").status_code == 400
    assert owner.post("/processes/forms/new", {"name": "fresh", "return": url},
                      page="/processes/forms/new").status_code == 400
    assert owner.get(f"/processes/forms/fresh?return={quote(url, safe='')}").status_code == 400
    saved = owner.post("/processes/forms/fresh", {"schema": SCHEMA, "ui": UI, "return": url},
                       page="/processes/forms/fresh")
    assert saved.status_code == 400
    assert drafts(session) == 0


def test_every_bundled_form_passes_the_editor_check_and_a_bad_key_is_named_with_its_line():
    for path in sorted(FORMS.glob("*.schema.json")):
        ui = path.with_name(path.name.replace(".schema.", ".uischema."))
        assert check_form(path.read_text(), ui.read_text()).errors == {}, path.name
    rows = '{"type": "object",\n "properties": {"acts": {"type": "array", "items": {"type": "object", "properties": {\n' \
           '  "who is": {"type": "string"}}}}}}'
    assert check_form(rows, "{}").errors == {"schema": "the field acts › who is (line 3): the key 'who is' cannot name "
                                                        "a field; use letters, digits and '_', starting with a letter"}


def test_a_bad_task_id_is_refused(owner, lifecycle):
    assert owner.get("/processes/forms/new?for=%3Cscript%3E").status_code == 400


def test_an_invalid_schema_is_refused_on_save_naming_the_field_and_keeping_the_way_back(owner, lifecycle, session):
    bad = '{"type": "object",\n "properties": {\n  "budget": {"type": "money"}}}'
    response = owner.post("/processes/forms/fresh", {"schema": bad, "ui": "{}", "for": "s5_x", "return": MODELLER},
                          page="/processes/forms/fresh")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "not a valid JSON Schema at the field budget (line 3): &#39;money&#39; is not a type" in page
    assert 'name="for" value="s5_x"' in page and 'name="return"' in page
    assert drafts(session) == 0


def test_try_it_checks_answers_as_the_task_would(owner, lifecycle):
    csrf = token(owner.get("/processes/forms/fresh").get_data(as_text=True))

    def tried(answers):
        return owner.client.post("/processes/forms/fresh/preview", data={"schema": SCHEMA, "ui": UI, "try": "1",
                                                                         **answers},
                                 headers={"X-CSRFToken": csrf}).get_data(as_text=True)

    empty = tried({"f.actions.__row": "0", "f.actions.0.what": "", "f.summary": ""})
    assert 'id="fld-f-summary-error"' in empty and "This field is required." in empty
    assert "things staff would have to fix" in empty or "thing staff would have to fix" in empty
    partly = tried({"f.summary": "ok", "f.actions.__row": "0", "f.actions.0.what": ""})
    assert 'id="fld-f-summary-error"' not in partly  # an empty row is left out, as the task page does
    assert "These answers would be accepted." in partly
    filled = tried({"f.summary": "ok", "f.actions.__row": "0", "f.actions.0.what": "share"})
    assert "These answers would be accepted." in filled and 'value="share"' in filled


def test_only_process_owners_may_start_a_form(signed_in, lifecycle, session):
    staff = signed_in("staff")
    assert staff.get("/processes/forms/new").status_code == 403
    csrf = token(staff.get("/inbox").get_data(as_text=True))
    assert staff.client.post("/processes/forms/new", data={"name": "x", "csrf_token": csrf}).status_code == 403
    assert drafts(session) == 0
