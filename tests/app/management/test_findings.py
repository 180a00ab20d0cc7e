"""An assessor's finding becomes a nonconformity (M10.1): every requirement row of a compliance matrix offers
"Raise a finding" to those who may start one, the start form arrives with the requirement and the source filled
in (only fields and choices the form declares), and the nonconformity's own page says what it is."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.processes.models import ProcessInstance
from tests.support.driver import START_TIME, Driver

LINK = re.compile(r'<a class="small raise-finding" href="([^"]+)"')


def test_an_assessor_raises_a_finding_from_a_requirement_row(session, services, users, bundled, signed_in):
    rel = Driver.start(session, services, users, now=START_TIME, title="ACME joint bid")
    assessor = signed_in("assessor")
    page = assessor.get(f"/relationships/{rel.instance_id}/compliance").get_data(as_text=True)
    links = [unescape(href) for href in LINK.findall(page)]
    assert len(links) == page.count('data-requirement="'), "one link per requirement row"
    link = next(href for href in links if "requirement=S2.01" in href)
    assert "source=assessor" in link and "relationship=ACME+joint+bid" in link

    form = assessor.get(link + "&severity=catastrophic&unknown=x").get_data(as_text=True)
    assert 'value="S2.01"' in form and 'value="ACME joint bid"' in form
    assert re.search(r'value="assessor"[^>]*\bselected|\bselected[^>]*value="assessor"', form), "source chosen"
    assert "catastrophic" not in form and 'name="f.unknown"' not in form, "only declared fields and choices"

    response = assessor.post("/start/nonconformity", {
        "f.title": "Knowledge plan not approved", "f.source": "assessor", "f.severity": "minor",
        "f.description": "The knowledge plan has no approval record.", "f.requirement": "S2.01",
        "f.relationship": "ACME joint bid"}, page=link)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    raised = session.scalars(select(ProcessInstance).where(ProcessInstance.process_id == "nonconformity")).one()
    assert raised.title == "Knowledge plan not approved" and raised.started_by_id == users["assessor"].id
    started = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == raised.id,
                                                       AuditEvent.action == "instance.started")).one()
    assert started.actor == "assessor"
    session.commit()

    shown = assessor.get(f"/relationships/{raised.id}").get_data(as_text=True)
    assert "Nonconformity:" in shown and 'href="/management">Management system</a>' in shown
    assert 'aria-label="Stages"' not in shown and "Compliance matrix" not in shown, "not shown as a relationship"
    assert "Correct it and find the root cause" in shown


def test_partners_and_process_owners_get_no_finding_link(session, services, users, bundled, signed_in):
    rel = Driver.start(session, services, users, now=START_TIME)
    owner = signed_in("owner").get(f"/relationships/{rel.instance_id}/compliance")
    assert owner.status_code in (200, 403) and "raise-finding" not in owner.get_data(as_text=True)
    assert signed_in("owner").get("/start/nonconformity").status_code == 404, "not one of its start roles"
    assert signed_in("pser").get("/start/nonconformity?requirement=S2.01").status_code == 404
