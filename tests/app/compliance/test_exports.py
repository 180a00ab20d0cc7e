"""The plan and the assessor pack after the happy path through the real lifecycle: one plan version per approved
stage of the relationship (2, 4-8) named CRMP/PRMP/JRMP, each citing the organisation's CRMP version it builds on,
its PDF and Markdown with every stage heading and the key data; the pack as CSV, XLSX and PDF on both levels (the
organisation's 36 requirements and the relationship's 70), the evidence files with their sha256; partner users
refused the matrix and the pack, and shown only the joint plan (JRMP, stages 5-8, withheld knowledge removed).

The happy path takes seconds, so one relationship is shared by the whole module (module-scoped app and
database, rolled back when the module ends: tests/app/compliance/conftest.py). test_pages.py reuses it.
"""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from app.compliance import exports, rmp
from app.compliance import services as compliance
from app.errors import Forbidden, NotFound
from tests.support.compliance import BUSINESS_CASE, POLICY, SECRET, SHARED, STAGE_HEADINGS

RELATIONSHIP_HEADINGS = [h for n, h in enumerate(STAGE_HEADINGS, 1) if n not in (1, 3)]

# ---- one database and one scenario for the module (tests/app/compliance/conftest.py) ------------------------

@pytest.fixture(scope="module")
def app(scenario_app):
    return scenario_app


@pytest.fixture(scope="module")
def services(scenario_services):
    return scenario_services


@pytest.fixture(scope="module")
def wf_engine(scenario_services):
    return scenario_services.workflows


@pytest.fixture(scope="module")
def session(scenario_session):
    return scenario_session


@pytest.fixture(scope="module")
def users(scenario_users):
    return scenario_users


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def flat(text: str) -> str:
    return " ".join(text.split())


# ---- the plan ------------------------------------------------------------------------------------------------

def test_one_plan_version_per_approved_stage_named_crmp_prmp_jrmp(session, users, scenario):
    plans = rmp.versions(session, scenario["happy"], viewer=users["assessor"])
    assert [(v.number, v.kind, v.stage) for v in plans] == [
        (1, "CRMP", 2), (2, "PRMP", 4), (3, "JRMP", 5), (4, "JRMP", 6), (5, "JRMP", 7), (6, "JRMP", 8)]
    assert [len(v.sections) for v in plans] == [1, 2, 3, 4, 5, 6]
    assert plans[0].approvers == ["ser"] and sorted(plans[2].approvers) == ["pser", "ser"]
    assert dict(plans[1].plan.fields)["Plan type"] == "PRMP" and dict(plans[0].plan.fields)["Plan type"] == "CRMP"
    assert "Plan document changed (Plan type: CRMP → PRMP" in " ".join(plans[1].changes)
    (plan_type,) = [f for s in rmp.compare(plans[0], plans[1]) if s.stage == 0 for e in s.entries for f in e.fields
                    if f.title == "Plan type"]
    assert (plan_type.status, plan_type.old, plan_type.new) == ("changed", "CRMP", "PRMP")
    added = [s for s in rmp.compare(plans[0], plans[1]) if s.status == "added"]
    assert [s.title for s in added] == ["Stage 4: Partner selection"]
    # the organisation's own plan: a CRMP version per approved organisation gate (stage 1, stage 3 and its renewal)
    corporate = rmp.versions(session, scenario["organisation"])
    assert [(v.kind, v.stage) for v in corporate] == [("CRMP", 1), ("CRMP", 3), ("CRMP", 3)]
    assert plans[0].builds_on.number == 2, "stage 2 builds on the CRMP of the organisation's first assessment"
    assert plans[-1].builds_on.number == 3, "the exit builds on the renewed assessment's CRMP"
    assert all(v.builds_on.approved_at <= v.approved_at for v in plans)


def test_the_plan_prints_every_stage_heading_and_the_key_data(session, users, scenario):
    latest = rmp.versions(session, scenario["happy"], viewer=users["assessor"])[-1]
    text = flat(pdf_text(exports.rmp_pdf(latest, "ACME joint bid", generated_at=scenario["now"])))
    assert "JRMP — ACME joint bid" in text
    for heading in RELATIONSHIP_HEADINGS:
        assert heading in text
    for key in (BUSINESS_CASE, "Approved by", "pser", "Version 6", "Plan type: JRMP", SECRET,
                "Close the joint RMP", "Builds on the organisation's CRMP version 3"):
        assert key in text, key
    assert POLICY not in text, "the policy is the organisation's, not rewritten in the relationship's plan"
    parts = ["Background", "Objectives and roles", "Governance", "Joint measures", "Risk", "Value",
             "Knowledge sharing", "Exit strategy"]
    assert [p.task for p in latest.summary] == parts, "the RMP carries every summary part"
    assert all(part in text for part in parts)
    markdown = exports.rmp_markdown(latest, "ACME joint bid")
    assert all(f"## {heading}" in markdown for heading in RELATIONSHIP_HEADINGS) and BUSINESS_CASE in markdown
    assert all(f"### {part}" in markdown for part in parts)
    first = rmp.versions(session, scenario["happy"])[0]
    first_text = flat(pdf_text(exports.rmp_pdf(first, "ACME joint bid", generated_at=scenario["now"])))
    assert "CRMP — ACME joint bid" in first_text and RELATIONSHIP_HEADINGS[0] in first_text
    assert RELATIONSHIP_HEADINGS[1] not in first_text


# ---- the assessor pack ---------------------------------------------------------------------------------------

def test_the_pack_as_csv_and_xlsx_has_every_requirement_evidenced(session, users, scenario):
    pack = exports.pack(session, users["assessor"], scenario["happy"], now=scenario["now"])
    scopes = [r.requirement.scope for r in pack.rows]
    assert scopes.count("organisation") == 36 and scopes.count("relationship") == 70
    assert pack.summary["evidenced"] == 106 and pack.gaps == {}

    rows = list(csv.DictReader(io.StringIO(exports.pack_csv(pack))))
    assert len({r["requirement"] for r in rows}) == 106
    assert {r["status"] for r in rows} == {"evidenced"} and all(r["evidence_task"] and r["completed_by"] for r in rows)
    assert len(rows) == sum(len(r.evidence) for r in pack.rows)  # one row per requirement x evidence
    policy = [r for r in rows if r["requirement"] == "S1.02"]
    assert [(r["evidence_task"], r["scope"]) for r in policy] == [("Write the collaborative working policy",
                                                                  "organisation")]
    assert scenario["policy_sha256"] in policy[0]["files"] and POLICY in policy[0]["submitted"]
    case = [r for r in rows if r["requirement"] == "S2.05"]
    assert scenario["case_sha256"] in case[0]["files"] and case[0]["scope"] == "relationship"
    closed = [r for r in rows if r["requirement"] == "M10.1"]
    assert "Check the action worked, then close" in {r["evidence_task"] for r in closed}
    assert any("Risk register" in r["register_entries"] for r in rows)

    book = load_workbook(io.BytesIO(exports.pack_xlsx(pack)), read_only=True)
    assert book.sheetnames == ["Matrix", "Evidence", "Gaps", "Registers"]
    matrix = list(book["Matrix"].iter_rows(values_only=True))
    assert matrix[0][:7] == ("Requirement", "Stage", "Stage name", "Kind", "Role", "Requirement text", "Status")
    assert matrix[0][-1] == "Scope"
    assert len(matrix) == 1 + 106 and len({r[0] for r in matrix[1:]}) == 106
    assert {r[6] for r in matrix[1:]} == {"evidenced"}
    assert len(list(book["Evidence"].iter_rows(values_only=True))) == 1 + len(rows)
    assert len(list(book["Gaps"].iter_rows(values_only=True))) == 1
    registers = {r[0] for r in list(book["Registers"].iter_rows(values_only=True))[1:]}
    assert {"Risk register", "Knowledge map", "Issue log"} <= registers


def test_the_pack_as_pdf_has_every_part(session, users, scenario):
    pack = exports.pack(session, users["assessor"], scenario["happy"], now=scenario["now"])
    text = flat(pdf_text(exports.pack_pdf(pack)))
    for part in ("Assessor pack", "ACME joint bid", "Requirements evidenced 106 of 106", "1 Matrix summary",
                 "2 Compliance matrix with evidence", "3 Gap analysis", "No gaps", "4 Latest Relationship Management",
                 "JRMP version 6", "5 Register summaries", "Risk register", "6 Evidence index", "policy.pdf",
                 "business-case.pdf", "S1.02", "M9.3", "X.01", "S8.", POLICY[:20],
                 "the organisation's (management system)"):
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
    assert [(v.number, v.kind) for v in plans] == [(3, "JRMP"), (4, "JRMP"), (5, "JRMP"), (6, "JRMP")]
    assert all(v.builds_on is None for v in plans), "the organisation's CRMP is our own record"
    assert [[s.stage for s in v.sections] for v in plans] == [[5], [5, 6], [5, 6, 7], [5, 6, 7, 8]]
    markdown = rmp.to_markdown(plans[-1], "ACME joint bid")
    assert BUSINESS_CASE not in markdown and "Stage 2" not in markdown and "Partner selection" not in markdown
    assert SHARED in markdown and SECRET not in markdown, "knowledge not shared is withheld from the partner"
    assert not any("Stage 4" in c or "Stage 2" in c for v in plans for c in v.changes)
    ours = rmp.versions(session, happy, viewer=users["ser"])
    assert len(ours) == 6 and SECRET in rmp.to_markdown(ours[-1], "ACME joint bid")
    text = flat(pdf_text(exports.rmp_pdf(plans[-1], "ACME joint bid", generated_at=now)))
    assert all(h in text for h in STAGE_HEADINGS[4:]) and not any(h in text for h in STAGE_HEADINGS[:4])
