"""The authorization matrix: every endpoint x every role (ours and the partner's SER). Allowed cells succeed;
forbidden cells get 403 (recorded as `api.forbidden`) or 404 (the other organisation's task is not told to
exist), and change nothing: no rows, revisions, drafts, tokens or versions (audit: only the refusal)."""

from __future__ import annotations

import pytest

from app.auth.permissions import Permission, roles_with  # noqa: E402
from app.db import utcnow
from app.relationships import services as relationships
from tests.support.api import events, snapshot
from tests.support.web import read_web_bundle

# the test users (tests/conftest.py: users) and their roles; pser is the partner organisation's SER
ROLES_OF = {"staff": {"staff"}, "ser": {"ser"}, "jmt": {"jmt"}, "owner": {"process_owner"}, "assessor": {"assessor"},
            "admin": {"admin"}, "top": {"top_management"}, "pser": {"ser"}}
ROLES = list(ROLES_OF)
EVERYONE = set(ROLES)
OURS = EVERYONE - {"pser"}  # the relationships here are not with pser's organisation: they are not told to exist


def holders(permission: Permission) -> set[str]:
    """The test users holding `permission`, read from the role-to-permission table (app/auth/permissions.py)."""
    return {user for user, roles in ROLES_OF.items() if roles & roles_with(permission)}


OWNERS = holders(Permission.DEPLOY_PROCESSES)
READERS = holders(Permission.READ_PROCESSES)
WORKERS = holders(Permission.RAISE_ISSUES)  # the service's rule: the partner's SER is an SER too
STARTERS = holders(Permission.START_RELATIONSHIPS) - {"pser"}  # partners join at stage 5, they start nothing
EDITORS = holders(Permission.EDIT_REGISTERS) - {"pser"}
ADMINISTRATORS = holders(Permission.ADMINISTER_USERS)
WEBHOOK_ADMINS = holders(Permission.ADMINISTER_WEBHOOKS)
RISK = {"data": {"risk": "Late parts", "owner": "Sam", "likelihood": 2, "impact": 3}, "joint": True}
POLICY = {"policy_text": "We collaborate.", "approved_on": "2026-01-15", "scope": "division", "channels": ["email"],
          "improvement": True, "communications": [{"audience": "All staff", "channel": "briefing"}]}


def bundle():
    files, forms = read_web_bundle()
    files = {k: v.decode() for k, v in files.items()}
    files["web_stage1.bpmn"] = files["web_stage1.bpmn"].replace('name="Write the policy"', 'name="Write it"')
    return {"files": files, "forms": {k: v.decode() for k, v in forms.items()}}


# (name, method, path template, body, allowed roles, success status, roles answered 404 instead of 403)
MATRIX = [
    ("list relationships", "GET", "relationships", None, EVERYONE, 200, set()),
    ("start relationship", "POST", "relationships", {"title": "New", "partner": "P"}, STARTERS, 201, set()),
    ("show relationship", "GET", "relationships/{rel}", None, OURS, 200, {"pser"}),
    ("relationship events", "GET", "relationships/{rel}/events", None, OURS, 200, {"pser"}),
    ("risk register", "GET", "relationships/{rel}/registers/risks", None, OURS, 200, {"pser"}),
    ("add a risk", "POST", "relationships/{rel}/registers/risks", RISK, EDITORS, 201, {"pser"}),
    ("issue log", "GET", "relationships/{rel}/issue-log", None, OURS, 200, {"pser"}),
    ("compliance matrix", "GET", "relationships/{rel}/compliance", None, OURS, 200, {"pser"}),
    ("gap analysis", "GET", "relationships/{rel}/gaps", None, OURS, 200, {"pser"}),
    ("organisation matrix", "GET", "compliance", None, OURS, 200, set()),
    ("plan versions", "GET", "relationships/{rel}/rmp", None, OURS, 200, {"pser"}),
    ("assessor pack", "GET", "relationships/{rel}/assessor-pack?format=csv", None, OURS, 200, {"pser"}),
    ("inbox", "GET", "tasks", None, EVERYONE, 200, set()),
    ("show task", "GET", "tasks/{task}", None, {"staff", "ser", "assessor", "admin"}, 200, {"pser"}),
    ("claim task", "POST", "tasks/{task}/claim", None, {"staff"}, 200, {"pser"}),
    ("release task", "POST", "tasks/{claimed}/release", None, {"staff", "ser", "admin"}, 200, {"pser"}),
    ("save draft", "PUT", "tasks/{task}/draft", {"data": {"owner": "me"}}, {"staff"}, 200, {"pser"}),
    ("complete task", "POST", "tasks/{task}/complete", {"data": POLICY}, {"staff"}, 200, {"pser"}),
    ("versions", "GET", "processes/versions", None, READERS, 200, set()),
    ("validate", "POST", "processes/validate", "bundle", OWNERS, 200, set()),
    ("deploy", "POST", "processes/deploy", "bundle", OWNERS, 201, set()),
    ("diff", "GET", "processes/diff?from={version}&to={version}", None, READERS, 200, set()),
    ("dry run", "GET", "processes/migrations/dry-run?to={version}", None, OWNERS, 200, set()),
    ("notifications", "GET", "notifications", None, EVERYONE, 200, set()),
    ("mark read", "POST", "notifications/read", {}, EVERYONE, 200, set()),
    ("agenda", "GET", "agenda", None, EVERYONE, 200, set()),
    ("tokens", "GET", "tokens", None, EVERYONE, 200, set()),
    ("startable processes", "GET", "processes/startable", None, EVERYONE, 200, set()),
    ("scheduled starts", "GET", "processes/scheduled", None, READERS, 200, set()),
    ("organisations", "GET", "admin/organisations", None, ADMINISTRATORS, 200, set()),
    ("people", "GET", "admin/users", None, ADMINISTRATORS, 200, set()),
    ("second-factor policy", "GET", "admin/second-factor", None, ADMINISTRATORS, 200, set()),
    ("set the second-factor policy", "PUT", "admin/second-factor", {"required_roles": []}, ADMINISTRATORS, 200,
     set()),
    ("webhooks", "GET", "admin/webhooks", None, WEBHOOK_ADMINS, 200, set()),
    ("subscribe a webhook", "POST", "admin/webhooks", {"url": "https://hooks.example.com/x",
                                                       "events": ["task.completed"]}, WEBHOOK_ADMINS, 201, set()),
]


@pytest.fixture
def world(session, wf_engine, users, lifecycle):
    """Two relationships on the test lifecycle: one with its policy task open, one with it claimed by staff."""
    from app.inbox.services import claim
    first = relationships.start(session, wf_engine, users["staff"], title="ACME", partner="ACME Ltd", now=utcnow())
    second = relationships.start(session, wf_engine, users["staff"], title="Beta", partner="Beta Ltd", now=utcnow())
    task, claimed = first.ready[0], second.ready[0]
    from sqlalchemy import select

    from app.processes.models import HumanTask
    task_id = session.scalar(select(HumanTask.id).where(HumanTask.task_id == task.id))
    claimed_id = session.scalar(select(HumanTask.id).where(HumanTask.task_id == claimed.id))
    claim(session, users["staff"], claimed_id, now=utcnow())
    return {"rel": first.instance_id, "task": task_id, "claimed": claimed_id, "version": lifecycle.id}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name, method, path, body, allowed, ok, hidden", MATRIX, ids=[m[0] for m in MATRIX])
def test_matrix(api, session, world, role, name, method, path, body, allowed, ok, hidden):
    client = api(role)
    url = path.format(**world)
    before, refusals = snapshot(session), events(session, "api.forbidden")
    response = client.call(method, url, bundle() if body == "bundle" else body)
    if role in allowed:
        assert response.status_code == ok, (role, name, response.get_json())
        return
    expected = 404 if role in hidden else 403
    assert response.status_code == expected, (role, name, response.status_code, response.get_json())
    assert set(response.get_json()) == {"code", "status", "message", "errors"}
    assert snapshot(session) == before
    assert events(session, "api.forbidden") == refusals + (expected == 403)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ["issues", "exit-triggers"])
def test_matrix_issues_and_exit_triggers(api, session, in_stage5, role, action):
    client = api(role)
    body = {"title": "Late deliveries"} if action == "issues" else {"reason": "Partner acquired"}
    before, refusals = snapshot(session), events(session, "api.forbidden")
    response = client.post(f"relationships/{in_stage5}/{action}", body)
    if role in WORKERS:
        assert response.status_code == 201, (role, response.get_json())
        return
    assert response.status_code == 403, (role, response.get_json())
    assert snapshot(session) == before and events(session, "api.forbidden") == refusals + 1
