"""Every bundled diagram in the modeller on a 1366×768 laptop screen: fitted whole beside the tools, it is drawn at a
zoom of at least 0.5 (labels readable), and the palette covers none of its start events. A screenshot of each at
that zoom is kept in the run's screenshot directory (diagram-<name>.png)."""

from __future__ import annotations

from tests.support import diagrams
from tests.support.browser import open_modeller, screenshot, sign_in

LAPTOP = {"width": 1366, "height": 768}
MIN_ZOOM = 0.5


def test_every_diagram_fits_a_laptop_screen_readably(browser, live_server, session, users, bundled, screenshots):
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    try:
        sign_in(page, live_server, session, users["owner"])
        problems, zooms = [], {}
        for path in diagrams.bpmn_files():
            open_modeller(page, live_server, f"/processes/diagrams/{path.name}")
            page.get_by_role("button", name="Fit", exact=True).click()
            zoom = page.evaluate("window.collabflowModeler.get('canvas').zoom()")
            zooms[path.stem] = round(zoom, 2)
            screenshot(page, screenshots / f"diagram-{path.stem}.png", full_page=False)
            if zoom < MIN_ZOOM:
                problems.append(f"{path.name}: fitted at zoom {zoom:.2f}, below {MIN_ZOOM}")
            palette = page.locator(".djs-palette").bounding_box()
            canvas = page.locator("#canvas-box .canvas").bounding_box()
            starts = page.evaluate("""() => window.collabflowModeler.get('elementRegistry')
                .filter(e => e.type === 'bpmn:StartEvent' && !e.labelTarget).map(e => e.id)""")
            assert starts, f"{path.name}: no start event drawn"
            for start in starts:
                shape = page.locator(f'.djs-element.djs-shape[data-element-id="{start}"]').first
                if not shape.is_visible():
                    continue  # on a collapsed sub-process's own plane
                box = shape.bounding_box()
                if box["x"] < palette["x"] + palette["width"]:
                    problems.append(f"{path.name}: the palette covers the start event {start}")
                if box["x"] + box["width"] > canvas["x"] + canvas["width"] or box["y"] < canvas["y"]:
                    problems.append(f"{path.name}: the start event {start} is outside the canvas")
        assert not problems, (problems, zooms)
    finally:
        context.close()


def test_a_multi_instance_task_keeps_its_collections_when_the_owner_saves(page, live_server, session, users, bundled):
    """Stage 4 evaluates each candidate with a multi-instance task whose collections SpiffWorkflow names by variable
    (`candidates`), which bpmn-js cannot resolve and would drop: the modeller puts them back, with the
    per-instance scripts flag, so saving and validating the diagram loses nothing."""
    from sqlalchemy import select

    from app.modeler.models import Draft
    sign_in(page, live_server, session, users["owner"])
    open_modeller(page, live_server, "/processes/diagrams/stage4_partner_selection.bpmn")
    assert page.locator("#import-warnings").is_hidden(), page.locator("#import-warnings").inner_text()
    page.locator('.djs-element[data-element-id="s4_evaluate_candidate"]').first.click()
    page.get_by_label("Name").fill("Evaluate each candidate on the criteria")
    page.get_by_label("Name").press("Tab")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_function("() => (document.getElementById('status').textContent || '').includes('Draft saved')")
    page.get_by_role("button", name="Validate").click()
    page.wait_for_function("() => (document.getElementById('status').textContent || '').includes('Valid')")
    session.expire_all()
    saved = session.scalars(select(Draft).where(Draft.name == "stage4_partner_selection.bpmn")).one().content.decode()
    assert "Evaluate each candidate on the criteria" in saved
    for kept in (">candidates</bpmn:loopDataInputRef>", ">candidates</bpmn:loopDataOutputRef>",
                 ">selection_criteria</bpmn:loopDataInputRef>", ">criterion_weights</bpmn:loopDataOutputRef>",
                 'spiffworkflow:scriptsOnInstances="true"'):
        assert kept in saved, kept
