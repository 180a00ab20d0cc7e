"""Registers to and from spreadsheets: the template, a previewed import that writes nothing until confirmed, one
audit event and one version per entry, export -> import changing nothing, bad files refused."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.db import utcnow
from app.errors import BadRequest, Forbidden, NotFound
from app.registers import services as registers
from app.registers.models import RegisterChange, RegisterEntry
from app.spreadsheets import services as spreadsheets
from tests.support.spreadsheets import edited, filled, rows_of
from workflows import Conflict

LIMIT = 300 * 1024
RISKS = [
    {"Risk": "Key supplier fails", "Owner": "Sam", "Likelihood (1-5)": 2, "Impact (1-5)": 5,
     "Category": "relationship", "Review date": "2031-01-31"},
    {"Risk": "Data leak", "Owner": "Ana", "Likelihood (1-5)": 9, "Impact (1-5)": 4},
    {"Risk": "Culture clash", "Owner": "Lee", "Likelihood (1-5)": 3, "Impact (1-5)": 3, "Joint": "yes",
     "Mitigation": "'=joint workshops"},
]


def _counts(session):
    return (session.scalar(select(func.count()).select_from(RegisterEntry)),
            session.scalar(select(func.count()).select_from(RegisterChange)),
            session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("register.%"))))


def _preview(session, user, relationship_id, content, name="risks"):
    return spreadsheets.preview(session, user, relationship_id, name, content, "risks.xlsx", now=utcnow(),
                                max_bytes=LIMIT)


def _confirm(session, user, relationship_id, content, digest, name="risks"):
    return spreadsheets.confirm(session, user, relationship_id, name, content, "risks.xlsx", digest, now=utcnow(),
                                max_bytes=LIMIT)


def test_the_template_has_the_columns_their_choices_and_notes(session, users, acme):
    download = spreadsheets.template(session, users["staff"], acme, "risks")
    book = load_workbook(io.BytesIO(download.content))
    assert book.sheetnames == ["Risk register", "Notes"]
    sheet = book["Risk register"]
    assert [c.value for c in sheet[1]] == ["ID", "Risk", "Category", "Owner", "Owner's organisation",
                                           "Likelihood (1-5)", "Impact (1-5)", "Mitigation", "Review date", "Joint",
                                           "Version"]
    rules = {str(rule.sqref).split(":")[0]: rule for rule in sheet.data_validations.dataValidation}
    assert rules["C2"].type == "list" and "sustainability" in rules["C2"].formula1
    assert (rules["F2"].type, rules["F2"].formula1, rules["F2"].formula2) == ("whole", "1", "5")
    notes = [row for row in book["Notes"].iter_rows(values_only=True) if row and row[0] == "Likelihood (1-5)"]
    assert notes == [("Likelihood (1-5)", "required", "a whole number from 1 to 5")]
    assert sheet.max_row == 1  # no example row to import by mistake


def test_a_bad_row_is_located_and_nothing_is_written_until_it_is_fixed(session, users, acme):
    staff = users["staff"]
    template = spreadsheets.template(session, staff, acme, "risks").content
    before = _counts(session)
    bad = filled(template, RISKS)
    found = _preview(session, staff, acme, bad)
    assert [str(p) for p in found.problems] == ["row 3, column Likelihood (1-5): must be a whole number from 1 to 5"]
    assert [r.action for r in found.rows] == ["create", "invalid", "create"]
    with pytest.raises(BadRequest) as refused:
        _confirm(session, staff, acme, bad, found.digest)
    session.rollback()
    assert refused.value.errors["rows"] == ["row 3, column Likelihood (1-5): must be a whole number from 1 to 5"]
    assert _counts(session) == before

    fixed = edited(bad, {(3, "Likelihood (1-5)"): 4})
    found = _preview(session, staff, acme, fixed)
    assert not found.problems and found.counts["create"] == 3
    done = _confirm(session, staff, acme, fixed, found.digest)
    entries = registers.entries(session, staff, acme, "risks", now=utcnow())
    assert sorted(e.data["risk"] for e in entries) == ["Culture clash", "Data leak", "Key supplier fails"]
    assert all(e.version == 1 for e in entries)
    clash = next(e for e in entries if e.data["risk"] == "Culture clash")
    assert clash.joint and clash.data["mitigation"] == "=joint workshops" and clash.source == "spreadsheet risks.xlsx"
    assert _counts(session)[:2] == (before[0] + 3, before[1] + 3)  # one version per entry
    events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("register.%"),
                                                      AuditEvent.id > 0).order_by(AuditEvent.id)).all()
    assert [e.action for e in events][before[2]:] == ["register.imported"]  # one audit event for the import
    assert events[-1].actor == "staff" and events[-1].payload["file"] == "risks.xlsx"
    assert (events[-1].payload["rows"], events[-1].payload["created"]) == (3, 3)
    assert done.counts == {"rows": 3, "create": 3, "update": 0, "unchanged": 0, "invalid": 0}
    session.commit()


def test_export_then_import_changes_nothing_and_a_changed_row_makes_one_version(session, users, acme):
    staff = users["staff"]
    registers.create(session, staff, acme, "risks", {"risk": "Key supplier fails", "owner": "Sam", "likelihood": 2,
                                                     "impact": 5, "review_date": "2031-01-31",
                                                     "mitigation": "-dual sourcing"}, joint=True, now=utcnow())
    registers.create(session, staff, acme, "value", {"idea": "Shared depot", "status": "proposed", "cost": 1000.5,
                                                     "benefit": 2500}, joint=False, now=utcnow())
    for name in ("risks", "value"):
        exported = spreadsheets.export(session, staff, acme, name, now=utcnow()).content
        before = _counts(session)
        found = _preview(session, staff, acme, exported, name)
        assert [r.action for r in found.rows] == ["unchanged"], found.problems
        done = _confirm(session, staff, acme, exported, found.digest, name)
        after = _counts(session)
        assert after[:2] == before[:2]  # no entry, no version
        assert after[2] == before[2] + 1
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
        assert event.action == "register.imported"
        assert (event.payload["created"], event.payload["updated"], event.payload["unchanged"]) == (0, 0, 1)
        assert done.counts["unchanged"] == 1

    exported = spreadsheets.export(session, staff, acme, "risks", now=utcnow()).content
    assert rows_of(exported)[0]["Mitigation"] == "'-dual sourcing"  # never run as a formula
    changed = filled(edited(exported, {(2, "Impact (1-5)"): 3}), [
        {"Risk": "key supplier  FAILS", "Owner": "Sam", "Likelihood (1-5)": 2, "Impact (1-5)": 3}])
    found = _preview(session, staff, acme, changed)
    assert [str(p) for p in found.problems] == [
        "row 3, column Risk: row 2 already names 'key supplier  FAILS'; each entry once"]
    impact_3 = edited(exported, {(2, "Impact (1-5)"): 3})  # once: openpyxl stamps each save with the time
    found = _preview(session, staff, acme, impact_3)
    assert [(r.action, r.changed) for r in found.rows] == [("update", ["Impact (1-5)"])]
    _confirm(session, staff, acme, impact_3, found.digest)
    [risk] = registers.entries(session, staff, acme, "risks", now=utcnow())
    assert (risk.version, risk.data["impact"], risk.data["mitigation"]) == (2, 3, "-dual sourcing")

    # the template filled with what is there (no ID) names the same entry by its name: nothing changes
    same = filled(spreadsheets.template(session, staff, acme, "risks").content, [
        {"Risk": "Key supplier fails", "Owner": "Sam", "Likelihood (1-5)": 2, "Impact (1-5)": 3,
         "Review date": "2031-01-31", "Mitigation": "-dual sourcing"}])
    assert [r.action for r in _preview(session, staff, acme, same).rows] == ["unchanged"]
    session.commit()


def test_a_file_older_than_the_entry_or_a_changed_register_is_refused(session, users, acme):
    staff = users["staff"]
    row = registers.create(session, staff, acme, "risks", {"risk": "Strike", "owner": "Sam", "likelihood": 2,
                                                           "impact": 2}, joint=False, now=utcnow())
    exported = spreadsheets.export(session, staff, acme, "risks", now=utcnow()).content
    mine = edited(exported, {(2, "Owner"): "Kim"})
    found = _preview(session, staff, acme, mine)
    registers.update(session, users["ser"], row.id, {**row.data, "impact": 4}, joint=False, expected_version=1,
                     now=utcnow())
    with pytest.raises(BadRequest) as refused:
        _confirm(session, staff, acme, mine, found.digest)
    session.rollback()
    assert "row 2, column Version: the entry is at version 2 now" in refused.value.errors["rows"][0]
    later = filled(spreadsheets.export(session, staff, acme, "risks", now=utcnow()).content,
                   [{"Risk": "Flood", "Owner": "Ana", "Likelihood (1-5)": 1, "Impact (1-5)": 5}])
    found = _preview(session, staff, acme, later)
    registers.create(session, staff, acme, "risks", {"risk": "Flood", "owner": "Bo", "likelihood": 1, "impact": 1},
                     joint=False, now=utcnow())
    with pytest.raises(Conflict):
        _confirm(session, staff, acme, later, found.digest)
    session.rollback()
    assert registers.entry(session, staff, row.id, now=utcnow())[0].version == 2
    session.commit()


def _book(sheet_title="Risk register", header=("Risk", "Owner", "Likelihood (1-5)", "Impact (1-5)"), rows=()):
    book = Workbook()
    book.active.title = sheet_title
    book.active.append(list(header))
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("content", "says"), [
    (b"risk,owner\nx,y\n", "not an Excel workbook (.xlsx)"),
    (b"PK\x03\x04broken zip", "not an Excel workbook (.xlsx)"),
    (b"x" * (LIMIT + 1), "at most 300 KB can be imported"),
    (_book("Sheet1"), "no sheet named 'Risk register'"),
    (_book(header=("Risk", "Owner", "Likelihood (1-5)")), "row 1 has no column 'Impact (1-5)'"),
    (_book(header=("Risk", "Owner", "Likelihood (1-5)", "Impact (1-5)", "Budget")),
     "column E 'Budget' is not a column of the risk register"),
    (_book(), "no rows"),
], ids=["csv", "broken-zip", "too-big", "wrong-sheet", "missing-column", "unknown-column", "no-rows"])
def test_bad_files_get_a_clear_answer_and_change_nothing(session, users, acme, content, says):
    before = _counts(session)
    with pytest.raises(BadRequest) as refused:
        _preview(session, users["staff"], acme, content)
    assert says in refused.value.message or says in refused.value.errors["file"]
    session.rollback()
    assert _counts(session) == before
    session.commit()


def test_only_those_who_may_change_the_register_import_into_it(session, users, partnered):
    content = _book(rows=[("Flood", "Ana", 1, 5)])
    with pytest.raises(NotFound):
        spreadsheets.template(session, users["staff"], partnered, "portfolio")  # the organisation's, not its
    for who in ("assessor", "owner"):
        with pytest.raises(Forbidden):
            _preview(session, users[who], partnered, content)
    with pytest.raises(Forbidden):
        _preview(session, users["pser"], partnered, _book("Knowledge map", ("Knowledge asset", "Owner",
                                                                            "Sharing with the partner"),
                                                          [("Designs", "Us", "share")]), "knowledge")
    internal = registers.create(session, users["staff"], partnered, "risks", {
        "risk": "Our margin", "owner": "Sam", "likelihood": 3, "impact": 3}, joint=False, now=utcnow())
    partner = users["pser"]
    found = _preview(session, partner, partnered, _book(header=("ID", "Risk", "Owner", "Likelihood (1-5)",
                                                                "Impact (1-5)"),
                                                        rows=[(internal.id, "Their margin", "P", 1, 1)]))
    assert [str(p) for p in found.problems] == [
        f"row 2, column ID: there is no entry {internal.id} in this risk register; leave it blank to add the row as "
        "a new entry"]
    found = _preview(session, partner, partnered, content)
    _confirm(session, partner, partnered, content, found.digest)
    [flood] = registers.entries(session, partner, partnered, "risks", now=utcnow())
    assert flood.joint and flood.data["risk"] == "Flood"
    session.commit()


def test_the_portfolio_is_imported_and_ranked(session, services, users, lifecycle_version):
    from app.management import services as management
    management.start(session, services.workflows, users["top"], now=utcnow())
    ms = management.management_system(session).id
    top = users["ser"]  # whoever may change the registers (top management reads them)
    template = spreadsheets.template(session, top, ms, "portfolio").content
    assert [c.value for c in load_workbook(io.BytesIO(template)).worksheets[0][1]][:4] == [
        "ID", "Organisation", "Type", "Market or sector"]
    content = filled(template, [
        {"Organisation": "Contoso", "Type": "supplier", "Value (1-5)": 5, "Risk (1-5)": 1, "Complexity (1-5)": 2,
         "Strategic fit (1-5)": 5, "Collaboration fits": "yes"},
        {"Organisation": "Fabrikam", "Type": "joint venture", "Value (1-5)": 2, "Risk (1-5)": 4,
         "Complexity (1-5)": 4, "Strategic fit (1-5)": 2, "Collaboration fits": "no"}])
    found = spreadsheets.preview(session, top, ms, "portfolio", content, "portfolio.xlsx", now=utcnow(),
                                 max_bytes=LIMIT)
    assert not found.problems
    spreadsheets.confirm(session, top, ms, "portfolio", content, "portfolio.xlsx", found.digest, now=utcnow(),
                         max_bytes=LIMIT)
    ranked = management.portfolio(session)
    assert [(e.name, e.rank, e.relationship_type, e.collaboration_fits) for e in ranked] == [
        ("Contoso", 1, "supplier", True), ("Fabrikam", 2, "joint_venture", False)]
    exported = spreadsheets.export(session, top, ms, "portfolio", now=utcnow()).content
    assert [r.action for r in spreadsheets.preview(session, top, ms, "portfolio", exported, "p.xlsx", now=utcnow(),
                                                   max_bytes=LIMIT).rows] == ["unchanged", "unchanged"]
    session.commit()
