"""Issue 18: partner users never read our internal process definitions. Every path that serves a deployed
diagram's XML is tried with a partner's user (403 or 404) and with our own people (200)."""

from __future__ import annotations

import re

import pytest

from app.db import utcnow
from app.relationships import services as relationships

INTERNAL = ("stage1_awareness.bpmn", "stage2_knowledge.bpmn", "stage3_internal_assessment.bpmn",
            "stage4_partner_selection.bpmn")
JOINT = ("lifecycle.bpmn", "stage5_working_together.bpmn", "issue_resolution.bpmn")


@pytest.fixture
def rel(session, services, users, bundled):
    """A relationship with Partner Ltd (pser's organisation) on the bundled lifecycle -> its id."""
    return relationships.start(session, services.workflows, users["staff"], title="Tailspin",
                               partner="Partner Ltd", now=utcnow()).instance_id


def test_a_partner_reads_the_joint_diagrams_of_its_relationship_only(signed_in, bundled, rel):
    partner, staff = signed_in("pser"), signed_in("staff")
    for name in INTERNAL:
        url = f"/versions/{bundled.id}/diagrams/{name}"
        refused = partner.get(url)
        assert refused.status_code == 404, (name, refused.status_code)
        assert b"<bpmn" not in refused.data and b"definitions" not in refused.data
        assert staff.get(url).status_code == 200, name
    for name in JOINT:
        url = f"/versions/{bundled.id}/diagrams/{name}"
        assert partner.get(url).status_code == 200, name
        assert staff.get(url).status_code == 200, name
    assert partner.get(f"/versions/{bundled.id}/diagrams/nothing.bpmn").status_code == 404


def test_the_diagrams_on_a_partners_relationship_page_all_open(signed_in, bundled, rel):
    partner = signed_in("pser")
    page = partner.get(f"/relationships/{rel}")
    assert page.status_code == 200
    urls = re.findall(r'data-xml="([^"]+)"', page.get_data(as_text=True))
    assert urls
    for url in urls:
        assert partner.get(url).status_code == 200, url


def test_a_partner_of_no_relationship_on_the_version_reads_nothing(browser_client, session, bundled, rel):
    from app.auth.services import create_user
    create_user(session, "other-partner", password="another long passphrase", roles=["ser"],
                organisation="Other Partner plc", organisation_kind="partner")
    assert browser_client.sign_in("other-partner", "another long passphrase").status_code == 302
    for name in INTERNAL + JOINT:
        assert browser_client.get(f"/versions/{bundled.id}/diagrams/{name}").status_code == 404, name


def test_the_workbench_serves_no_xml_to_partners_and_all_of_it_to_owners(signed_in, bundled, rel):
    partner, owner = signed_in("pser"), signed_in("owner")
    paths = [f"/processes/versions/{bundled.id}/xml/{name}" for name in INTERNAL + JOINT]
    paths += [f"/processes/versions/{bundled.id}/files/bpmn/{name}" for name in INTERNAL + JOINT]
    paths += [f"/processes/diagrams/{name}/xml" for name in INTERNAL + JOINT]
    paths += [f"/processes/diagrams/{name}/xml?version={bundled.id}" for name in INTERNAL]
    for path in paths:
        refused = partner.get(path)
        assert refused.status_code in (403, 404), (path, refused.status_code)
        assert b"definitions" not in refused.data, path
        answered = owner.get(path)
        assert answered.status_code == 200 and b"definitions" in answered.data, path
    for path in ("/processes/uploads/1/xml", "/processes/uploads/1/download"):
        assert partner.get(path).status_code in (403, 404), path


def test_the_api_serves_no_diagram_xml_to_partners(signed_in, bundled, rel):
    """The API lists versions (names only, for process owners); it has no route that returns a diagram."""
    partner = signed_in("pser")
    listed = partner.get("/api/v1/processes/versions")
    assert listed.status_code == 403 and b"definitions" not in listed.data
