"""Evidence through the API: a file uploaded to a task's field; refused types, a missing file, JSON instead of a
form, another organisation's task."""

from __future__ import annotations

import io

from tests.support.api import snapshot


def test_evidence_upload(api, session, lifecycle):
    staff = api("staff")
    rel = staff.post("relationships", {"title": "ACME", "partner": "ACME Ltd"}).get_json()
    task = rel["tasks"][0]["id"]
    url = f"/api/v1/tasks/{task}/evidence?field=document"
    post = lambda data, **kw: staff.client.post(url, headers=staff.headers(), data=data, **kw)  # noqa: E731
    made = post({"file": (io.BytesIO(b"%PDF-1.4 policy"), "policy.pdf")}, content_type="multipart/form-data")
    assert made.status_code == 201 and made.get_json()["field"] == "document"
    before = snapshot(session)
    bad = post({"file": (io.BytesIO(b"MZ\x90\x00"), "tool.exe")}, content_type="multipart/form-data")
    assert bad.status_code == 400 and bad.is_json
    missing = post({}, content_type="multipart/form-data")
    assert missing.status_code == 422 and "file" in missing.get_json()["errors"]
    as_json = staff.post(f"tasks/{task}/evidence", {"file": "x"})
    assert as_json.status_code == 415
    assert api("pser").client.post(url, headers=api("pser").headers(), content_type="multipart/form-data",
                                   data={"file": (io.BytesIO(b"%PDF-1.4"), "a.pdf")}).status_code == 404
    assert snapshot(session)["drafts"] == before["drafts"]
