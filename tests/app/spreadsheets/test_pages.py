"""The import pages: the link on a register and the portfolio, the upload answered by a preview naming each problem,
the confirm carrying the file back, and a bad file answered on the page (never a 500)."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from app.registers.models import RegisterEntry
from tests.support.spreadsheets import edited, filled

ROWS = [{"Action": "Agree the escalation path", "Owner": "Sam", "Deadline": "2031-03-01", "Status": "open"},
        {"Action": "Share the forecast", "Owner": "Ana", "Deadline": "2031-13-01", "Status": "open"}]


def _entries(session):
    return session.scalar(select(func.count()).select_from(RegisterEntry))


def test_upload_preview_fix_and_confirm(signed_in, session, acme):
    staff = signed_in("staff")
    page = staff.get(f"/relationships/{acme}/registers/actions").get_data(as_text=True)
    assert f"/relationships/{acme}/registers/actions/import" in page and "Import from a spreadsheet" in page
    template = staff.get(f"/relationships/{acme}/registers/actions/template.xlsx")
    assert template.status_code == 200 and template.mimetype.endswith("spreadsheetml.sheet")
    bad = filled(template.data, ROWS)
    url = f"/relationships/{acme}/registers/actions/import"
    preview = staff.post(url, {"file": (io.BytesIO(bad), "actions.xlsx")}, content_type="multipart/form-data")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 400
    assert "row 3, column Deadline: must be a date (YYYY-MM-DD)" in html and "confirm-import" not in html
    assert _entries(session) == 0

    good = edited(bad, {(3, "Deadline"): "2031-02-01"})
    preview = staff.post(url, {"file": (io.BytesIO(good), "actions.xlsx")}, content_type="multipart/form-data")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'id="confirm-import"' in html and _entries(session) == 0
    fields = dict(re.findall(r'<input type="hidden" name="(content|filename|digest)" value="([^"]*)"', html))
    done = staff.post(url + "/confirm", fields, page=url)
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/relationships/{acme}/registers/actions")
    listed = staff.get(f"/relationships/{acme}/registers/actions").get_data(as_text=True)
    assert "Imported actions.xlsx into the action plans: 2 added, 0 changed, 0 unchanged." in listed
    assert "Share the forecast" in listed and _entries(session) == 2
    again = staff.post(url + "/confirm", fields, page=url)  # the same confirm twice: the plan changed meanwhile
    assert again.status_code == 409 and "changed since the preview" in again.get_data(as_text=True)
    assert _entries(session) == 2
    session.commit()


def test_a_file_that_is_not_a_workbook_is_answered_on_the_page(signed_in, session, acme):
    staff = signed_in("staff")
    url = f"/relationships/{acme}/registers/risks/import"
    answer = staff.post(url, {"file": (io.BytesIO(b"%PDF-1.4"), "risks.pdf")}, content_type="multipart/form-data")
    assert answer.status_code == 400
    assert "not an Excel workbook (.xlsx)" in answer.get_data(as_text=True)
    assert staff.post(url, {}, content_type="multipart/form-data").status_code == 400
    lost = staff.post(url + "/confirm", {"content": "!!", "filename": "x.xlsx", "digest": "0" * 64}, page=url)
    assert lost.status_code == 400 and "upload it again" in lost.get_data(as_text=True)


def test_readers_see_no_upload_and_cannot_post_one(signed_in, session, acme):
    assessor = signed_in("assessor")
    assert "Import from a spreadsheet" in assessor.get(f"/relationships/{acme}/registers/risks").get_data(
        as_text=True)  # the export and the template are readable
    url = f"/relationships/{acme}/registers/risks/import"
    template = assessor.get(f"/relationships/{acme}/registers/risks/template.xlsx").data
    answer = assessor.post(url, {"file": (io.BytesIO(template), "r.xlsx")}, content_type="multipart/form-data",
                           page=url)
    assert answer.status_code == 403
