"""The plan says things as people read them: documents by file name and version (never an evidence id), lists and
rows with their columns' titles (never JSON), also in the summary of changes between versions."""

from __future__ import annotations

import io

from sqlalchemy import select

from app.compliance import rmp
from app.db import utcnow
from app.evidence import services as evidence
from app.processes.models import HumanTask, ProcessInstance

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _values(version):
    entries = [e for s in version.sections for e in s.entries] + list(version.summary)
    entries += [version.plan] if version.plan else []
    return [value for e in entries for _title, value in e.fields]


def test_the_plan_names_documents_and_shows_rows_not_json(session, users, working_together):
    relationship = working_together.instance_id
    cited = [t for t in session.scalars(select(HumanTask).join(
             ProcessInstance, ProcessInstance.id == HumanTask.instance_id).where(
             HumanTask.state == "completed", ProcessInstance.root_id == relationship))
             if "rmp_document" in (t.submitted or {})]
    assert cited, "the stages' plan tasks cite the plan document"
    for number, task in enumerate(cited, start=1):  # each cites a real file (the driver types placeholders)
        stored = evidence.store(session, users["staff"], evidence.Upload(f"plan-v{number}.pdf", io.BytesIO(PDF)),
                                relationship_id=relationship, instance_id=task.instance_id, human_task_id=task.id,
                                field="rmp_document", max_bytes=10**6, now=utcnow())
        task.submitted = {**task.submitted, "rmp_document": str(stored.id)}
    session.commit()
    versions = rmp.versions(session, relationship)
    assert len(versions) >= 2  # stages 2 and 4 (the relationship is in stage 5)
    values = [v for version in versions for v in _values(version)]
    assert values and not [v for v in values if v.lstrip().startswith(("[", "{"))]
    documents = [value for version in versions if version.plan for title, value in version.plan.fields
                 if "document" in title.lower()]
    assert documents and all(d.startswith("plan-v") and d.endswith("(version 1)") for d in documents), documents
    changes = [line for version in versions for line in version.changes]
    assert not [line for line in changes if "→" in line and any(part.strip().isdigit()
                                                                for part in line.split("→"))], changes


def test_values_read_as_text():
    assert rmp._text(["a", "b"]) == "a, b"
    rows = {"type": "array", "items": {"type": "object", "properties": {"risk": {"title": "Risk"},
                                                                       "owner": {"title": "Owner"}}}}
    assert rmp._text([{"risk": "Late parts", "owner": "Sam"}, {"risk": "Strike"}], rows) == \
        "Risk: Late parts, Owner: Sam; Risk: Strike"
    assert rmp._text("12", {"format": "evidence"}, {"12": "plan.pdf (version 2)"}) == "plan.pdf (version 2)"
    assert rmp._text(True) == "yes"
