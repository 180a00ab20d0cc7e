"""Issue 17: the knowledge map says what is shared with which partner. In a three-party relationship, knowledge
withheld reaches no partner, knowledge shared with Partner Ltd only never reaches Beta Ltd (not in task data, a
page, the API, the register or the plan's exports), and knowledge shared with every partner reaches both."""

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

SECRET, SECRET_DETAIL = "Zebra-formula-7731", "withheld-detail-5512"
ONLY_A, ONLY_A_DETAIL, ONLY_A_FORM = "Alpha-tooling-3301", "alpha-detail-4419", "Alpha-register-8824"
SHARED = "Open-design-4410"


def _pdf_text(content: bytes) -> str:
    import io

    from pypdf import PdfReader
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _found(text: str, markers) -> list[str]:
    return [m for m in markers if m in text]


def test_knowledge_shared_with_one_partner_never_reaches_the_other(app, session, services, alliance, people, api):
    rel, rid = alliance, alliance.instance_id
    rel.drive(until=until_ready("s5_knowledge_comms"))
    form = rel.schema_of(rel.task("s5_knowledge_comms"))
    shared_with = form["properties"]["joint_knowledge_plan"]["items"]["properties"]["shared_with"]
    assert shared_with["items"]["enum"] == ["Partner Ltd", "Beta Ltd"], "the form offers the relationship's partners"
    rel.complete("s5_knowledge_comms", {"joint_knowledge_plan": [
        {"asset": SECRET, "owner_organisation": "ours", "sharing": "not_shared", "shared_with": [],
         "conditions": SECRET_DETAIL},
        {"asset": ONLY_A, "owner_organisation": "ours", "sharing": "shared", "shared_with": ["Partner Ltd"],
         "conditions": ONLY_A_DETAIL},
        {"asset": SHARED, "owner_organisation": "joint", "sharing": "shared", "shared_with": [],
         "conditions": "open to all"}]})
    registers.create(session, people["staff"], rid, "knowledge", {
        "asset": ONLY_A_FORM, "owner": "R&D", "sharing": "share", "shared_with": "Partner Ltd",
        "details": ONLY_A_DETAIL}, joint=True, now=utcnow())
    rel.drive(until=until_ready("s5_partner_ser_gate"))
    # the joint gate: all three SERs approve (the partners through the API), and stage 6 begins with the JRMP
    rel.complete("s5_ser_gate", {"decision": "approve"})
    gate = rel.task("s5_partner_ser_gate")
    first = api("pser").post(f"/api/v1/tasks/{gate.id}/complete", json={"data": {"partner_decision": "approve"}})
    assert first.status_code == 200 and first.get_json()["awaiting_partners"] == ["Beta Ltd"]
    set_password(session, people["bser"])
    beta = Browser(app.test_client())
    assert beta.sign_in("bser").status_code == 302
    page = beta.get(f"/tasks/{gate.id}").get_data(as_text=True)
    assert "Each partner organisation&#39;s SER decides this task" in page or "Each partner organisation's SER" in page
    assert "Decided: Partner Ltd" in page and "Awaited: Beta Ltd" in page
    shown = api("bser").get(f"/api/v1/tasks/{gate.id}").get_json()["partners"]
    assert [d["organisation"] for d in shown["decided"]] == ["Partner Ltd"] and shown["awaited"] == ["Beta Ltd"]
    last = api("bser").post(f"/api/v1/tasks/{gate.id}/complete", json={"data": {"partner_decision": "approve"}})
    assert last.status_code == 200 and last.get_json()["awaiting_partners"] == []
    assert (current_stage(session, rid) or 0) >= 6

    # our own staff see all of it
    own = api("staff").get(f"/api/v1/relationships/{rid}/registers/knowledge?per_page=100").get_json()
    assert {SECRET, ONLY_A, ONLY_A_FORM, SHARED} <= {e["data"]["asset"] for e in own["items"]}
    # Partner Ltd sees what is shared with it, not what is withheld
    theirs = api("pser").get(f"/api/v1/relationships/{rid}/registers/knowledge?per_page=100").get_json()
    assert {e["data"]["asset"] for e in theirs["items"]} == {ONLY_A, ONLY_A_FORM, SHARED}

    # Beta Ltd: every page it can reach, every GET endpoint of the API, every export of the plan
    task_ids = list(session.scalars(select(HumanTask.id).where(HumanTask.instance_id == rid)))
    entry_ids = list(session.scalars(select(RegisterEntry.id)))
    pages = crawl(beta, limit=400)
    extra = [f"/relationships/{rid}", f"/relationships/{rid}/registers", f"/relationships/{rid}/rmp",
             *(f"/relationships/{rid}/registers/{n}" for n in ("knowledge", "risks", "value", "actions")),
             *(f"/tasks/{t}" for t in task_ids), *(f"/registers/entries/{e}" for e in entry_ids)]
    for url in extra:
        response = beta.get(url)
        pages[url] = (response.status_code, response.get_data(as_text=True))
    seen_shared = False
    for url, (status, body) in pages.items():
        assert status < 500, url
        assert not _found(body, (SECRET, SECRET_DETAIL, ONLY_A, ONLY_A_DETAIL, ONLY_A_FORM)), \
            f"{url} shows Beta Ltd {_found(body, (SECRET, ONLY_A, ONLY_A_DETAIL, ONLY_A_FORM))}"
        seen_shared |= SHARED in body
    assert seen_shared, "Beta Ltd sees the knowledge shared with every partner"

    client = api("bser")
    spec = api("staff").get("/api/v1/openapi.json").get_json()
    values = {"relationship_id": [rid], "task_id": task_ids, "entry_id": entry_ids,
              "name": ["knowledge", "risks", "value"], "n": [1, 2], "instance_id": [rid],
              "version_id": [rel.instance().version_id]}
    checked = 0
    for url, body in api_get_bodies(client, spec, values):
        assert not _found(body, (SECRET, SECRET_DETAIL, ONLY_A, ONLY_A_DETAIL, ONLY_A_FORM)), url
        checked += 1
    assert checked > 20

    plan = client.get(f"/api/v1/relationships/{rid}/rmp").get_json()
    number = plan[0]["number"]
    set_password(session, people["pser"])
    partner = Browser(app.test_client())
    assert partner.sign_in("pser").status_code == 302
    for who, browser, api_client, visible in (("Beta Ltd", beta, client, False),
                                              ("Partner Ltd", partner, api("pser"), True)):
        for url in (f"/relationships/{rid}/rmp/{number}.pdf", f"/relationships/{rid}/rmp/{number}.md",
                    f"/api/v1/relationships/{rid}/rmp/{number}/export?format=pdf",
                    f"/api/v1/relationships/{rid}/rmp/{number}/export?format=md"):
            response = download_pdf(browser, url, services) if not url.startswith("/api") else api_client.get(url)
            assert response.status_code == 200, url
            text = _pdf_text(response.data) if url.endswith("pdf") else response.get_data(as_text=True)
            assert SHARED in text, url
            assert bool(_found(text, (ONLY_A,))) is visible, f"{url} for {who}"
            assert not _found(text, (SECRET, SECRET_DETAIL)), url
