"""A partner organisation's users never see knowledge the knowledge map withholds: not through any page they
can reach, not through any API endpoint, not in any export. Shared knowledge does reach them (so this test
would notice a partner who sees nothing at all)."""

from __future__ import annotations

from sqlalchemy import select

from app.db import utcnow
from app.lifecycle.services import current_stage
from app.processes.models import HumanTask
from app.registers import services as registers
from app.registers.models import RegisterEntry
from tests.support.crawl import api_get_bodies, crawl
from tests.support.driver import until_ready
from tests.support.exports import download_pdf
from tests.support.web import Browser, set_password

SECRET, SECRET_DETAIL, SECRET_FORM = "Zebra-formula-7731", "withheld-detail-5512", "Quokka-costing-9903"
SHARED, ON_REQUEST, ON_REQUEST_DETAIL = "Open-design-4410", "Price-model-2208", "nda-detail-6617"


def _leaks(text: str) -> list[str]:
    return [m for m in (SECRET, SECRET_DETAIL, SECRET_FORM, ON_REQUEST_DETAIL) if m in text]


def test_withheld_knowledge_reaches_no_partner_page_api_or_export(app, session, services, users, working_together,
                                                                   api, make_token):
    driver, rel = working_together, working_together.instance_id
    driver.drive(until=until_ready("s5_knowledge_comms"))
    driver.complete("s5_knowledge_comms", {"joint_knowledge_plan": [
        {"asset": SECRET, "owner_organisation": "ours", "sharing": "not_shared", "conditions": SECRET_DETAIL},
        {"asset": SHARED, "owner_organisation": "joint", "sharing": "shared", "conditions": "open to both"},
        {"asset": ON_REQUEST, "owner_organisation": "ours", "sharing": "shared_with_conditions",
         "conditions": ON_REQUEST_DETAIL}]})
    registers.create(session, users["staff"], rel, "knowledge", {
        "asset": SECRET_FORM, "owner": "R&D", "sharing": "withhold", "details": SECRET_DETAIL}, joint=True,
        now=utcnow())
    driver.drive(until=lambda d: (current_stage(d.session, d.instance_id) or 0) >= 6)  # the JRMP has stage 5

    # our own staff see all of it: the markers are really there to be leaked
    own = api("staff").get(f"/api/v1/relationships/{rel}/registers/knowledge?per_page=100").get_json()
    assert {SECRET, SECRET_FORM, SHARED, ON_REQUEST} <= {e["data"]["asset"] for e in own["items"]}

    partner = users["pser"]
    set_password(session, partner)
    browser = Browser(app.test_client())
    assert browser.sign_in(partner.username).status_code == 302
    task_ids = list(session.scalars(select(HumanTask.id).where(HumanTask.instance_id == rel)))
    pages = crawl(browser, limit=400)
    extra = [f"/relationships/{rel}", f"/relationships/{rel}/registers", f"/relationships/{rel}/rmp",
             f"/relationships/{rel}/compliance", f"/relationships/{rel}/gaps", "/compliance", "/dashboard"]
    extra += [f"/relationships/{rel}/registers/{n}" for n in ("knowledge", "risks", "value", "actions", "issues",
                                                                 "exit-triggers")]
    extra += [f"/tasks/{t}" for t in task_ids]
    extra += [f"/registers/entries/{e}" for e in session.scalars(select(RegisterEntry.id))]
    seen_shared = False
    for url in extra:
        response = browser.get(url)
        pages[url] = (response.status_code, response.get_data(as_text=True))
    for url, (status, body) in pages.items():
        assert status < 500, url
        assert not _leaks(body), f"{url} shows {_leaks(body)} to a partner"
        seen_shared |= SHARED in body
    assert seen_shared, "the partner should see the knowledge that is shared"
    for url in (f"/tasks/{t}" for t in task_ids):  # and a partner reads only joint tasks
        assert pages[url][0] in (200, 403, 404)

    # every GET endpoint of the API, with every id it can take
    client = api("pser")
    spec = api("staff").get("/api/v1/openapi.json").get_json()
    values = {"relationship_id": [rel], "task_id": task_ids,
              "entry_id": list(session.scalars(select(RegisterEntry.id))),
              "name": ["risks", "value", "knowledge", "exit-triggers", "actions"], "n": [1, 2, 3, 4, 5, 6],
              "version_id": [driver.instance().version_id], "instance_id": [rel]}
    checked = 0
    for url, body in api_get_bodies(client, spec, values):
        assert not _leaks(body), f"GET {url} shows a partner withheld knowledge"
        checked += 1
    assert checked > 20

    # every export a partner can ask for: the joint plan's versions (PDF text and Markdown), the assessor pack
    plan = client.get(f"/api/v1/relationships/{rel}/rmp").get_json()
    assert [v["kind"] for v in plan] == ["JRMP"], "a partner reads the joint plan only"
    number = plan[0]["number"]
    for url in (f"/relationships/{rel}/rmp/{number}.pdf", f"/relationships/{rel}/rmp/{number}.md",
                f"/api/v1/relationships/{rel}/rmp/{number}/export?format=pdf",
                f"/api/v1/relationships/{rel}/rmp/{number}/export?format=md"):
        response = download_pdf(browser, url, services) if not url.startswith("/api") else client.get(url)
        assert response.status_code == 200, url
        text = _pdf_text(response.data) if url.endswith("pdf") else response.get_data(as_text=True)
        assert SHARED in text, url
        assert not _leaks(text), f"{url} shows {_leaks(text)} to a partner"
    for fmt in ("pdf", "csv", "xlsx"):
        assert browser.get(f"/relationships/{rel}/assessor-pack.{fmt}").status_code == 403
        assert client.get(f"/api/v1/relationships/{rel}/assessor-pack?format={fmt}").status_code == 403


def _pdf_text(content: bytes) -> str:
    import io

    from pypdf import PdfReader
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


