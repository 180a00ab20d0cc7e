"""The OpenAPI 3 document and the interactive API page (Swagger UI from local files, no CDN)."""

from __future__ import annotations

import re


def test_openapi_document_describes_every_endpoint(api):
    doc = api("staff").get("openapi.json").get_json()
    assert doc["openapi"].startswith("3.") and doc["info"]["version"] == "v1"
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    paths = doc["paths"]
    for path, method in [("/api/v1/relationships", "post"), ("/api/v1/tasks/{task_id}/complete", "post"),
                         ("/api/v1/tasks/{task_id}/draft", "put"), ("/api/v1/processes/deploy", "post"),
                         ("/api/v1/processes/diff", "get"), ("/api/v1/tokens/{token_id}", "delete"),
                         ("/api/v1/relationships/{relationship_id}/events", "get"), ("/api/v1/agenda", "get"),
                         ("/api/v1/notifications/read", "post"), ("/api/v1/tasks/{task_id}/evidence", "post")]:
        assert method in paths[path], path
    error = doc["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"code", "status", "message", "errors"}
    ok = [code for code in paths["/api/v1/tasks/{task_id}/complete"]["post"]["responses"] if code.startswith("2")]
    assert ok == ["200"]
    assert api().get("openapi.json").status_code == 401


def test_api_page_uses_local_assets_only(app, session_api, session, users):
    browser = session_api("staff")
    page = browser.client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "swagger-ui" in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    assert "<script>" not in html  # no inline script: the page lives under the app's CSP
    for source in sources:
        with browser.client.get(source) as asset:
            assert asset.status_code == 200, source
    assert app.test_client().get("/api/v1/docs").status_code == 302  # strangers are sent to sign in


