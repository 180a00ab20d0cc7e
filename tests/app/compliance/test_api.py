"""The compliance matrix, gap analysis, the RMP's versions and the exports through the API, with a token."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from app.audit.models import AuditEvent


def test_matrix_gaps_plan_and_exports_for_our_staff(api, session, working_together):
    rel, client = working_together.instance_id, api("assessor")
    matrix = client.get(f"/api/v1/relationships/{rel}/compliance").get_json()
    assert len(matrix["rows"]) == 70 and sum(matrix["summary"].values()) == 70  # the relationship's own
    by_stage = {}
    for row in matrix["rows"]:
        by_stage.setdefault(row["stage"], set()).add(row["status"])
    assert by_stage["S2"] == {"evidenced"} and by_stage["S8"] == {"not_started"}  # stage 5 has just begun
    assert "S1" not in by_stage and "S3" not in by_stage, "stages 1 and 3 are the organisation's"
    assert next(r for r in matrix["rows"] if r["status"] == "evidenced")["evidence"][0]["completed_by"]
    gaps = client.get(f"/api/v1/relationships/{rel}/gaps").get_json()["stages"]
    assert sum(len(v) for v in gaps.values()) == 70 - matrix["summary"]["evidenced"]

    plan = client.get(f"/api/v1/relationships/{rel}/rmp").get_json()
    assert [v["kind"] for v in plan] == ["CRMP", "PRMP"]
    second = client.get(f"/api/v1/relationships/{rel}/rmp/2").get_json()
    assert [s["stage"] for s in second["sections"]] == [2, 4]
    pdf = client.get(f"/api/v1/relationships/{rel}/rmp/2/export?format=pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Stage 4" in text and "PRMP" in text
    again = client.get(f"/api/v1/relationships/{rel}/rmp/2/export?format=pdf")
    assert again.data == pdf.data, "the kept PDF of an unchanged version, not a new print"
    printed = [e.payload["rendered"] for e in session.scalars(select(AuditEvent).where(
        AuditEvent.action == "export.rmp", AuditEvent.instance_id == rel).order_by(AuditEvent.id))]
    assert printed == [True, False]
    assert client.get(f"/api/v1/relationships/{rel}/rmp/2/export?format=docx").status_code == 422
    assert client.get(f"/api/v1/relationships/{rel}/rmp/9").status_code == 404

    rows = list(csv.DictReader(io.StringIO(client.get(
        f"/api/v1/relationships/{rel}/assessor-pack?format=csv").get_data(as_text=True))))
    assert len({r[next(iter(r))] for r in rows}) == 106  # the pack carries both levels
    assert {r["scope"] for r in rows} == {"organisation", "relationship"}
    book = load_workbook(io.BytesIO(client.get(f"/api/v1/relationships/{rel}/assessor-pack?format=xlsx").data))
    assert book.sheetnames == ["Matrix", "Evidence", "Gaps", "Registers"]
    organisation = client.get("/api/v1/compliance").get_json()
    assert [r["id"] for r in organisation["relationships"]] == [rel]


def test_partners_get_no_matrix_and_assessors_change_nothing(api, working_together):
    rel = working_together.instance_id
    partner = api("pser")
    for path in (f"relationships/{rel}/compliance", f"relationships/{rel}/gaps", "compliance",
                 f"relationships/{rel}/assessor-pack?format=csv"):
        assert partner.get(f"/api/v1/{path}").status_code == 403, path
    assert partner.get(f"/api/v1/relationships/{rel}/rmp").get_json() == []  # no joint plan approved yet
    refused = api("assessor").post(f"/api/v1/relationships/{rel}/registers/risks", json={
        "data": {"risk": "r", "owner": "o", "likelihood": 1, "impact": 1}})
    assert refused.status_code == 403
