"""Issue 18: a NUL character or a lone surrogate in any text the API takes (JSON bodies at any depth, query
strings) is refused with a 422 naming the field, before any service runs: nothing changes. Before, a NUL in a
title, issue or register entry was a 500 on PostgreSQL and a lone surrogate a 500 everywhere."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

ERROR_KEYS = {"code", "status", "message", "errors"}
NUL, SURROGATE = "\u0000", "\ud800"


def rows(session) -> dict:
    from app.audit.models import AuditEvent
    from app.processes.models import HumanTask, ProcessInstance, ProcessVersion
    from app.registers.models import RegisterEntry
    session.expire_all()
    counts = {model.__name__: session.scalar(select(func.count()).select_from(model))
              for model in (ProcessInstance, HumanTask, ProcessVersion, RegisterEntry)}
    counts["events"] = session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action != "api.token_used"))  # a fresh token's first call is recorded, whatever it asks
    return counts


def refused(response, field):
    assert response.status_code == 422, (response.status_code, response.get_data(as_text=True)[:300])
    body = response.get_json()
    assert set(body) == ERROR_KEYS and body["status"] == 422 and body["code"] == "invalid_text"
    assert list(body["errors"]) == [field], body
    assert field in body["message"]
    return body


@pytest.fixture
def rel(api, lifecycle):
    created = api("staff").post("relationships", {"title": "ACME", "partner": "ACME Ltd"})
    assert created.status_code == 201, created.get_data(as_text=True)
    return created.get_json()


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "lone-surrogate"])
def test_bad_text_in_json_bodies_is_refused_naming_the_field(api, session, rel, bad):
    staff, owner = api("staff"), api("owner")
    task = rel["tasks"][0]["id"]
    before = rows(session)
    refused(staff.post("relationships", {"title": f"ACME{bad}", "partner": "ACME Ltd"}), "title")
    refused(staff.post("relationships", {"title": "ACME", "partner": bad}), "partner")
    refused(staff.post(f"relationships/{rel['id']}/issues", {"title": "Late", "description": f"x{bad}y"}),
            "description")
    refused(staff.post(f"relationships/{rel['id']}/exit-triggers", {"reason": bad}), "reason")
    refused(staff.post(f"relationships/{rel['id']}/registers/risks",
                       {"data": {"risk": f"Late{bad}", "owner": "Sam", "likelihood": 2, "impact": 3}}), "data.risk")
    refused(staff.post(f"tasks/{task}/complete", {"data": {"notes": [{"text": "fine"}, {"text": bad}]}}),
            "data.notes.1.text")
    refused(staff.post(f"tasks/{task}/complete", {"data": {f"key{bad}": "value"}}), "data.key\\u" +
            f"{ord(bad):04x}")
    refused(staff.put(f"tasks/{task}/draft", {"data": {"policy_text": bad}}), "data.policy_text")
    refused(owner.post("processes/validate", {"files": {"a.bpmn": f"<x>{bad}</x>"}}), "files.a.bpmn")
    refused(owner.post("processes/deploy", {"files": {}, "message": bad}), "message")
    assert rows(session) == before


def test_a_lone_surrogate_sent_as_a_json_escape_is_refused(api, session, rel):
    """`{"title": "\\ud800"}` as the bytes a client sends: JSON parses it into a str Python cannot encode."""
    staff = api("staff")
    before = rows(session)
    raw = staff.client.post("/api/v1/relationships", data=b'{"title": "\\ud800", "partner": "ACME Ltd"}',
                            headers={**staff.headers(), "Content-Type": "application/json"})
    refused(raw, "title")
    assert rows(session) == before


@pytest.mark.parametrize("bad", ["%00", "%ED%A0%80"], ids=["nul", "surrogate-bytes"])
def test_bad_text_in_query_strings(api, rel, bad):
    staff = api("staff")
    if bad == "%00":
        refused(staff.get(f"tasks?sort=due{bad}"), "sort")
        refused(staff.get(f"relationships?status={bad}"), "status")
    else:  # undecodable bytes arrive as U+FFFD, which is text: the usual validation answers
        assert staff.get(f"tasks?sort=due{bad}").status_code == 422


def test_good_text_still_passes(api, session, rel):
    staff = api("staff")
    made = staff.post("relationships", {"title": "Ünïcode ✓ 𝄞 partnership", "partner": "Zoë & Co"})
    assert made.status_code == 201 and made.get_json()["title"] == "Ünïcode ✓ 𝄞 partnership"
