"""Hostile and careless requests: malformed JSON, wrong types, unknown fields, huge strings and bodies,
deep nesting, odd ids and methods, hostile diagrams. Always a 4xx in the one JSON shape; nothing stored."""

from __future__ import annotations

import time

import pytest

from tests.support.api import events, snapshot
from tests.support.bpmn import script_process

ERROR_KEYS = {"code", "status", "message", "errors"}


@pytest.fixture
def rel(api, lifecycle):
    response = api("staff").post("relationships", {"title": "ACME", "partner": "ACME Ltd"})
    return response.get_json()


def refused(response, status):
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.is_json and set(response.get_json()) == ERROR_KEYS
    assert response.get_json()["status"] == status
    return response.get_json()


def test_malformed_bodies(api, session, rel):
    staff = api("staff")
    task = rel["tasks"][0]["id"]
    before = snapshot(session)
    raw = lambda body, ctype="application/json": staff.client.post(  # noqa: E731
        f"/api/v1/tasks/{task}/complete", data=body, headers={**staff.headers(), "Content-Type": ctype})
    refused(raw("{not json"), 400)
    refused(raw('{"data": '), 400)
    refused(raw("[" * 100_000 + "]" * 100_000), 400)                  # recursion bomb
    refused(raw('{"data": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}"), 400)  # deeper than 32 levels
    refused(raw("data=1", "application/x-www-form-urlencoded"), 415)
    refused(raw(b"\xff\xfe garbage"), 400)
    assert snapshot(session) == before


def test_wrong_types_unknown_fields_and_huge_strings_are_422_per_field(api, session, rel):
    staff = api("staff")
    before = snapshot(session)
    cases = [
        ("relationships", {"title": 42, "partner": ["x"]}, {"title", "partner"}),
        ("relationships", {"title": "ok", "partner": "ok", "admin": True}, {"admin"}),
        ("relationships", {"title": "x" * 301, "partner": "y" * 201}, {"title", "partner"}),
        ("relationships", {}, {"title", "partner"}),
        (f"tasks/{rel['tasks'][0]['id']}/complete", {"data": "text"}, {"data"}),
        (f"tasks/{rel['tasks'][0]['id']}/complete", {"data": {"x" * 201: 1}}, {"data"}),
        (f"tasks/{rel['tasks'][0]['id']}/complete", {"data": {}, "revision": 3}, {"revision"}),
        (f"relationships/{rel['id']}/issues", {"title": "x", "description": "d" * 20_001}, {"description"}),
        (f"relationships/{rel['id']}/exit-triggers", {"reason": None}, {"reason"}),
        ("notifications/read", {"ids": ["one"]}, {"ids"}),
        ("notifications/read", {"ids": list(range(1, 600))}, {"ids"}),
    ]
    for path, body, fields in cases:
        errors = refused(staff.post(path, body), 422)["errors"]
        assert fields <= set(errors), (path, errors)
    assert snapshot(session) == before


def test_query_arguments_are_checked(api, rel):
    staff = api("staff")
    for path, field in (("tasks?page=0", "page"), ("tasks?page=abc", "page"), ("tasks?sort=evil", "sort"),
                        ("tasks?utm=1", "utm"), ("relationships?stage=9", "stage"),
                        ("agenda?horizon=forever", "horizon"), ("notifications?limit=100000", "limit"),
                        ("processes/diff?from=1", "to")):
        assert field in refused(staff.get(path), 422)["errors"], path


def test_odd_ids_methods_and_paths_are_json(api, rel):
    staff = api("staff")
    refused(staff.get("tasks/0"), 404)
    refused(staff.get("tasks/-1"), 404)
    refused(staff.get("tasks/99999999999999999999"), 404)
    refused(staff.get("tasks/abc"), 404)
    refused(staff.get("nothing-here"), 404)
    refused(staff.delete("relationships"), 405)
    refused(staff.put("tasks/1/complete", {}), 405)


def test_request_size_limits(app, api, session, rel):
    staff, owner = api("staff"), api("owner")
    before = snapshot(session)
    big = {"data": {"policy_text": "x" * (1024 * 1024 + 1)}}
    refused(staff.post(f"tasks/{rel['tasks'][0]['id']}/complete", big), 413)
    refused(staff.put(f"tasks/{rel['tasks'][0]['id']}/draft", big), 413)
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    huge = {"files": {"a.bpmn": "<x/>" * 600_000}}
    refused(owner.post("processes/deploy", huge), 413)
    assert snapshot(session) == before


HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" '
        'targetNamespace="http://collabflow.test">\n')
BILLION_LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
                  '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                  '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n'
                  '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol3;'
                  '</bpmn:definitions>')
EXTERNAL_ENTITY = ('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
                   '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&xxe;'
                   '</bpmn:definitions>')


@pytest.mark.parametrize("name, xml, words", [
    ("import", script_process("x = 1\nimport os").decode(), "imports are not allowed"),
    ("dunder", script_process("x = ().__class__.__mro__[1].__subclasses__()").decode(), "__"),
    ("entity expansion", BILLION_LAUGHS, "DOCTYPE"),
    ("external entity", EXTERNAL_ENTITY, "DOCTYPE"),
    ("not xml", "<bpmn:definitions", "well-formed"),
])
def test_hostile_diagrams_are_refused_and_nothing_is_deployed(api, session, lifecycle, name, xml, words):
    owner = api("owner")
    before, deployed_before = snapshot(session), events(session, "version.deployed")
    checked = owner.post("processes/validate", {"files": {"hostile.bpmn": xml}})
    assert checked.status_code == 200
    body = checked.get_json()
    assert body["valid"] is False and any(words in p["message"] for p in body["problems"]), body
    deploy = refused(owner.post("processes/deploy", {"files": {"hostile.bpmn": xml}}), 422)
    assert deploy["code"] == "validation_failed" and any(words in p["message"] for p in deploy["errors"])
    assert snapshot(session) == before and events(session, "version.deployed") == deployed_before


def test_huge_diagrams_are_refused_before_parsing(api, session, lifecycle):
    owner = api("owner")
    before = snapshot(session)
    xml = HEAD + "<!--" + "x" * (5 * 1024 * 1024) + "-->" + "</bpmn:definitions>"
    errors = refused(owner.post("processes/deploy", {"files": {"huge.bpmn": xml}}), 422)["errors"]
    assert "files" in errors
    assert snapshot(session) == before


def test_an_endless_loop_is_never_run_by_validate_or_deploy(api, session, lifecycle):
    """Validation compiles scripts and never runs them: an endless loop is only stopped when it runs (by the
    script time limit, tests/workflows/test_sandbox.py), so validate and deploy answer at once."""
    owner = api("owner")
    xml = script_process("while True:\n    pass").decode()
    started = time.monotonic()
    checked = owner.post("processes/validate", {"files": {"loop.bpmn": xml}})
    assert checked.status_code == 200 and time.monotonic() - started < 5


def test_bad_file_names_are_refused(api, session, lifecycle):
    owner = api("owner")
    for files in ({"../../etc/passwd.bpmn": "<x/>"}, {"a.txt": "<x/>"}, {}):
        assert refused(owner.post("processes/validate", {"files": files}), 422)["errors"]
