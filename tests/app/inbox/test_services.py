"""The task services on a real engine and database: claim, release, reassign, drafts, comments, submit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.auth.services import create_user
from app.db import utcnow
from app.errors import BadRequest, Forbidden, NotFound
from app.evidence.services import Upload
from app.inbox import queries
from app.inbox import services as tasks
from app.inbox.models import TaskDraft
from app.processes.models import HumanTask
from app.relationships import services as relationships
from tests.support.tasks import complete_policy, ready
from workflows import InvalidData, TaskNotReady


@pytest.fixture
def policy_task(session, wf_engine, users, lifecycle):
    relationships.start(session, wf_engine, users["staff"], title="ACME", partner="ACME Ltd", now=utcnow())
    return ready(session, "s1_policy")


def events(session, action):
    return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def test_claim_then_nobody_else_may_claim_and_release_gives_it_back(session, users, policy_task):
    now = utcnow()
    tasks.claim(session, users["staff"], policy_task.id, now=now)
    session.refresh(policy_task)
    assert policy_task.assignee_id == users["staff"].id
    with pytest.raises(Forbidden, match="already claimed"):
        tasks.claim(session, users["staff2"], policy_task.id, now=now)
    with pytest.raises(Forbidden, match="only the person who claimed"):
        tasks.release(session, users["staff2"], policy_task.id, now=now)
    tasks.release(session, users["staff"], policy_task.id, now=now)
    session.refresh(policy_task)
    assert policy_task.assignee_id is None
    assert events(session, "task.claimed") == 1 and events(session, "task.released") == 1


def test_claim_follows_the_lane_rules(session, users, policy_task):
    with pytest.raises(Forbidden, match="needs the role 'staff'"):
        tasks.claim(session, users["ser"], policy_task.id, now=utcnow())
    with pytest.raises(NotFound):  # assessors see the task page, partners do not even see it exists
        tasks.claim(session, users["pser"], policy_task.id, now=utcnow())


def test_reassign_by_an_ser_to_someone_who_may_work_it(session, users, policy_task):
    now = utcnow()
    with pytest.raises(Forbidden, match="only an SER or an administrator"):
        tasks.reassign(session, users["staff"], policy_task.id, users["staff2"].id, now=now)
    with pytest.raises(BadRequest, match="cannot take this task"):
        tasks.reassign(session, users["ser"], policy_task.id, users["ser2"].id, now=now)
    assert [u.username for u in queries.candidates(session, policy_task)] == ["staff", "staff2"]
    tasks.reassign(session, users["ser"], policy_task.id, users["staff2"].id, now=now)
    session.refresh(policy_task)
    assert policy_task.assignee_id == users["staff2"].id
    with pytest.raises(Forbidden, match="assigned to someone else"):
        complete_policy(session, None, users["staff"], policy_task.id)


def test_due_dates_make_tasks_overdue(session, users, policy_task):
    now = utcnow()
    tasks.set_due(session, users["ser"], policy_task.id, now - timedelta(days=1), now=now)
    page = queries.inbox(session, users["staff"], queries.InboxFilters(overdue=True), now=now)
    assert [r.id for r in page.rows] == [policy_task.id] and page.rows[0].overdue
    assert page.counts == {"mine": 0, "claimable": 1, "overdue": 1, "all": 1}
    with pytest.raises(Forbidden):
        tasks.set_due(session, users["staff"], policy_task.id, None, now=now)


def test_drafts_are_per_person_and_dropped_on_completion(session, wf_engine, users, policy_task):
    now = utcnow()
    tasks.save_draft(session, users["staff"], policy_task.id, {"policy_text": "half"}, now=now)
    tasks.save_draft(session, users["staff"], policy_task.id, {"policy_text": "more"}, now=now)
    assert queries.draft_of(session, users["staff"], policy_task.id).data == {"policy_text": "more"}
    assert queries.draft_of(session, users["staff2"], policy_task.id) is None
    with pytest.raises(Forbidden):
        tasks.save_draft(session, users["ser"], policy_task.id, {}, now=now)
    complete_policy(session, wf_engine, users["staff"], policy_task.id)
    assert session.scalar(select(func.count()).select_from(TaskDraft)) == 0


def test_submit_validates_and_refuses_evidence_of_another_relationship(session, wf_engine, users, policy_task, app):
    with pytest.raises(InvalidData):
        tasks.submit(session, wf_engine, users["staff"], policy_task.id, {"policy_text": "x"}, now=utcnow())
    relationships.start(session, wf_engine, users["staff"], title="Other", partner="Other", now=utcnow())
    other = session.scalar(select(HumanTask).where(HumanTask.bpmn_id == "s1_policy", HumanTask.id != policy_task.id))
    import io
    foreign = tasks.attach_evidence(session, users["staff"], other.id, Upload("a.txt", io.BytesIO(b"hi")), field=None,
                                    max_bytes=1000, now=utcnow())
    tasks.save_draft(session, users["staff"], policy_task.id, {"policy_text": "half"}, now=utcnow())
    with pytest.raises(BadRequest, match="not evidence of this relationship"):
        complete_policy(session, wf_engine, users["staff"], policy_task.id, document=str(foreign.id))
    # refused in the completion's own transaction: nothing changed, the draft kept, the task still ready
    session.expire_all()
    assert queries.draft_of(session, users["staff"], policy_task.id).data == {"policy_text": "half"}
    assert session.get(HumanTask, policy_task.id).state == "ready"
    own = tasks.attach_evidence(session, users["staff"], policy_task.id, Upload("b.txt", io.BytesIO(b"ok")),
                                field="document", max_bytes=1000, now=utcnow())
    complete_policy(session, wf_engine, users["staff"], policy_task.id, document=str(own.id))
    session.refresh(policy_task)
    assert policy_task.state == "completed" and policy_task.submitted["document"] == str(own.id)
    with pytest.raises(TaskNotReady):
        complete_policy(session, wf_engine, users["staff"], policy_task.id)


def test_comments_are_recorded(session, users, policy_task):
    with pytest.raises(BadRequest):
        tasks.add_comment(session, users["staff"], policy_task.id, "   ", now=utcnow())
    tasks.add_comment(session, users["ser"], policy_task.id, "Mention the partners.", now=utcnow())
    assert [(c.body, name) for c, name in queries.comments_of(session, policy_task.id)] == \
        [("Mention the partners.", "ser")]
    assert events(session, "task.commented") == 1


def test_four_eyes_and_stage_summary(session, wf_engine, users, policy_task):
    both = create_user(session, "both", password=None, roles=["staff", "ser"], organisation="Us")
    complete_policy(session, wf_engine, both, policy_task.id)
    gate = ready(session, "s1_gate")
    assert "four eyes" in queries.refusal(session, both, gate)
    assert queries.refusal(session, users["ser"], gate) is None
    assert [r.bpmn_id for r in queries.stage_work(session, gate)] == ["s1_policy"]
    tasks.submit(session, wf_engine, users["ser"], gate.id, {"decision": "rework", "comments": "More."},
                 now=utcnow())
    complete_policy(session, wf_engine, users["staff"], ready(session, "s1_policy").id, policy_text="Again.")
    second = ready(session, "s1_gate")
    decisions = queries.earlier_decisions(session, second)
    assert [d.submitted["decision"] for d in decisions] == ["rework"]
    work = queries.stage_work(session, second)
    assert len(work) == 1 and work[0].submitted["policy_text"] == "Again."  # the latest completion only
    assert "four eyes" in queries.refusal(session, both, second)  # an earlier version of the stage was theirs


def test_next_task_after_completion(session, wf_engine, users, policy_task):
    complete_policy(session, wf_engine, users["staff"], policy_task.id)
    assert tasks.next_task_for(session, users["staff"], policy_task.id, now=utcnow()) is None
    assert tasks.next_task_for(session, users["ser"], policy_task.id, now=utcnow()) == ready(session, "s1_gate").id
