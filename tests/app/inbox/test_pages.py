"""The inbox and task pages through Flask's test client, signed in like a person, CSRF tokens read from the pages."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from sqlalchemy import select

from app.auth.services import create_user
from app.processes.models import HumanTask
from app.processes.services import start_instance
from tests.support.tasks import VALID_POLICY, complete_policy, ready
from tests.support.web import form_fields


def test_other_organisations_do_not_see_our_tasks(signed_in, session, acme):
    task = ready(session, "s1_policy")
    assert signed_in("pser").get(f"/tasks/{task.id}").status_code == 404
    assert "Write the policy" not in signed_in("pser").get("/inbox").get_data(as_text=True)


def test_inbox_filters_sort_and_pages(signed_in, session, wf_engine, users, version, acme):
    for n in range(22):
        start_instance(session, wf_engine, user=users["staff"], process_id="approval", title=f"Deal {n:02}",
                       version_id=version.id)
    client = signed_in("staff")
    html = client.get("/inbox").get_data(as_text=True)
    assert "23 tasks · page 1 of 2" in html and html.count("data-task-id=") == 20
    assert client.get("/inbox?page=2").get_data(as_text=True).count("data-task-id=") == 3
    staged = client.get("/inbox?stage=stage1").get_data(as_text=True)
    assert staged.count("data-task-id=") == 1 and "Write the policy" in staged
    only = client.get(f"/inbox?relationship={acme}").get_data(as_text=True)
    assert only.count("data-task-id=") == 1
    by_name = client.get("/inbox?sort=name&stage=approval").get_data(as_text=True)
    assert by_name.count("data-task-id=") == 20 and "Write the policy" not in by_name
    assert client.get("/inbox?page=abc&relationship=x&sort=zzz&role=god").status_code == 200
    assert "Nothing waiting for you." in signed_in("assessor").get("/inbox").get_data(as_text=True)


def test_invalid_form_comes_back_with_errors_and_typed_values(signed_in, session, acme):
    task = ready(session, "s1_policy")
    client = signed_in("staff")
    response = client.post(f"/tasks/{task.id}", {"action": "complete", "f.policy_text": "Typed <b>text</b>",
                                                  "f.review_months": "99", "f.budget": "lots",
                                                  "f.communications.__row": ["0"],
                                                  "f.communications.0.audience": "Board"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Typed &lt;b&gt;text&lt;/b&gt;</textarea>" in html
    assert re.search(r'name="f.review_months" value="99"', html)
    assert re.search(r'name="f.budget" value="lots"', html) and "Enter a number." in html
    assert 'name="f.communications.0.audience" value="Board"' in html
    assert 'id="fld-f-communications-0-channel-error"' in html
    session.refresh(task)
    assert task.state == "ready"


def test_add_and_remove_rows_without_javascript(signed_in, session, acme):
    task = ready(session, "s1_policy")
    client = signed_in("staff")
    added = client.post(f"/tasks/{task.id}", {"action": "add:f.communications", "f.communications.__row": ["0"],
                                              "f.communications.0.audience": "Board"}).get_data(as_text=True)
    assert 'value="Board"' in added and 'name="f.communications.1.audience"' in added
    removed = client.post(f"/tasks/{task.id}", {"action": "remove:f.communications.0",
                                                "f.communications.__row": ["0", "1"],
                                                "f.communications.0.audience": "Board",
                                                "f.communications.1.audience": "Staff"}).get_data(as_text=True)
    assert 'value="Board"' not in removed and 'value="Staff"' in removed


def test_complete_through_the_page_then_next_task(signed_in, session, users, acme):
    task = ready(session, "s1_policy")
    client = signed_in("staff")
    data = form_fields(VALID_POLICY)
    data["action"] = "complete"
    data["f.document.__file"] = (io.BytesIO(b"%PDF-1.7 policy"), "policy.pdf")
    response = client.post(f"/tasks/{task.id}", data, content_type="multipart/form-data")
    assert response.status_code == 302 and response.location == "/inbox"
    session.refresh(task)
    assert task.state == "completed" and task.submitted["document"].isdigit()
    evidence = client.get(f"/evidence/{task.submitted['document']}")
    assert evidence.data == b"%PDF-1.7 policy"
    assert evidence.headers["Content-Disposition"] == "attachment; filename=policy.pdf"
    assert evidence.headers["X-Content-Type-Options"] == "nosniff"
    completed_page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Submitted answers" in completed_page and "One division" in completed_page


def test_someone_else_completing_first_is_told_not_merged(signed_in, session, wf_engine, users, acme):
    task = ready(session, "s1_policy")
    client = signed_in("staff")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    complete_policy(session, wf_engine, users["staff2"], task.id)
    from tests.support.web import token
    data = {**form_fields(VALID_POLICY), "action": "complete", "f.policy_text": "Mine", "csrf_token": token(page)}
    response = client.client.post(f"/tasks/{task.id}", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code in (409, 422)
    assert "This task is completed." in html or "changed while you worked" in html
    session.refresh(task)
    assert task.submitted["policy_text"] == VALID_POLICY["policy_text"]


def test_four_eyes_refusal_is_explained_on_post(signed_in, session, wf_engine, acme):
    both = create_user(session, "both", password=None, roles=["staff", "ser"], organisation="Us")
    complete_policy(session, wf_engine, both, ready(session, "s1_policy").id)
    gate = ready(session, "s1_gate")
    from tests.support.web import Browser, set_password
    set_password(session, both)
    client = Browser(signed_in("staff").client.application.test_client())
    client.sign_in("both")
    html = client.get(f"/tasks/{gate.id}").get_data(as_text=True)
    assert "You cannot approve this stage" in html and "Record decision" not in html
    response = client.post(f"/tasks/{gate.id}", {"action": "complete", "f.decision": "approve"})
    assert response.status_code == 403 and "four eyes" in response.get_data(as_text=True).lower()


def test_claim_comment_reassign_due_and_attach_from_the_task_page(signed_in, session, users, acme):
    task = ready(session, "s1_policy")
    staff = signed_in("staff")
    page = f"/tasks/{task.id}"
    assert staff.post(f"{page}/claim", page=page).status_code == 302
    assert "You claimed this task." in staff.get(page).get_data(as_text=True)
    staff.post(f"{page}/comments", {"comment": "Drafting now."}, page=page)
    assert "Drafting now." in staff.get(page).get_data(as_text=True)
    staff.post(f"{page}/evidence", {"file": (io.BytesIO(b"a,b\n1,2\n"), "table.csv")}, page=page,
               content_type="multipart/form-data")
    assert "table.csv" in staff.get(page).get_data(as_text=True)
    staff.post(f"{page}/evidence", {"file": (io.BytesIO(b"\x00\x01"), "fake.pdf")}, page=page,
               content_type="multipart/form-data")
    assert "does not look like a .pdf file" in staff.get(page).get_data(as_text=True)
    ser = signed_in("ser")
    ser.post(f"{page}/reassign", {"assignee": str(users["staff2"].id)}, page=page)
    ser.post(f"{page}/due", {"due": "2020-01-01"}, page=page)
    ser.post(f"{page}/due", {"due": "not a date"}, page=page)
    assert "Enter the due date as YYYY-MM-DD." in ser.get(page).get_data(as_text=True)
    session.refresh(task)
    assert task.assignee_id == users["staff2"].id and task.due_at.year == 2020
    assert "Overdue" in signed_in("staff2").get("/inbox").get_data(as_text=True)


def test_every_action_is_audited(signed_in, session, users, acme):
    from app.audit.models import AuditEvent
    task = ready(session, "s1_policy")
    client = signed_in("staff")
    page = f"/tasks/{task.id}"
    client.post(f"{page}/claim", page=page)
    client.post(page, {"action": "draft", "f.policy_text": "half"})
    client.post(f"{page}/comments", {"comment": "hi"}, page=page)
    client.post(f"{page}/release", page=page)
    recorded = set(session.scalars(select(AuditEvent.action).where(AuditEvent.task_id == task.task_id)))
    assert {"task.created", "task.claimed", "task.draft_saved", "task.commented", "task.released"} <= recorded
    assert session.scalar(select(HumanTask.assignee_id).where(HumanTask.id == task.id)) is None


def test_staff_opening_an_ser_gate_are_told_why_and_partners_learn_nothing(signed_in, session, wf_engine, users,
                                                                            acme):
    complete_policy(session, wf_engine, users["staff"], ready(session, "s1_policy").id)
    gate = ready(session, "s1_gate")
    staff = signed_in("staff")
    response = staff.get(f"/tasks/{gate.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "You may not open the task “SER approval: Awareness”: it is in the SER lane" in html
    assert "your roles: staff" in html and "Record decision" not in html
    assert staff.post(f"/tasks/{gate.id}/claim", page="/inbox").status_code == 403
    as_json = staff.get(f"/tasks/{gate.id}", headers={"Accept": "application/json"})
    assert as_json.status_code == 403 and as_json.json["code"] == "forbidden"
    assert signed_in("pser").get(f"/tasks/{gate.id}").status_code == 404  # the other organisation: not told
    assert signed_in("ser").get(f"/tasks/{gate.id}").status_code == 200


def test_a_gate_decision_is_confirmed_in_its_own_words():
    from app.inbox.pages import _confirmation
    from app.inbox.screens import TaskForm
    from app.processes.models import HumanTask
    bundled = Path(__file__).resolve().parents[3] / "forms"
    stage2 = TaskForm(schema=json.loads((bundled / "s2_ser_gate.schema.json").read_text()),
                      ui=json.loads((bundled / "s2_ser_gate.uischema.json").read_text()))
    gate = HumanTask(name="SER approves stage 2", process_id="stage2_knowledge", approval_gate=True)
    sent_back = _confirmation(gate, {"decision": "rework", "reopen_tasks": ["s2_business_case", "s2_risks"]}, stage2)
    assert sent_back.startswith("Sent back for rework: Develop the business case and market analysis, "
                                "Bring risks and opportunities into the risk process.")
    assert _confirmation(gate, {"decision": "approve"}, stage2) == "Approved: SER approves stage 2."
    partner = HumanTask(name="Partner SER approves stage 5", process_id="stage5_working_together", approval_gate=True)
    assert _confirmation(partner, {"partner_decision": "approve"}, stage2) == "Approved: Partner SER approves stage 5."
    four = HumanTask(name="SER approves stage 4", process_id="stage4_partner_selection", approval_gate=True)
    assert _confirmation(four, {"decision": "no_suitable_partner"}, stage2).startswith(
        "No suitable partner: SER approves stage 4. The relationship ends here")
    seven = HumanTask(name="SER approval: Staying together", process_id="stage7_staying_together", approval_gate=True)
    assert _confirmation(seven, {"decision": "exit"}, stage2).startswith("Moving to exit")
    assert _confirmation(seven, {"decision": "another_cycle"}, stage2).startswith("Another management cycle")
    task = HumanTask(name="Write the policy", process_id="stage1_awareness", approval_gate=False)
    assert _confirmation(task, {"decision": "rework"}, stage2) == "Completed: Write the policy."
