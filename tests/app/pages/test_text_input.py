"""Issue 18: a NUL character in a form field or a query argument is refused with a 400 error page naming the
field, before any service runs (starting a relationship with one was a 500 on PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.processes.models import ProcessInstance
from app.registers.models import RegisterEntry


def counts(session) -> tuple:
    session.expire_all()
    return tuple(session.scalar(select(func.count()).select_from(m)) for m in (ProcessInstance, RegisterEntry,
                                                                                  AuditEvent))


def refused_page(response, field):
    page = response.get_data(as_text=True)
    assert response.status_code == 400, (response.status_code, page[:300])
    assert response.mimetype == "text/html"
    assert f"<strong>{field}</strong>" in page and "NUL character" in page
    return page


def test_a_nul_in_the_start_form_is_refused_naming_the_field(signed_in, session, lifecycle):
    staff = signed_in("staff")
    before = counts(session)
    refused_page(staff.post("/relationships", {"title": "ACME\x00", "partner": "ACME Ltd"}), "title")
    refused_page(staff.post("/relationships", {"title": "ACME", "partner": "\x00"}), "partner")
    assert counts(session) == before
    started = staff.post("/relationships", {"title": "ACME", "partner": "ACME Ltd"})
    assert started.status_code == 302  # the same form without the NUL still works


def test_a_nul_in_raise_and_register_forms_is_refused(signed_in, session, lifecycle):
    staff = signed_in("staff")
    made = staff.post("/relationships", {"title": "ACME", "partner": "ACME Ltd"})
    rel = int(made.headers["Location"].rsplit("/", 1)[1])
    before = counts(session)
    page = f"/relationships/{rel}"
    refused_page(staff.post(f"{page}/issues", {"title": "Late", "description": "a\x00b"}, page=page),
                 "description")
    register = f"/relationships/{rel}/registers/risks"
    refused_page(staff.post(register, {"risk": "Late\x00", "owner": "Sam", "likelihood": "2", "impact": "3"},
                            page=register), "risk")
    assert counts(session) == before


def test_a_nul_in_a_query_string_is_refused(signed_in, lifecycle):
    staff = signed_in("staff")
    refused_page(staff.get("/relationships?status=%00"), "status")
    refused_page(staff.get("/inbox?q=a%00b"), "q")
    assert staff.get("/relationships?status=running").status_code == 200
