"""A relationship's page on the real bundled lifecycle: raising issues and exit triggers (stages 5-7, the
roles that work), refusals explained with the typed text kept, what is coming up, the linked issues with their
escalation level, and the path already taken marked on the diagrams. Also the relationships list and starting a
relationship from it (on the pages' test lifecycle)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from lxml import html as lxml_html
from sqlalchemy import select

from app.agenda.services import upcoming
from app.db import utcnow
from app.inbox import services as tasks
from app.pages import when
from app.processes.models import HumanTask, ProcessInstance
from app.relationships import services as relationships
from app.relationships.services import level_of


def page_of(response):
    return lxml_html.fromstring(response.get_data(as_text=True))


def flashed(tree) -> str:
    found = tree.xpath('//*[contains(concat(" ", @class, " "), " flash ")]')
    return " ".join(" ".join(e.text_content().split()) for e in found)


def section(tree, element_id) -> str:
    found = tree.xpath(f'//*[@id="{element_id}"]')
    return " ".join(found[0].text_content().split()) if found else ""


def issues_of(session, relationship_id):
    session.expire_all()
    return list(session.scalars(select(ProcessInstance).where(
        ProcessInstance.parent_id == relationship_id, ProcessInstance.process_id == "issue_resolution")
        .order_by(ProcessInstance.id)))


@pytest.mark.parametrize("name, offered", [("staff", True), ("ser", True), ("jmt", True), ("admin", True),
                                           ("assessor", False), ("owner", False)])
def test_raise_forms_are_offered_to_the_roles_that_work_in_stages_5_to_7(signed_in, working_together, name,
                                                                         offered):
    tree = page_of(signed_in(name).get(f"/relationships/{working_together.instance_id}"))
    assert bool(tree.xpath('//*[@id="raise-issue"]//form')) is offered
    assert bool(tree.xpath('//*[@id="raise-exit"]//form')) is offered


def test_no_raise_forms_before_stage_5(signed_in, session, wf_engine, users, bundled):
    early = relationships.start(session, wf_engine, users["staff"], title="Early days", partner="Beta",
                                now=utcnow()).instance_id
    client = signed_in("staff")
    tree = page_of(client.get(f"/relationships/{early}"))
    assert not tree.xpath('//*[@id="raise-issue"]') and not tree.xpath('//*[@id="raise-exit"]')
    # posting anyway is refused on the page, never a 500, and what was typed stays
    refused = client.post(f"/relationships/{early}/issues", {"title": "Too soon", "description": "Typed"},
                          page=f"/relationships/{early}")
    assert refused.status_code == 400
    tree = page_of(refused)
    assert "can be raised in stages 5 to 7" in section(tree, "issue-refusal")
    assert tree.xpath('//input[@id="issue-title"]/@value') == ["Too soon"]
    assert issues_of(session, early) == []


def test_raising_an_issue_lists_it_with_its_level_and_title(signed_in, session, users, working_together):
    rel = working_together
    client = signed_in("jmt")
    page = f"/relationships/{rel.instance_id}"
    response = client.post(f"{page}/issues", {"title": "Late design drawings",
                                              "description": "Three weeks late."}, page=page)
    assert response.status_code == 302 and response.location == page
    (issue,) = issues_of(session, rel.instance_id)
    tree = page_of(client.get(page))
    assert "Issue raised: 'Late design drawings'" in flashed(tree)
    listed = section(tree, "issues")
    assert issue.title == "Late design drawings", "raise_issue names the issue instance"
    assert "Late design drawings" in listed and "Being logged" in listed and "running" in listed
    assert tree.xpath(f'//*[@id="issues"]//a[@href="/tasks/{rel.linked_driver(issue.id).task("ir_log_issue").id}"]')

    worked = rel.linked_driver(issue.id)
    worked.complete("ir_log_issue")  # pre-filled with the raised title, as the form shows it
    listed = section(page_of(client.get(page)), "issues")
    assert "Late design drawings" in listed and "Level 1" in listed
    worked.wake(days=5, minutes=2)  # level 1's time limit expires: the joint management team takes it
    assert worked.ready_names() == ["ir_level2"]
    listed = section(page_of(client.get(page)), "issues")
    assert "Level 2" in listed and "Level 1" not in listed


def test_issue_refusals_keep_the_typed_text(signed_in, session, working_together):
    page = f"/relationships/{working_together.instance_id}"
    client = signed_in("staff")
    refused = client.post(f"{page}/issues", {"title": "   ", "description": "Typed <b>details</b>"}, page=page)
    assert refused.status_code == 400
    tree = page_of(refused)
    assert "An issue needs a title" in section(tree, "issue-refusal")
    assert section(tree, "issue-title-error") == "This field is required."
    assert tree.xpath('//textarea[@id="issue-description"]/text()') == ["Typed <b>details</b>"]
    assert tree.xpath('//input[@id="issue-title"]/@aria-invalid') == ["true"]

    assessor = signed_in("assessor")
    forbidden = assessor.post(f"{page}/issues", {"title": "Audit finding"}, page=page)
    assert forbidden.status_code == 403
    tree = page_of(forbidden)
    assert "Your roles do not allow raising an issue" in section(tree, "issue-refusal")
    assert tree.xpath('//input[@id="issue-title"]/@value') == ["Audit finding"]
    assert issues_of(session, working_together.instance_id) == []


def test_exit_trigger_then_a_second_one_is_refused_while_the_review_is_open(signed_in, working_together):
    rel = working_together
    page = f"/relationships/{rel.instance_id}"
    client = signed_in("ser")
    empty = client.post(f"{page}/exit-triggers", {"reason": ""}, page=page)
    assert empty.status_code == 400 and "Say why the exit trigger is raised" in section(page_of(empty),
                                                                                          "exit-refusal")
    response = client.post(f"{page}/exit-triggers", {"reason": "Trust has broken down."}, page=page)
    assert response.status_code == 302
    assert "Exit trigger raised" in flashed(page_of(client.get(page)))
    assert "exit_review" in rel.ready_names()
    def exit_signals():
        return [e for e in rel.audit("signal.received") if e.payload["name"] == "exit_trigger"]
    (received,) = exit_signals()
    assert received.payload["payload"]["reason"] == "Trust has broken down."

    again = client.post(f"{page}/exit-triggers", {"reason": "And the invoices are late."}, page=page)
    assert again.status_code == 400
    tree = page_of(again)
    assert "An exit review is already open for this relationship" in section(tree, "exit-refusal")
    assert tree.xpath('//textarea[@id="exit-reason"]/text()') == ["And the invoices are late."]
    assert len(exit_signals()) == 1


def test_upcoming_lists_the_relationships_reviews_and_deadlines(signed_in, session, users, working_together):
    rel = working_together
    now = utcnow()
    task = rel.ready()[0]
    tasks.set_due(session, users["admin"], task.id, now + timedelta(days=3), now=now)
    expected = upcoming(session, now=now, relationship_id=rel.instance_id)
    assert any(e.kind == "deadline" for e in expected)
    tree = page_of(signed_in("staff").get(f"/relationships/{rel.instance_id}"))
    listed = tree.xpath('//*[@id="upcoming"]//li')
    assert len(listed) == min(len(expected), 8)
    for li, entry in zip(listed, expected, strict=False):
        assert li.get("data-kind") == entry.kind
        assert entry.title in li.text_content() and when(entry.when) in li.text_content()
    assert tree.xpath(f'//*[@id="upcoming"]//a[@href="/tasks/{task.id}"]/text()') == [task.name]
    assert tree.xpath(f'//*[@id="upcoming"]//a[@href="/agenda?relationship={rel.instance_id}"]')


def test_the_diagrams_mark_the_path_already_taken(signed_in, session, working_together):
    tree = page_of(signed_in("staff").get(f"/relationships/{working_together.instance_id}"))
    diagrams = {d.get("data-xml").rsplit("/", 1)[1]: d for d in tree.xpath('//*[@data-xml]')}
    lifecycle = diagrams["lifecycle.bpmn"]
    assert json.loads(lifecycle.get("data-completed")) == ["lc_stage2", "lc_stage4"]
    assert json.loads(lifecycle.get("data-active")) == ["lc_relationship_running"]
    stage5 = diagrams["stage5_working_together.bpmn"]
    done_here = set(session.scalars(select(HumanTask.bpmn_id).where(
        HumanTask.instance_id == working_together.instance_id, HumanTask.state == "completed",
        HumanTask.process_id == "stage5_working_together")))
    assert set(json.loads(stage5.get("data-completed"))) == done_here - set(json.loads(stage5.get("data-active")))


def test_level_of_an_issue():
    assert level_of(["ir_log_issue"]) == "Being logged"
    assert level_of(["ir_level1"]) == "Level 1"
    assert level_of(["ir_level3_ser", "ir_level3_partner_ser"]) == "Level 3"
    assert level_of([]) is None


def test_relationships_list_start_and_page(signed_in, session, acme):
    client = signed_in("staff")
    html = client.get("/relationships").get_data(as_text=True)
    assert "ACME" in html and "with ACME Ltd" in html and 'class="current"' in html
    refused = client.post("/relationships", {"title": "", "partner": ""})
    assert refused.status_code == 400 and "Give the relationship a name." in refused.get_data(as_text=True)
    started = client.post("/relationships", {"title": "Beta deal", "partner": "Beta"})
    assert started.status_code == 302
    show = client.get(started.location).get_data(as_text=True)
    assert "Beta deal" in show and "Write the policy" in show and "instance.started" in show
    assert 'data-active=\'["s1_policy"]\'' in show and 'data-active=\'["lc_stage1"]\'' in show
    xml = client.get(re.search(r'data-xml="([^"]+web_stage1.bpmn)"', show).group(1))
    assert xml.status_code == 200 and xml.mimetype == "application/xml" and b"s1_policy" in xml.data


def test_starting_without_a_deployed_lifecycle_says_so(signed_in, version):
    client = signed_in("staff")
    assert "No lifecycle is deployed." in client.get("/relationships").get_data(as_text=True)
    response = client.post("/relationships", {"title": "X", "partner": "Y"})
    assert response.status_code == 400 and "No lifecycle is deployed." in response.get_data(as_text=True)
