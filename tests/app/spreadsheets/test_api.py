"""The spreadsheet API: template and export downloads, a preview listing every problem, a confirm with the
preview's digest, in the OpenAPI document."""

from __future__ import annotations

import io

from tests.support.spreadsheets import filled

ROWS = [{"Idea": "Shared depot", "Status": "proposed", "Cost": 1200, "Benefit": 5000},
        {"Idea": "Joint buying", "Status": "maybe"}]


def test_preview_then_confirm(api, session, acme):
    client = api("staff")
    base = f"relationships/{acme}/registers/value"
    template = client.get(f"{base}/template.xlsx")
    assert template.status_code == 200 and template.headers["Content-Disposition"].startswith("attachment")
    bad = filled(template.data, ROWS)
    preview = client.post(f"{base}/import/preview", data={"file": (io.BytesIO(bad), "value.xlsx")},
                          content_type="multipart/form-data")
    assert preview.status_code == 200
    body = preview.get_json()
    assert body["counts"] == {"rows": 2, "create": 1, "update": 0, "unchanged": 0, "invalid": 1}
    assert body["problems"] == [{"row": 3, "column": "Status",
                                 "message": "must be one of: proposed, approved, in progress, realised, rejected"}]
    refused = client.post(f"{base}/import?digest={body['digest']}", data={"file": (io.BytesIO(bad), "value.xlsx")},
                          content_type="multipart/form-data")
    assert refused.status_code == 400 and refused.get_json()["errors"]["rows"][0].startswith("row 3, column Status")

    good = filled(template.data, [ROWS[0], {**ROWS[1], "Status": "approved"}])
    body = client.post(f"{base}/import/preview", data={"file": (io.BytesIO(good), "value.xlsx")},
                       content_type="multipart/form-data").get_json()
    done = client.post(f"{base}/import?digest={body['digest']}", data={"file": (io.BytesIO(good), "value.xlsx")},
                       content_type="multipart/form-data")
    assert done.status_code == 200 and done.get_json()["counts"]["create"] == 2
    exported = client.get(f"{base}/export.xlsx").data
    body = client.post(f"{base}/import/preview", data={"file": (io.BytesIO(exported), "value.xlsx")},
                       content_type="multipart/form-data").get_json()
    assert body["counts"]["unchanged"] == 2 and not body["problems"]
    stale = client.post(f"{base}/import?digest={'0' * 64}", data={"file": (io.BytesIO(exported), "value.xlsx")},
                        content_type="multipart/form-data")
    assert stale.status_code == 409
    wrong = client.post(f"{base}/import/preview", data={"file": (io.BytesIO(b"not a workbook"), "v.xlsx")},
                        content_type="multipart/form-data")
    assert wrong.status_code == 400 and "not an Excel workbook" in wrong.get_json()["errors"]["file"]
    session.commit()


def test_the_endpoints_are_in_the_openapi_document(api):
    paths = api("staff").get("openapi.json").get_json()["paths"]
    for suffix in ("template.xlsx", "export.xlsx", "import/preview", "import"):
        assert any(p.endswith("/registers/{name}/" + suffix) for p in paths), suffix
