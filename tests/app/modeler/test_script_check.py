"""The modeller's script check (POST /processes/check-script): a script, pre-script or post-script as validation
sees it, its problems located by the line of the script, for any text (hostile, huge, not text) without a 500, and
for process owners only."""

from __future__ import annotations

import time

import pytest

from tests.support.modeler import NON_OWNERS, json_post
from tests.support.web import token

URL = "/processes/check-script"


def check(client, script, kind="script"):
    response = json_post(client, URL, {"script": script, "kind": kind})
    return response.status_code, response.get_json()


def test_a_forbidden_call_is_reported_at_its_line(owner):
    status, body = check(owner, 'total = 1\nname = "x"\nhandle = open("/etc/passwd")\n')
    assert status == 200
    assert body == {"ok": False, "problems": [
        {"line": 3, "message": "line 3 of the script: name 'open' is not allowed in diagram scripts"}]}


def test_a_script_the_sandbox_runs_is_ok_with_the_engine_s_functions(owner):
    script = 'due = add_period(now(), setting("cadence:R.PM", "P3M"))\nrows = sorted(len(x) for x in ["a", "bb"])\n'
    assert check(owner, script) == (200, {"ok": True, "problems": []})
    assert check(owner, "", "postScript") == (200, {"ok": True, "problems": []})


@pytest.mark.parametrize("kind, what", [("preScript", "pre-script"), ("postScript", "post-script")])
def test_pre_and_post_scripts_are_named_as_such(owner, kind, what):
    status, body = check(owner, "x = 1\nif x\n    y = 2\n", kind)
    assert status == 200 and not body["ok"]
    (problem,) = body["problems"]
    assert problem["line"] == 2 and problem["message"].startswith(f"line 2 of the {what}: ")


@pytest.mark.parametrize("script, line, words", [
    ("import os", 1, "imports are not allowed"),
    ("x = 1\ny = x.__class__", 2, "__class__"),
    ("a = 1\n\nb = eval('1')", 3, "Eval calls are not allowed"),
    ("x = type(3)", 1, "the function 'type' is not available"),
    ("-" * 20000 + "1", 1, "nested too deeply"),
    ("x = [" * 500 + "]" * 500, 1, "too many nested parentheses"),
    ("def f(:\n  pass", 1, ""),
])
def test_hostile_input_gets_a_located_answer_quickly(owner, script, line, words):
    started = time.monotonic()
    status, body = check(owner, script)
    assert time.monotonic() - started < 5
    assert status == 200 and not body["ok"]
    assert body["problems"][0]["line"] == line and words in body["problems"][0]["message"]
    assert all(len(p["message"]) < 400 for p in body["problems"]), "a long statement is not echoed whole"


def test_text_over_the_size_bound_is_refused_with_the_limit(owner):
    status, body = check(owner, "x = 1\n" * 10_000)
    assert status == 400 and "60,000 characters long; the limit is 50,000" in body["message"]
    response = json_post(owner, URL, {"script": "x" * 300_000})
    assert response.status_code == 400 and "too long" in response.get_json()["message"]


@pytest.mark.parametrize("body", [{"script": 42}, {"script": ["a"]}, {"script": "x", "kind": "anything"}, {},
                                  {"script": "x = 1\ny = 'a\x00b'"}])
def test_what_is_not_a_script_gets_a_clear_400_or_an_empty_answer(owner, body):
    response = json_post(owner, URL, body)
    if body == {}:
        assert response.status_code == 200 and response.get_json() == {"ok": True, "problems": []}
    else:
        assert response.status_code == 400 and response.get_json()["message"]


def test_without_the_csrf_token_nothing_is_checked(owner):
    response = owner.client.post(URL, json={"script": "x = 1"}, headers={"Accept": "application/json"})
    assert response.status_code == 400


@pytest.mark.parametrize("who", NON_OWNERS)
def test_only_process_owners_may_check_scripts(who, signed_in):
    client = signed_in(who)
    csrf = token(client.get("/inbox").get_data(as_text=True))
    for method, url in (("POST", URL), ("GET", "/processes/review-cadences")):
        response = (client.client.post(url, json={"script": "x = 1"}, headers={"X-CSRFToken": csrf,
                                                                               "Accept": "application/json"})
                    if method == "POST" else client.get(url))
        assert response.status_code == 403, (who, url)


def test_the_review_cadences_name_the_catalogue_s_reviews(owner):
    reviews = {r["id"]: r for r in owner.get("/processes/review-cadences").get_json()["reviews"]}
    assert reviews["R.PM"]["default_cycle"] == "P3M" and reviews["R.PM"]["requirement"] == "S5.16"
    assert reviews["R.S7"]["what"] == "SER performance review of the relationship"
