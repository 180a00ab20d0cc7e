"""The compliance scenario shared by tests/app/compliance/test_exports.py and test_pages.py (built once per
module by tests/app/compliance/conftest.py): the organisation's management system set up (its policy with a
file), the happy path with Partner Ltd under it (its business case with a file, an exit trigger both SERs
dismissed), and a relationship stopped when stage 4 began. `build_five_years`: a relationship five years in
stage 7 (tests/app/compliance/test_export_five_years.py)."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from app.auth.models import RelationshipProfile

STAGE_HEADINGS = [f"Stage {n}: {name}" for n, name in enumerate(
    ("Awareness", "Knowledge", "Internal assessment", "Partner selection", "Working together", "Value creation",
     "Staying together", "Exit strategy"), 1)]
POLICY = "We collaborate openly, reviewed monthly."
BUSINESS_CASE = "Joint bids win twice as often as our solo bids."
SECRET = "Our cost model and margins"
SHARED = "Shared design library"
ANSWERS = {
    "s1_policy": {"policy_text": POLICY},
    "s2_business_case": {"strategy": BUSINESS_CASE},  # a text field of the business-case task: one-line summaries show it
    "s4_rmp_update": {"rmp_type": "PRMP", "rmp_change_summary": "The plan now names Partner Ltd."},
    "s5_jrmp": {"rmp_type": "JRMP", "rmp_change_summary": "Agreed jointly with Partner Ltd."},
    "s5_knowledge_comms": {"joint_knowledge_plan": [
        {"asset": SHARED, "owner_organisation": "joint", "sharing": "shared", "conditions": "none"},
        {"asset": SECRET, "owner_organisation": "ours", "sharing": "not_shared", "conditions": "internal only"}]},
}
PDF_BYTES = b"%PDF-1.4\n% the written policy\n"
CASE_BYTES = b"%PDF-1.4\n% the business case\n"


def make_users(session):
    from app.auth.services import create_user
    spec = {"staff": (["staff"], "Us"), "ser": (["ser"], "Us"), "ser2": (["ser"], "Us"), "jmt": (["jmt"], "Us"),
            "owner": (["process_owner"], "Us"), "assessor": (["assessor"], "Us"), "admin": (["admin"], "Us"),
            "top": (["top_management"], "Us"),
            "pser": (["ser"], "Partner Ltd"), "other": (["ser"], "Another Partner plc")}
    return {name: create_user(session, name, password=None, roles=roles, organisation=organisation,
                              organisation_kind="own" if organisation == "Us" else "partner")
            for name, (roles, organisation) in spec.items()}


def build_scenario(session, services, users):
    """The bundled lifecycle; 'ACME joint bid' with Partner Ltd walked through every stage (a year of reviews
    in stage 7) with a policy file attached; 'Stopped early' cancelled when stage 4 began -> dict of facts.
    It starts a year and two weeks ago, so its reviews are still current when the pages read it now."""
    from app.config import ROOT
    from app.db import utcnow
    from app.evidence import services as evidence
    from app.management import services as management
    from app.processes import services as processes
    from app.processes.models import HumanTask
    from app.processes.services import deploy_version
    from app.relationships import services as relationships
    from tests.support.driver import Driver, live_a_year_in_stage_7, until_ready
    from workflows import read_directory

    start_time = (utcnow() - timedelta(days=380)).replace(hour=9, minute=0, second=0, microsecond=0)
    deploy_version(session, services.workflows, *read_directory(ROOT / "bpmn", ROOT / "forms"),
                   user=users["owner"], message="the bundled lifecycle", now=start_time)

    def start(title, now):
        started = relationships.start(session, services.workflows, users["staff"], title=title,
                                      partner="Partner Ltd", now=now)
        profile = session.get(RelationshipProfile, started.instance_id)
        profile.partner_organisation_id = users["pser"].organisation_id
        session.commit()
        return Driver(session, services, users, started.instance_id, now)

    # the organisation's management system: stages 1 and 3 once, its policy with the signed file
    organisation = Driver.start(session, services, users, "management_system", {}, now=start_time)
    organisation.drive(ANSWERS, until=until_ready("s1_ser_gate"))
    policy_task = session.scalar(select(HumanTask).where(HumanTask.instance_id == organisation.instance_id,
                                                         HumanTask.bpmn_id == "s1_policy"))
    policy_file = evidence.store(session, users["staff"], evidence.Upload("policy.pdf", io.BytesIO(PDF_BYTES)),
                                 relationship_id=organisation.instance_id, instance_id=organisation.instance_id,
                                 human_task_id=policy_task.id, field="policy_document", max_bytes=10**6,
                                 now=organisation.now)
    organisation.drive(ANSWERS, until=lambda d: management.readiness(session, d.now).ready)

    # a nonconformity raised by hand: corrected, acted on, checked effective after its period, closed
    raised = processes.start_process(session, services.workflows, users["staff"], "nonconformity", {
        "title": "Policy briefings missed two sites", "source": "hand", "severity": "minor",
        "description": "Two sites were not briefed on the policy."}, now=start_time)
    nonconformity = Driver(session, services, users, raised.instance_id, start_time)
    nonconformity.drive({"nc_correction": {"effectiveness_check_after": "P1M"}})

    rel = start("ACME joint bid", start_time)
    rel.drive(ANSWERS, until=until_ready("s2_ser_gate"))
    case_task = session.scalar(select(HumanTask).where(HumanTask.instance_id == rel.instance_id,
                                                       HumanTask.bpmn_id == "s2_business_case"))
    case_file = evidence.store(session, users["staff"], evidence.Upload("business-case.pdf", io.BytesIO(CASE_BYTES)),
                               relationship_id=rel.instance_id, instance_id=rel.instance_id,
                               human_task_id=case_task.id, field="business_case_document", max_bytes=10**6,
                               now=rel.now)
    rel.drive(ANSWERS, until=until_ready("s7_manage_activities"))
    live_a_year_in_stage_7(rel, organisation=True)
    nonconformity.now = rel.now
    nonconformity.drive({"nc_check_effectiveness": {"effective": "effective"}})
    assert nonconformity.completed
    # an exit trigger both SERs look at, and dismiss (X.01: the decision is joint)
    rel.raise_exit_trigger("The partner's parent company is being sold.")
    rel.complete("exit_review", {"exit_decision": "dismiss"})
    rel.complete("exit_review_partner", {"partner_exit_decision": "dismiss"})
    rel.drive(ANSWERS)
    assert rel.completed

    stopped = start("Stopped early", rel.now + timedelta(days=1))
    stopped.drive(until=until_ready("s4_nominate_candidates"))
    processes.cancel_instance(session, services.workflows, user=users["admin"], instance_id=stopped.instance_id,
                              reason="stopped before partner selection", now=stopped.now)
    return {"happy": rel.instance_id, "stopped": stopped.instance_id, "now": rel.now + timedelta(days=1),
            "organisation": organisation.instance_id, "policy_sha256": policy_file.sha256,
            "policy_file": policy_file.id, "case_sha256": case_file.sha256, "case_file": case_file.id}


# ---- five years in stage 7 (issue 19's export bar) -------------------------------------------------------------

QUARTERS = 20  # five years of quarterly review cycles, as bench/lifecycle.py ages its relationship
ISSUES = 50
EXIT_TRIGGERS = 10


def issue_title(n: int, year: int) -> str:
    return f"Year {year} issue {n}: delivery slipped"


def plan_update(year: int) -> str:
    return f"Year {year}: the joint plan reviewed with Partner Ltd"


def build_five_years(session, services, users):
    """'Five-year bid' with Partner Ltd: the bundled lifecycle walked to stage 7, then five years lived there by the
    real engine and services (bench/lifecycle.py's aged relationship): 20 quarters, each woken by the scheduler's
    timer pass with every due review worked (the relationship's and the organisation's), 50 issues escalated to the
    joint management team and resolved, 10 exit triggers both SERs dismissed, spread over the years; at each year's
    end one stage-7 management cycle (the joint plan updated, both SERs ask for another cycle). It starts five years
    and ten days ago, so its reviews and its open stage work are current when read now -> dict of facts
    (about 10 s on SQLite on a quiet machine: some 550 task completions)."""
    from app.config import ROOT
    from app.db import utcnow
    from app.processes.services import deploy_version
    from app.relationships import services as relationships
    from tests.support.driver import Driver, until_ready, work_due_reviews, work_organisation
    from workflows import add_period, read_directory

    start_time = (utcnow() - timedelta(days=5 * 365 + 10)).replace(hour=9, minute=0, second=0, microsecond=0)
    deploy_version(session, services.workflows, *read_directory(ROOT / "bpmn", ROOT / "forms"),
                   user=users["owner"], message="the bundled lifecycle", now=start_time)
    started = relationships.start(session, services.workflows, users["staff"], title="Five-year bid",
                                  partner="Partner Ltd", now=start_time)
    profile = session.get(RelationshipProfile, started.instance_id)
    profile.partner_organisation_id = users["pser"].organisation_id
    session.commit()
    rel = Driver(session, services, users, started.instance_id, start_time)
    rel.drive(ANSWERS, until=until_ready("s7_manage_activities"))  # the organisation is approved on the way

    anchor, issues, triggers = rel.now, [], []
    for quarter in range(1, QUARTERS + 1):
        year = (quarter - 1) // 4 + 1
        rel.wake(at=add_period(anchor, "P3M", quarter) + timedelta(minutes=1))
        work_due_reviews(rel)
        work_organisation(rel)
        for n in range(len(issues), ISSUES * quarter // QUARTERS):
            issue = rel.raise_issue(issue_title(n + 1, year), "Raised at the quarter's review.")
            issue.complete("ir_log_issue")
            issue.complete("ir_level1", {"l1_resolution": "escalate", "l1_escalation_reason": "needs the JMT"})
            issue.complete("ir_level2", {"l2_resolution": "resolved", "l2_resolution_summary": "agreed"})
            issues.append((n + 1, year, rel.now))
        if quarter % (QUARTERS // EXIT_TRIGGERS) == 0:
            rel.raise_exit_trigger(f"Year {year}: change of control rumour")
            rel.complete("exit_review", {"exit_decision": "dismiss", "exit_rationale": "unfounded"})
            rel.complete("exit_review_partner", {"partner_exit_decision": "dismiss",
                                                 "partner_exit_rationale": "unfounded"})
            triggers.append((year, rel.now))
        if quarter % 4 == 0:
            rel.complete("s7_manage_activities")
            rel.drive({"s7_jrmp_update": {"rmp_change_summary": plan_update(year)},
                       "s7_ser_gate": {"decision": "another_cycle"},
                       "s7_partner_ser_gate": {"partner_decision": "another_cycle"}},
                      until=until_ready("s7_manage_activities"))
    assert rel.instance().status == "running" and "s7_manage_activities" in rel.ready_names()
    return {"relationship": rel.instance_id, "start": start_time, "anchor": anchor, "now": rel.now,
            "issues": issues, "exit_triggers": triggers, "reviews": len(rel.linked("periodic_review"))}
