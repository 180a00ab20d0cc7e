"""Issue 17: a relationship with several partner organisations, started and grown through the service, the API and
the pages. Bad input (a partner named twice, our own organisation, a deactivated one, nobody) gets a clear answer
and changes nothing; adding a partner is our SERs' and administrators' action, and audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.models import Organisation, RelationshipPartner
from app.db import utcnow
from app.errors import BadRequest, Forbidden
from app.relationships import services as relationships
from tests.support.api import ERROR_KEYS, snapshot
from tests.support.web import Browser, set_password


def _organisations(session) -> list[str]:
    session.expire_all()
    return sorted(session.scalars(select(Organisation.name)))


def test_a_relationship_starts_with_several_partners_and_every_bad_list_changes_nothing(session, wf_engine, users,
                                                                                         lifecycle):
    before, organisations = snapshot(session), _organisations(session)
    for partners, message in ((["Gamma Ltd", "gamma ltd"], "named twice"), (["Gamma Ltd", "Us"], "our own"),
                              ([], "Name the partner organisation"), (["Gamma Ltd", "x" * 201], "under 200")):
        with pytest.raises(BadRequest) as refused:
            relationships.start(session, wf_engine, users["staff"], title="Alliance", partners=partners, now=utcnow())
        assert message in refused.value.errors["partner"]
        assert snapshot(session) == before and _organisations(session) == organisations
    session.add(Organisation(name="Dormant Ltd", kind="partner", active=False))
    session.commit()
    with pytest.raises(BadRequest) as refused:
        relationships.start(session, wf_engine, users["staff"], title="Alliance", partners=["Dormant Ltd"],
                            now=utcnow())
    assert "deactivated" in refused.value.errors["partner"] and snapshot(session) == before

    started = relationships.start(session, wf_engine, users["staff"], title="Alliance",
                                  partners=["Gamma Ltd", "Partner Ltd"], now=utcnow())
    rows = session.execute(select(RelationshipPartner.partner_name, RelationshipPartner.position).where(
        RelationshipPartner.instance_id == started.instance_id).order_by(RelationshipPartner.position)).all()
    assert rows == [("Gamma Ltd", 0), ("Partner Ltd", 1)]
    summary = relationships.summaries(session, now=utcnow(), only=started.instance_id)[0]
    assert summary.partner == "Gamma Ltd" and summary.partners == ["Gamma Ltd", "Partner Ltd"]
    # the partner users of Partner Ltd see it, although Gamma Ltd leads
    assert [s.instance.id for s in relationships.summaries(session, now=utcnow(), viewer=users["pser"])] == [
        started.instance_id]


def test_adding_a_partner_is_for_our_sers_and_administrators_and_is_audited(session, wf_engine, users, acme):
    before, organisations = snapshot(session), _organisations(session)
    for user, refusal in ((users["staff"], Forbidden), (users["pser"], Forbidden)):
        with pytest.raises(refusal):
            relationships.add_partner(session, user, acme, "Gamma Ltd", now=utcnow())
    for name, message in (("acme ltd", "named twice"), ("Us", "our own"), ("", "Name the partner")):
        with pytest.raises(BadRequest) as refused:
            relationships.add_partner(session, users["ser"], acme, name, now=utcnow())
        assert message in refused.value.errors["partner"]
    assert snapshot(session) == before and _organisations(session) == organisations
    assert relationships.add_partner(session, users["ser"], acme, "Gamma Ltd", now=utcnow()).name == "Gamma Ltd"
    assert relationships.summaries(session, now=utcnow(), only=acme)[0].partners == ["ACME Ltd", "Gamma Ltd"]
    from app.audit.models import AuditEvent
    added = session.scalars(select(AuditEvent).where(AuditEvent.action == "relationship.partner_added")).all()
    assert [(e.instance_id, e.payload["partner"], e.actor_id) for e in added] == [(acme, "Gamma Ltd", users["ser"].id)]


def test_the_api_starts_an_alliance_adds_a_partner_and_refuses_bad_lists(api, session, lifecycle):
    staff, ser = api("staff"), api("ser")
    before = snapshot(session)
    twice = staff.post("relationships", {"title": "Alliance", "partners": ["Gamma Ltd", "GAMMA LTD"]})
    assert twice.status_code == 400 and set(twice.get_json()) == ERROR_KEYS
    assert "named twice" in twice.get_json()["errors"]["partner"]
    nobody = staff.post("relationships", {"title": "Alliance", "partners": ["  "]})
    assert nobody.status_code == 422 and "Name the partner" in str(nobody.get_json()["errors"]["partner"])
    wrong = staff.post("relationships", {"title": "Alliance", "partners": "Gamma Ltd"})
    assert wrong.status_code == 422
    assert snapshot(session) == before
    made = staff.post("relationships", {"title": "Alliance", "partners": ["Gamma Ltd", "Delta Ltd"]})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["partner"] == "Gamma Ltd" and body["partners"] == ["Gamma Ltd", "Delta Ltd"]
    rid = body["id"]
    assert staff.post(f"relationships/{rid}/partners", {"partner": "Epsilon Ltd"}).status_code == 403
    assert api("pser").post(f"relationships/{rid}/partners", {"partner": "Epsilon Ltd"}).status_code in (403, 404)
    again = ser.post(f"relationships/{rid}/partners", {"partner": "delta ltd"})
    assert again.status_code == 400 and "named twice" in again.get_json()["errors"]["partner"]
    added = ser.post(f"relationships/{rid}/partners", {"partner": "Epsilon Ltd"})
    assert added.status_code == 201 and added.get_json()["partners"] == ["Gamma Ltd", "Delta Ltd", "Epsilon Ltd"]
    assert ser.post("relationships/999999/partners", {"partner": "Zeta Ltd"}).status_code == 404


def test_the_pages_start_an_alliance_show_each_partner_and_explain_a_refusal(app, session, users, lifecycle):
    set_password(session, users["ser"])
    browser = Browser(app.test_client())
    assert browser.sign_in("ser").status_code == 302
    refused = browser.post("/relationships", data={"title": "Alliance", "partner": "Gamma Ltd",
                                                   "more_partners": "Us\nDelta Ltd"})
    assert refused.status_code == 400 and "Us is our own organisation" in refused.get_data(as_text=True)
    started = browser.post("/relationships", data={"title": "Alliance", "partner": "Gamma Ltd",
                                                   "more_partners": "Delta Ltd\n\n"})
    assert started.status_code == 302
    rid = int(started.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    page = browser.get(f"/relationships/{rid}").get_data(as_text=True)
    assert "Partners: <strong>Gamma Ltd, Delta Ltd</strong>" in page and 'id="add-partner"' in page
    assert "with Gamma Ltd, Delta Ltd" in browser.get("/relationships").get_data(as_text=True)
    bad = browser.post(f"/relationships/{rid}/partners", data={"partner": "gamma ltd"},
                       page=f"/relationships/{rid}")
    assert bad.status_code == 400 and "The partner was not added." in bad.get_data(as_text=True)
    added = browser.post(f"/relationships/{rid}/partners", data={"partner": "Epsilon Ltd"},
                         page=f"/relationships/{rid}")
    assert added.status_code == 302
    assert "Gamma Ltd, Delta Ltd, Epsilon Ltd" in browser.get(f"/relationships/{rid}").get_data(as_text=True)
