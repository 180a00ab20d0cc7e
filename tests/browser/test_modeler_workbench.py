"""The modeller as a process owner's working day, in Debian's Chromium: no work is lost (a leave-page warning,
Ctrl+S, autosave, the header refreshed after a deploy), the diagram can be seen (a canvas that fills the window,
a palette that fits beside the diagram, zoom buttons, the last view kept) and routine edits are made in the panel
(a due period, an id, forms of the diagram's stage, a new form from the form builder)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from lxml import etree
from playwright.sync_api import expect
from sqlalchemy import select

from app.modeler.models import Draft
from tests.support.browser import assert_zoom_buttons_work, open_modeller, select_element, sign_in

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
STAGE1 = "/processes/diagrams/web_stage1.bpmn"
STAGE5 = "/processes/diagrams/stage5_working_together.bpmn"


_open, _select = open_modeller, select_element


def _rename_task(page, element_id, name):
    _select(page, element_id)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Name").press("Tab")


def _draft(session, user, name="web_stage1.bpmn"):
    session.expire_all()
    return session.scalar(select(Draft).where(Draft.user_id == user.id, Draft.kind == "bpmn", Draft.name == name))


def _task(xml: bytes, element_id: str):
    return etree.fromstring(xml).find(f".//{{{BPMN}}}*[@id='{element_id}']")


def _properties(node) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in node.iter(f"{{{SPIFF}}}property")}


def _box(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None, locator
    return box


def _overlap(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"] or
                a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def _scale(page) -> float:
    return page.evaluate("window.collabflowModeler.get('canvas').zoom()")


def test_leaving_with_unsaved_edits_warns_and_ctrl_s_saves_the_draft(page, live_server, app, session, users,
                                                                     lifecycle):
    app.config["WORKBENCH_AUTOSAVE_MS"] = 0  # no autosave: what saves here is Ctrl+S
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.type), d.accept()))
    sign_in(page, live_server, session, users["owner"])
    _open(page, live_server, STAGE1)
    _rename_task(page, "s1_policy", "Write the policy, first draft")
    expect(page.locator("#dirty")).to_have_text("unsaved changes")

    page.goto(live_server + "/processes")  # leaving: the browser asks first
    page.wait_for_url(live_server + "/processes")
    assert dialogs == ["beforeunload"]
    assert _draft(session, users["owner"]) is None  # the edit went with the page: that is what the warning was for

    _open(page, live_server, STAGE1)
    _rename_task(page, "s1_policy", "Write the policy, second draft")
    page.evaluate("window.addEventListener('keydown', e => { window.savePrevented = e.defaultPrevented; })")
    page.keyboard.press("Control+s")
    expect(page.locator("#status")).to_have_text(re.compile(r"Draft saved \d\d:\d\d\."))
    assert page.evaluate("window.savePrevented") is True  # not the browser's "save page as"
    expect(page.locator("#dirty")).to_have_text(re.compile(r"Draft saved \d\d:\d\d\."))
    draft = _draft(session, users["owner"])
    assert _task(draft.content, "s1_policy").get("name") == "Write the policy, second draft"

    page.goto(live_server + "/processes")  # saved: leaving asks nothing
    page.wait_for_url(live_server + "/processes")
    assert dialogs == ["beforeunload"]


def test_the_draft_is_saved_a_few_seconds_after_the_last_change(page, live_server, app, session, users, lifecycle):
    app.config["WORKBENCH_AUTOSAVE_MS"] = 700
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.type), d.accept()))
    sign_in(page, live_server, session, users["owner"])
    _open(page, live_server, STAGE1)
    _rename_task(page, "s1_policy", "Write the policy (autosaved)")
    expect(page.locator("#status")).to_have_text(re.compile(r"Draft saved \d\d:\d\d\."), timeout=15000)
    expect(page.locator("#source")).to_contain_text("your draft (saved")
    assert _task(_draft(session, users["owner"]).content, "s1_policy").get("name") == "Write the policy (autosaved)"
    page.goto(live_server + "/processes")
    page.wait_for_url(live_server + "/processes")
    assert dialogs == []


def test_a_deploy_refreshes_the_header_without_a_reload(page, live_server, app, session, users, lifecycle):
    app.config["WORKBENCH_AUTOSAVE_MS"] = 0
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.type), d.accept()))
    sign_in(page, live_server, session, users["owner"])
    _open(page, live_server, STAGE1)
    _rename_task(page, "s1_policy", "Write the policy, reworded")
    page.evaluate("window.notReloaded = true")
    expect(page.get_by_role("button", name="Discard my draft")).to_have_count(0)
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#status")).to_have_text(re.compile(r"Draft saved"))
    # the first save made a draft: the header says so (and offers to discard it) without a reload
    expect(page.get_by_role("button", name="Discard my draft")).to_be_visible()
    expect(page.locator("#editor-head .notice")).to_contain_text("web_stage1.bpmn")
    expect(page.locator("#source")).to_contain_text("your draft (saved")

    page.get_by_placeholder("What changed (deploy message)").fill("Stage 1: the policy task reworded")
    page.get_by_role("button", name="Deploy").click()
    new = lifecycle.id + 1
    expect(page.locator("#status")).to_contain_text(f"Deployed version {new}")
    head = page.locator("#editor-head")
    expect(head).to_contain_text(f"latest version: {new}")
    expect(page.locator("#source")).to_have_text(f"version {new}")
    expect(head.get_by_role("link", name=f"v{new}")).to_be_visible()
    expect(page.get_by_role("button", name="Discard my draft")).to_have_count(0)
    expect(head.locator(".notice")).to_have_count(0)  # no drafts left: the deploy took them
    assert page.evaluate("window.notReloaded") is True
    assert _draft(session, users["owner"]) is None
    expect(page.locator("#dirty")).to_be_hidden()
    page.goto(live_server + "/processes")  # deployed: nothing unsaved, leaving asks nothing
    page.wait_for_url(live_server + "/processes")
    assert dialogs == []


def test_stage5_opens_readable_beside_a_palette_that_fits_at_1366_by_768(page, live_server, session, users,
                                                                         bundled):
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live_server, session, users["owner"])
    _open(page, live_server, STAGE5)
    assert page.get_attribute("#canvas-box", "data-view") == "fitted"
    canvas, palette = page.locator("#canvas-box"), page.locator(".djs-palette")
    box, tools = _box(canvas), _box(palette)
    assert box["y"] + box["height"] <= 768 + 1  # the canvas ends inside the window ...
    assert box["height"] >= 768 * 0.55  # ... and takes what the page leaves of it
    assert box["width"] > 900
    assert tools["y"] + tools["height"] <= box["y"] + box["height"]  # every tool, the last one too, is on the canvas
    last = _box(page.locator(".djs-palette .entry").last)
    assert last["y"] + last["height"] <= box["y"] + box["height"] and last["y"] + last["height"] <= 768
    start = _box(page.locator('.djs-element[data-element-id="s5_start_event"]').first)
    lanes = [_box(page.locator(f'.djs-element[data-element-id="{lane}"]').first) for lane in (
        "Lane_stage5_working_together_joint_management_team", "Lane_stage5_working_together_partner_ser")]
    assert not _overlap(tools, start) and all(tools["x"] + tools["width"] < lane["x"] for lane in lanes)
    assert 0.55 <= _scale(page) <= 1  # labels readable: the whole stage is scrolled to, not shrunk to 3 px

    # the zoom buttons: in, out and a fit of the whole diagram that still leaves the palette clear
    canvas.get_by_role("button", name="Fit").click()
    start = _box(page.locator('.djs-element[data-element-id="s5_start_event"]').first)
    assert not _overlap(tools, start) and start["x"] > tools["x"] + tools["width"]
    assert_zoom_buttons_work(canvas)
    canvas.get_by_role("button", name="Actual size").click()
    assert _scale(page) == 1

    # the properties panel folds away for a wider canvas
    page.get_by_role("button", name="Hide properties").click()
    expect(page.locator("#properties")).to_be_hidden()
    assert _box(canvas)["width"] > box["width"] + 300
    page.get_by_role("button", name="Show properties").click()
    expect(page.locator("#properties")).to_be_visible()


def test_the_last_zoom_and_scroll_come_back_when_the_diagram_is_opened_again(page, live_server, session, users,
                                                                             lifecycle):
    sign_in(page, live_server, session, users["owner"])
    _open(page, live_server, STAGE1)
    fitted = _scale(page)
    canvas = page.locator("#canvas-box")
    canvas.get_by_role("button", name="Zoom in").click()
    canvas.get_by_role("button", name="Zoom in").click()
    page.mouse.move(600, 500)
    view = page.evaluate("(() => { const v = window.collabflowModeler.get('canvas').viewbox(); "
                         "return {x: v.x, y: v.y, scale: v.scale}; })()")
    assert abs(view["scale"] - fitted * 1.5625) < 0.01
    page.wait_for_function("s => { const kept = JSON.parse(localStorage.getItem("
                           "'collabflow.modeller.view:web_stage1.bpmn') || 'null'); "
                           "return kept && Math.abs(kept.scale - s) < 1e-6; }", arg=view["scale"])
    page.goto(live_server + "/processes")
    _open(page, live_server, STAGE1)
    assert page.get_attribute("#canvas-box", "data-view") == "restored"
    again = page.evaluate("(() => { const v = window.collabflowModeler.get('canvas').viewbox(); "
                          "return {x: v.x, y: v.y, scale: v.scale}; })()")
    assert abs(again["scale"] - view["scale"]) < 1e-6
    assert abs(again["x"] - view["x"]) < 1 and abs(again["y"] - view["y"]) < 1
    # another diagram keeps its own view
    _open(page, live_server, "/processes/diagrams/web_stage2.bpmn")
    assert page.get_attribute("#canvas-box", "data-view") == "fitted"


def test_a_due_period_built_in_the_panel_is_written_as_due_in_and_survives_the_save(page, live_server, app, session,
                                                                                    users, lifecycle):
    app.config["WORKBENCH_AUTOSAVE_MS"] = 0
    sign_in(page, live_server, session, users["owner"])
    _open(page, live_server, STAGE1)
    _select(page, "s1_gate")  # a gate: a user task like any other
    page.get_by_label("Due amount").fill("2")
    page.get_by_label("Due unit").select_option(label="weeks")
    page.get_by_role("button", name="Set due period").click()
    expect(page.locator("#prop-due-in")).to_have_value("P2W")
    expect(page.locator("#due-meaning")).to_have_text("Due 2 weeks after the task is ready (P2W).")

    # nonsense is refused beside the field and changes nothing
    page.get_by_label("Due within").fill("two weeks")
    page.get_by_label("Due within").press("Tab")
    expect(page.locator("#due-meaning")).to_contain_text("two weeks is neither an ISO 8601 period")
    # a data field's name is a due period too
    _select(page, "s1_policy")
    page.get_by_label("Due within").fill("policy_deadline")
    page.get_by_label("Due within").press("Tab")
    expect(page.locator("#due-meaning")).to_contain_text("the data field policy_deadline")

    page.keyboard.press("Control+s")
    expect(page.locator("#status")).to_have_text(re.compile(r"Draft saved"))
    content = _draft(session, users["owner"]).content
    assert _properties(_task(content, "s1_gate"))["dueIn"] == "P2W"
    assert _properties(_task(content, "s1_policy"))["dueIn"] == "policy_deadline"

    _open(page, live_server, STAGE1)  # the draft, opened again
    _select(page, "s1_gate")
    expect(page.locator("#prop-due-in")).to_have_value("P2W")


def test_an_id_renamed_in_the_panel_keeps_its_flows_and_a_bad_id_is_refused(page, live_server, app, session, users,
                                                                           lifecycle):
    app.config["WORKBENCH_AUTOSAVE_MS"] = 0
    sign_in(page, live_server, session, users["owner"])
    _open(page, live_server, STAGE1)
    # the process itself: other diagrams call it by its id, and the panel says so
    expect(page.locator("#prop-process-id")).to_have_value("stage1_awareness")
    expect(page.locator("#prop-process-id-hint")).to_contain_text("web_lifecycle.bpmn")

    _select(page, "s1_policy")
    id_field, error = page.locator("#prop-element-id"), page.locator("#prop-element-id-error")
    for bad, why in (("s1_gate", "Another element of this diagram has the id s1_gate"),
                     ("1 policy", "An id starts with a letter or _"), ("s1:policy", "no spaces or colons"),
                     ("", "An id is required")):
        id_field.fill(bad)
        id_field.press("Tab")
        expect(error).to_contain_text(why)
        expect(error).to_contain_text("The id stays s1_policy.")
        expect(page.locator("#prop-id")).to_have_text("s1_policy")
        expect(page.locator("#dirty")).to_be_hidden()  # nothing changed

    id_field.fill("s1_write_policy")
    id_field.press("Tab")
    expect(page.locator("#prop-id")).to_have_text("s1_write_policy")
    expect(error).to_have_text("")
    expect(page.locator("#status")).to_have_text("Renamed s1_policy to s1_write_policy.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#status")).to_have_text(re.compile(r"Draft saved"))

    tree = etree.fromstring(_draft(session, users["owner"]).content)
    assert tree.find(f".//{{{BPMN}}}userTask[@id='s1_write_policy']").get("name") == "Write the policy"
    assert tree.find(f".//{{{BPMN}}}*[@id='s1_policy']") is None
    flows = {f.get("id"): (f.get("sourceRef"), f.get("targetRef")) for f in tree.iter(f"{{{BPMN}}}sequenceFlow")}
    assert flows["s1_f1"] == ("s1_start", "s1_write_policy")
    assert flows["s1_f2"] == ("s1_write_policy", "s1_gate")
    assert flows["s1_f_rework"] == ("s1_decided", "s1_write_policy")
    staff = tree.find(f".//{{{BPMN}}}lane[@id='s1_lane_staff']")
    assert "s1_write_policy" in [ref.text for ref in staff.iter(f"{{{BPMN}}}flowNodeRef")]
    shapes = [s.get("bpmnElement") for s in tree.iter("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNShape")]
    assert "s1_write_policy" in shapes and "s1_policy" not in shapes

    # the pool's process: renamed with its pool's reference, and the diagram calling it is named
    page.locator('.djs-element[data-element-id="pool_stage1"]').first.click(position={"x": 12, "y": 60})
    expect(page.locator("#prop-id")).to_have_text("pool_stage1")
    page.locator("#prop-process-id").fill("stage1_renamed")
    page.locator("#prop-process-id").press("Tab")
    expect(page.locator("#status")).to_contain_text(
        "Renamed stage1_awareness to stage1_renamed: rename the called process in web_lifecycle.bpmn")
    page.keyboard.press("Control+s")
    expect(page.locator("#status")).to_have_text(re.compile(r"Draft saved"))
    tree = etree.fromstring(_draft(session, users["owner"]).content)
    assert tree.find(f".//{{{BPMN}}}process").get("id") == "stage1_renamed"
    assert tree.find(f".//{{{BPMN}}}participant").get("processRef") == "stage1_renamed"


def test_forms_of_the_stage_first_and_the_layout_picked_with_its_form(page, live_server, app, session, users,
                                                                     bundled):
    app.config["WORKBENCH_AUTOSAVE_MS"] = 0
    sign_in(page, live_server, session, users["owner"])
    _open(page, live_server, STAGE5)
    _select(page, "s5_joint_risks")
    schema = page.get_by_label("Form (JSON Schema)")
    offered = schema.locator("option").evaluate_all("os => os.map(o => o.value).filter(Boolean)")
    assert offered and all(name.startswith("s5_") for name in offered), offered
    page.get_by_label(re.compile(r"Show all forms")).check()
    expect(schema.locator("option[value='s1_policy.schema.json']")).to_have_count(1)
    assert schema.locator("option").count() > len(offered) + 20
    page.get_by_label(re.compile(r"Show all forms")).uncheck()
    expect(schema.locator("option[value='s1_policy.schema.json']")).to_have_count(0)

    schema.select_option("s5_jrmp.schema.json")
    expect(page.get_by_label("Form layout (UI schema)")).to_have_value("s5_jrmp.uischema.json")
    page.keyboard.press("Control+s")
    expect(page.locator("#status")).to_have_text(re.compile(r"Draft saved"))
    props = _properties(_task(_draft(session, users["owner"], "stage5_working_together.bpmn").content,
                              "s5_joint_risks"))
    assert (props["formJsonSchemaFilename"], props["formUiSchemaFilename"]) == (
        "s5_jrmp.schema.json", "s5_jrmp.uischema.json")


def test_a_new_form_for_a_task_saves_the_draft_first_and_comes_back_set_on_the_task(page, live_server, app, session,
                                                                                    users, lifecycle):
    app.config["WORKBENCH_AUTOSAVE_MS"] = 700
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.type), d.accept()))
    sign_in(page, live_server, session, users["owner"])
    _open(page, live_server, STAGE1)
    _rename_task(page, "s1_policy", "Write the policy with its budget")
    page.get_by_role("button", name="New form for this task").click()
    page.wait_for_url(re.compile(r".*/processes/forms/new\?.*"))
    asked = urlsplit(page.url)
    assert parse_qs(asked.query) == {"for": ["s1_policy"], "diagram": ["web_stage1.bpmn"], "return": [STAGE1]}
    assert dialogs == []  # the draft was saved before leaving: nothing to warn about
    assert _task(_draft(session, users["owner"]).content, "s1_policy").get("name") == "Write the policy with its budget"

    # the form builder sends the person back with the new form's files and the task
    page.goto(live_server + STAGE1 + "?form=policy_budget.schema.json&ui=policy_budget.uischema.json&for=s1_policy")
    page.wait_for_selector("#canvas-box[data-drawn=true]")
    expect(page.locator("#prop-id")).to_have_text("s1_policy")
    expect(page.get_by_label("Form (JSON Schema)")).to_have_value("policy_budget.schema.json")
    expect(page.get_by_label("Form layout (UI schema)")).to_have_value("policy_budget.uischema.json")
    expect(page.locator("#status")).to_contain_text("now shows the form policy_budget.schema.json")
    assert page.url == live_server + STAGE1  # a reload does not set it twice
    expect(page.locator("#dirty")).to_have_text(re.compile(r"Draft saved \d\d:\d\d"), timeout=15000)
    props = _properties(_task(_draft(session, users["owner"]).content, "s1_policy"))
    assert (props["formJsonSchemaFilename"], props["formUiSchemaFilename"]) == (
        "policy_budget.schema.json", "policy_budget.uischema.json")

    # a task this diagram does not have, or a name that is no form file: said, and nothing changes
    page.goto(live_server + STAGE1 + "?form=x.schema.json&ui=x.uischema.json&for=s1_nowhere")
    page.wait_for_selector("#canvas-box[data-drawn=true]")
    expect(page.locator("#status")).to_have_text("The new form was not set: this diagram has no user task s1_nowhere.")
    page.goto(live_server + STAGE1 + "?form=../etc/passwd&for=s1_policy")
    page.wait_for_selector("#canvas-box[data-drawn=true]")
    expect(page.locator("#status")).to_contain_text("is not a form file's name")
    expect(page.locator("#dirty")).to_be_hidden()
