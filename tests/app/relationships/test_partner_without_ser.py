"""A relationship whose partner organisation has no active SER is flagged from the start (its page, the home page
of those who can act, a notification to our SERs), never silently stuck at its first joint gate."""

from __future__ import annotations

from app.auth.services import create_user
from app.db import utcnow
from app.notifications import services as notifications
from app.relationships import services as relationships


def test_a_partner_without_an_ser_is_flagged_until_it_has_one(session, services, users, bundled, signed_in):
    lonely = relationships.start(session, services.workflows, users["staff"], title="Nobody bid",
                                 partner="Nobody Ltd", now=utcnow())
    staffed = relationships.start(session, services.workflows, users["staff"], title="Tailspin bid",
                                  partner="Partner Ltd", now=utcnow())
    for ser in ("ser", "ser2"):
        warned = [v for v in notifications.list_for(session, users[ser]) if v.notification.kind == "no_partner_ser"]
        assert [(v.relationship_id, v.unread) for v in warned] == [(lonely.instance_id, True)]
        assert "Nobody Ltd has no SER" in warned[0].notification.title
    assert not [v for v in notifications.list_for(session, users["staff"]) if v.notification.kind == "no_partner_ser"]

    staff = signed_in("staff")
    assert 'id="no-partner-ser"' in staff.get(f"/relationships/{lonely.instance_id}").get_data(as_text=True)
    assert 'id="no-partner-ser"' not in staff.get(f"/relationships/{staffed.instance_id}").get_data(as_text=True)
    assert 'id="partners-without-ser"' not in staff.get("/").get_data(as_text=True), "staff cannot act on it"
    home = signed_in("ser").get("/").get_data(as_text=True)
    assert 'id="partners-without-ser"' in home and "Nobody bid" in home and "Tailspin bid" not in home

    create_user(session, "nobody-ser", password=None, roles=["ser"], organisation="Nobody Ltd",
                organisation_kind="partner")
    assert 'id="no-partner-ser"' not in staff.get(f"/relationships/{lonely.instance_id}").get_data(as_text=True)
    assert 'id="partners-without-ser"' not in signed_in("ser").get("/").get_data(as_text=True)


def test_an_administrator_starts_a_relationship_and_invites_the_partners_ser_in_one_step(session, users, bundled,
                                                                                       signed_in):
    from sqlalchemy import func, select

    from app.auth.models import Organisation, User
    from app.processes.models import ProcessInstance
    admin = signed_in("admin")
    page = admin.get("/relationships").get_data(as_text=True)
    assert '<option value="Partner Ltd">' in page and 'id="invite-ser"' in page
    assert 'id="invite-ser"' not in signed_in("staff").get("/relationships").get_data(as_text=True)
    refused = admin.post("/relationships", {"title": "Globex bid", "partner": "Globex", "ser_name": "Gil Globex",
                                            "ser_username": "gil", "ser_email": "not-an-address"}, page="/relationships")
    assert refused.status_code == 400 and 'id="ser_email-error"' in refused.get_data(as_text=True)
    assert 'value="Gil Globex"' in refused.get_data(as_text=True), "what was typed is kept"
    assert session.scalar(select(func.count()).select_from(ProcessInstance).where(
        ProcessInstance.title == "Globex bid")) == 0, "nothing was started"
    assert session.scalar(select(Organisation.id).where(Organisation.name == "Globex")) is None
    started = admin.post("/relationships", {"title": "Globex bid", "partner": "Globex", "ser_name": "Gil Globex",
                                            "ser_username": "gil", "ser_email": "gil@globex.test"},
                         page="/relationships", follow_redirects=True)
    html = started.get_data(as_text=True)
    assert "Gil Globex is invited as Globex&#39;s SER" in html and "/welcome/" in html
    assert 'id="no-partner-ser"' not in html, "the partner has its SER from the start"
    gil = session.scalar(select(User).where(User.username == "gil"))
    assert gil.organisation.name == "Globex" and gil.roles == {"ser"}


def test_several_partners_without_an_ser_are_named_together(session, services, users, bundled, signed_in):
    alliance = relationships.start(session, services.workflows, users["staff"], title="Three-way bid",
                                   partners=["Nobody Ltd", "Nowhere plc"], now=utcnow())
    warned = [v for v in notifications.list_for(session, users["ser"]) if v.notification.kind == "no_partner_ser"]
    assert [v.notification.title.split(":")[0] for v in warned] == ["Nobody Ltd and Nowhere plc have no SER yet"]
    page = signed_in("staff").get(f"/relationships/{alliance.instance_id}").get_data(as_text=True)
    assert "Nobody Ltd and Nowhere plc have no SER in collabflow yet." in page and "adds their SERs" in page
    create_user(session, "nowhere-ser", password=None, roles=["ser"], organisation="Nowhere plc",
                organisation_kind="partner")
    page = signed_in("staff").get(f"/relationships/{alliance.instance_id}").get_data(as_text=True)
    assert "Nobody Ltd has no SER in collabflow yet." in page and "adds Nobody Ltd&#39;s SER" in page
