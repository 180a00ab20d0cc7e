"""The plan and the assessor pack after the happy path through the real lifecycle: one plan version per approved
stage named CRMP/PRMP/JRMP, its PDF and Markdown with every stage heading and the key data; the pack as CSV,
XLSX and PDF with all 82 requirements evidenced, the evidence files with their sha256; partner users refused
the matrix and the pack, and shown only the joint plan (JRMP, stages 5-8, withheld knowledge removed).

The happy path takes seconds, so one relationship is shared by the whole module (module-scoped app and
database; the tables are emptied when the module ends). tests/web/test_compliance_pages.py reuses it.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from app.auth.models import RelationshipProfile
from app.compliance import exports, rmp
from app.compliance import services as compliance
from app.errors import Forbidden, NotFound
from tests.conftest import DATA, _empty_tables

STAGE_HEADINGS = [f"Stage {n}: {name}" for n, name in enumerate(
    ("Awareness", "Knowledge", "Internal assessment", "Partner selection", "Working together", "Value creation",
     "Staying together", "Exit strategy"), 1)]
POLICY = "We collaborate openly, reviewed monthly."
SECRET = "Our cost model and margins"
SHARED = "Shared design library"
ANSWERS = {
    "s1_policy": {"policy_text": POLICY},
    "s4_rmp_update": {"rmp_type": "PRMP", "rmp_change_summary": "The plan now names Partner Ltd."},
    "s5_jrmp": {"rmp_type": "JRMP", "rmp_change_summary": "Agreed jointly with Partner Ltd."},
    "s5_knowledge_comms": {"joint_knowledge_plan": [
        {"asset": SHARED, "owner_organisation": "joint", "sharing": "shared", "conditions": "none"},
        {"asset": SECRET, "owner_organisation": "ours", "sharing": "not_shared", "conditions": "internal only"}]},
}
PDF_BYTES = b"%PDF-1.4\n% the written policy\n"


# ---- one database and one scenario for the module -------------------------------------------------------------

def module_app(migrated):
    """An app for a whole test module (the conftest's is per test); the tables are emptied at the end."""
    from app import create_app
    application = create_app({"DATABASE_URL": migrated, "TESTING": True, "SECRET_KEY": "test",
                              "BPMN_DIR": str(DATA), "FORMS_DIR": str(DATA / "forms")})
    yield application
    _empty_tables(application.extensions["collabflow"].db_engine)
    application.extensions["collabflow"].db_engine.dispose()


def module_session(services):
    with services.sessions() as s:
        yield s


def make_users(session):
    from app.auth.services import create_user
    spec = {"staff": (["staff"], "Us"), "ser": (["ser"], "Us"), "jmt": (["jmt"], "Us"),
            "owner": (["process_owner"], "Us"), "assessor": (["assessor"], "Us"), "admin": (["admin"], "Us"),
            "pser": (["ser"], "Partner Ltd"), "other": (["ser"], "Another Partner plc")}
    return {name: create_user(session, name, password=None, roles=roles, organisation=organisation,
                              organisation_kind="own" if organisation == "Us" else "partner")
            for name, (roles, organisation) in spec.items()}


@pytest.fixture(scope="module")
def app(migrated):
    yield from module_app(migrated)


@pytest.fixture(scope="module")
def services(app):
    return app.extensions["collabflow"]


@pytest.fixture(scope="module")
def wf_engine(services):
    return services.workflows


@pytest.fixture(scope="module")
def session(services):
    yield from module_session(services)


@pytest.fixture(scope="module")
def users(session):
    return make_users(session)


def build_scenario(session, services, users):
    """The bundled lifecycle; 'ACME joint bid' with Partner Ltd walked through every stage (a year of reviews
    in stage 7) with a policy file attached; 'Stopped early' cancelled when stage 4 began -> dict of facts.
    It starts a year and two weeks ago, so its reviews are still current when the pages read it now."""
    from app.config import ROOT
    from app.db import utcnow
    from app.evidence import services as evidence
    from app.processes import services as processes
    from app.processes.models import HumanTask
    from app.processes.services import deploy_version
    from app.relationships import services as relationships
    from tests.app.lifecycle.driver import Driver, until_ready
    from tests.app.lifecycle.test_compliance import live_a_year_in_stage_7
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

    rel = start("ACME joint bid", start_time)
    rel.drive(ANSWERS, until=until_ready("s1_ser_gate"))
    policy_task = session.scalar(select(HumanTask).where(HumanTask.instance_id == rel.instance_id,
                                                         HumanTask.bpmn_id == "s1_policy"))
    policy_file = evidence.store(session, users["staff"], evidence.Upload("policy.pdf", io.BytesIO(PDF_BYTES)),
                                 relationship_id=rel.instance_id, instance_id=rel.instance_id,
                                 human_task_id=policy_task.id, field="policy_document", max_bytes=10**6,
                                 now=rel.now)
    rel.drive(ANSWERS, until=until_ready("s7_manage_activities"))
    live_a_year_in_stage_7(rel)
    rel.drive(ANSWERS)
    assert rel.completed

    stopped = start("Stopped early", rel.now + timedelta(days=1))
    stopped.drive(until=until_ready("s4_nominate_candidates"))
    processes.cancel_instance(session, services.workflows, user=users["admin"], instance_id=stopped.instance_id,
                              reason="stopped after stage 3", now=stopped.now)
    return {"happy": rel.instance_id, "stopped": stopped.instance_id, "now": rel.now + timedelta(days=1),
            "policy_sha256": policy_file.sha256, "policy_file": policy_file.id}


@pytest.fixture(scope="module")
def scenario(session, services, users):
    return build_scenario(session, services, users)


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def flat(text: str) -> str:
    return " ".join(text.split())


# ---- the plan ------------------------------------------------------------------------------------------------

def test_one_plan_version_per_approved_stage_named_crmp_prmp_jrmp(session, users, scenario):
    plans = rmp.versions(session, scenario["happy"], viewer=users["assessor"])
    assert [(v.number, v.kind, v.stage) for v in plans] == [
        (1, "CRMP", 1), (2, "CRMP", 2), (3, "CRMP", 3), (4, "PRMP", 4),
        (5, "JRMP", 5), (6, "JRMP", 6), (7, "JRMP", 7), (8, "JRMP", 8)]
    assert [len(v.sections) for v in plans] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert plans[0].approvers == ["ser"] and sorted(plans[4].approvers) == ["pser", "ser"]
    assert dict(plans[3].plan.fields)["Plan type"] == "PRMP" and dict(plans[2].plan.fields)["Plan type"] == "CRMP"
    assert "Plan document changed (Plan type: CRMP → PRMP" in " ".join(plans[3].changes)
    (plan_type,) = [f for s in rmp.compare(plans[2], plans[3]) if s.stage == 0 for e in s.entries for f in e.fields
                    if f.title == "Plan type"]
    assert (plan_type.status, plan_type.old, plan_type.new) == ("changed", "CRMP", "PRMP")
    added = [s for s in rmp.compare(plans[2], plans[3]) if s.status == "added"]
    assert [s.title for s in added] == ["Stage 4: Partner selection"]


def test_the_plan_prints_every_stage_heading_and_the_key_data(session, users, scenario):
    latest = rmp.versions(session, scenario["happy"], viewer=users["assessor"])[-1]
    text = flat(pdf_text(exports.rmp_pdf(latest, "ACME joint bid", generated_at=scenario["now"])))
    assert "JRMP — ACME joint bid" in text
    for heading in STAGE_HEADINGS:
        assert heading in text
    for key in (POLICY, "Write the collaborative working policy", "Approved by", "pser", "Version 8",
                "Plan type: JRMP", SECRET, "Close the joint RMP"):
        assert key in text, key
    parts = ["Background", "Objectives and roles", "Governance", "Joint measures", "Risk", "Value",
             "Knowledge sharing", "Exit strategy"]
    assert [p.task for p in latest.summary] == parts, "the RMP carries every summary part"
    assert all(part in text for part in parts)
    markdown = exports.rmp_markdown(latest, "ACME joint bid")
    assert all(f"## {heading}" in markdown for heading in STAGE_HEADINGS) and POLICY in markdown
    assert all(f"### {part}" in markdown for part in parts)
    first = rmp.versions(session, scenario["happy"])[0]
    first_text = flat(pdf_text(exports.rmp_pdf(first, "ACME joint bid", generated_at=scenario["now"])))
    assert "CRMP — ACME joint bid" in first_text and STAGE_HEADINGS[0] in first_text
    assert STAGE_HEADINGS[1] not in first_text


# ---- the assessor pack ---------------------------------------------------------------------------------------

def test_the_pack_as_csv_and_xlsx_has_every_requirement_evidenced(session, users, scenario):
    pack = exports.pack(session, users["assessor"], scenario["happy"], now=scenario["now"])
    assert len(pack.rows) == 82 and pack.summary["evidenced"] == 82 and pack.gaps == {}

    rows = list(csv.DictReader(io.StringIO(exports.pack_csv(pack))))
    assert len({r["requirement"] for r in rows}) == 82
    assert {r["status"] for r in rows} == {"evidenced"} and all(r["evidence_task"] and r["completed_by"] for r in rows)
    assert len(rows) == sum(len(r.evidence) for r in pack.rows)  # one row per requirement x evidence
    policy = [r for r in rows if r["requirement"] == "S1.02"]
    assert [r["evidence_task"] for r in policy] == ["Write the collaborative working policy"]
    assert scenario["policy_sha256"] in policy[0]["files"] and POLICY in policy[0]["submitted"]
    assert any("Risk register" in r["register_entries"] for r in rows)

    book = load_workbook(io.BytesIO(exports.pack_xlsx(pack)), read_only=True)
    assert book.sheetnames == ["Matrix", "Evidence", "Gaps", "Registers"]
    matrix = list(book["Matrix"].iter_rows(values_only=True))
    assert matrix[0][:7] == ("Requirement", "Stage", "Stage name", "Kind", "Role", "Requirement text", "Status")
    assert len(matrix) == 1 + 82 and len({r[0] for r in matrix[1:]}) == 82
    assert {r[6] for r in matrix[1:]} == {"evidenced"}
    assert len(list(book["Evidence"].iter_rows(values_only=True))) == 1 + len(rows)
    assert len(list(book["Gaps"].iter_rows(values_only=True))) == 1
    registers = {r[0] for r in list(book["Registers"].iter_rows(values_only=True))[1:]}
    assert {"Risk register", "Knowledge map", "Issue log"} <= registers


def test_the_pack_as_pdf_has_every_part(session, users, scenario):
    pack = exports.pack(session, users["assessor"], scenario["happy"], now=scenario["now"])
    text = flat(pdf_text(exports.pack_pdf(pack)))
    for part in ("Assessor pack", "ACME joint bid", "Requirements evidenced 82 of 82", "1 Matrix summary",
                 "2 Compliance matrix with evidence", "3 Gap analysis", "No gaps", "4 Latest Relationship Management",
                 "JRMP version 8", "5 Register summaries", "Risk register", "6 Evidence index", "policy.pdf",
                 "S1.02", "S8.", POLICY[:20]):
        assert part in text, part
    assert scenario["policy_sha256"][:16] in text.replace(" ", "")


def test_exports_are_named_after_the_relationship_and_recorded(session, users, scenario):
    assert exports.filename("ACME joint bid", "assessor-pack", "pdf", at=scenario["now"]) == \
        f"ACME-joint-bid-assessor-pack-{scenario['now']:%Y-%m-%d}.pdf"
    assert exports.filename('Ünïcode "quoted"/bid', "JRMP-v8", "md") == "Unicode-quoted-bid-JRMP-v8.md"
    from app.audit.models import AuditEvent
    exports.record_export(session, users["assessor"], scenario["happy"], "assessor_pack", "csv", "x.csv",
                          now=scenario["now"])
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "export.assessor_pack")).all()[-1]
    assert event.actor == "assessor" and event.payload["format"] == "csv" and event.instance_id == scenario["happy"]


# ---- partners ------------------------------------------------------------------------------------------------

def test_partner_users_are_refused_the_matrix_and_the_pack_and_see_only_the_joint_plan(session, users, scenario):
    happy, now, pser = scenario["happy"], scenario["now"], users["pser"]
    with pytest.raises(Forbidden):
        compliance.matrix_for(session, pser, happy, now=now)
    with pytest.raises(Forbidden):
        exports.pack(session, pser, happy, now=now)
    with pytest.raises(Forbidden):
        compliance.organisation_matrix(session, pser, now=now)
    with pytest.raises(NotFound):  # a partner of another relationship learns nothing of this one
        exports.pack(session, users["other"], happy, now=now)
    with pytest.raises(NotFound):
        rmp.versions(session, happy, viewer=users["other"])

    plans = rmp.versions(session, happy, viewer=pser)
    assert [(v.number, v.kind) for v in plans] == [(5, "JRMP"), (6, "JRMP"), (7, "JRMP"), (8, "JRMP")]
    assert [[s.stage for s in v.sections] for v in plans] == [[5], [5, 6], [5, 6, 7], [5, 6, 7, 8]]
    markdown = rmp.to_markdown(plans[-1], "ACME joint bid")
    assert POLICY not in markdown and "Stage 1" not in markdown and "Partner selection" not in markdown
    assert SHARED in markdown and SECRET not in markdown, "knowledge not shared is withheld from the partner"
    assert not any("Stage 4" in c or "Stage 1" in c for v in plans for c in v.changes)
    ours = rmp.versions(session, happy, viewer=users["ser"])
    assert len(ours) == 8 and SECRET in rmp.to_markdown(ours[-1], "ACME joint bid")
    text = flat(pdf_text(exports.rmp_pdf(plans[-1], "ACME joint bid", generated_at=now)))
    assert all(h in text for h in STAGE_HEADINGS[4:]) and not any(h in text for h in STAGE_HEADINGS[:4])
