"""Issue 18: the CSV and Markdown exports carry exactly one charset in their Content-Type (pages and API)."""

from __future__ import annotations

from tests.support.exports import download_pdf


def test_text_exports_name_their_charset_once(signed_in, services, working_together):
    rel = working_together.instance_id
    client = signed_in("assessor")
    expected = {
        f"/relationships/{rel}/rmp/2.md": "text/markdown; charset=utf-8",
        f"/relationships/{rel}/assessor-pack.csv": "text/csv; charset=utf-8",
        f"/api/v1/relationships/{rel}/rmp/2/export?format=md": "text/markdown; charset=utf-8",
        f"/api/v1/relationships/{rel}/assessor-pack?format=csv": "text/csv; charset=utf-8",
        f"/relationships/{rel}/assessor-pack.pdf": "application/pdf",
    }
    for url, content_type in expected.items():
        response = download_pdf(client, url, services)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
        assert response.headers.getlist("Content-Type") == [content_type], url
        assert response.headers["Content-Type"].count("charset") == content_type.count("charset"), url
