"""Every page a person can reach, for every demo role: with the bundled lifecycle deployed, `seed-demo` run
(relationships in stages 1, 2, 3 and 5), an issue and an exit trigger raised on the stage-5 one, each demo user
signs in and follows every same-site link from the inbox, breadth first (at most 200 pages, 60 per section). No page may fail (5xx, or an error
escaping the app); a 403 or 404 is fine where the role may not see something, and must be a readable page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.services import get_user
from app.cli import DEMO_PASSWORD, DEMO_USERS
from app.config import ROOT
from app.db import utcnow
from app.lifecycle import services as lifecycle
from app.processes.models import ProcessInstance
from app.processes.services import deploy_version
from tests.support.cli import invoke
from tests.support.crawl import crawl
from tests.support.web import Browser
from workflows import read_directory

ROLES = ["staff", "ser", "jmt", "owner", "assessor", "admin", "top", "partner-ser", "partner-jmt"]


@pytest.fixture
def demo(app, session, wf_engine):
    """The bundled lifecycle, `seed-demo`'s users and relationships, and linked work on the stage-5 one."""
    deploy_version(session, wf_engine, *read_directory(ROOT / "bpmn", ROOT / "forms"), message="crawl")
    result = invoke(app, "seed-demo")
    assert result.exit_code == 0, result.output
    assert {u[0] for u in DEMO_USERS} >= set(ROLES)
    tailspin = session.scalar(select(ProcessInstance.id).where(ProcessInstance.title == "Tailspin regional partnership"))
    assert lifecycle.current_stage(session, tailspin) == 5
    jmt = get_user(session, "jmt")
    lifecycle.raise_issue(session, wf_engine, user=jmt, relationship_id=tailspin, title="Late drawings",
                          description="Three weeks late.", now=utcnow())
    lifecycle.raise_exit_trigger(session, wf_engine, user=get_user(session, "ser"), relationship_id=tailspin,
                                 reason="Trust has broken down.", now=utcnow())
    return tailspin


def check_role(app, username, relationship_id) -> list[str]:
    """Sign in as `username`, crawl, and say what is wrong (nothing: an empty list)."""
    client = Browser(app.test_client())
    signed = client.sign_in(username, DEMO_PASSWORD)
    if signed.status_code != 302 or signed.location != "/inbox":
        return [f"{username} could not sign in ({signed.status_code})"]
    pages = crawl(client)
    problems = [f"{username}: {url} -> {status} {body[:200]}" for url, (status, body) in pages.items()
                if status >= 500 or status not in (200, 403, 404)]
    problems += [f"{username}: {url} -> {status} is not a readable error page" for url, (status, body) in pages.items()
                 if status in (403, 404) and body and "Back to the start page" not in body]
    ok = {url for url, (status, _body) in pages.items() if status == 200}
    missing = {"/inbox", "/relationships", "/agenda", "/notifications", "/", f"/relationships/{relationship_id}"} - ok
    problems += [f"{username}: never reached {url}" for url in sorted(missing)]
    if username not in ("owner", "assessor", "top") and not any(url.startswith("/tasks/") for url in ok):
        problems.append(f"{username}: opened no task")
    return problems


@pytest.mark.slow
def test_every_reachable_page_works_for_every_demo_role(app, demo):
    problems = [problem for username in ROLES for problem in check_role(app, username, demo)]
    assert not problems, "\n".join(problems)
