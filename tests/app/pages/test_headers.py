"""Every page's plumbing: security headers, and malformed or unknown ids are a 404."""

from __future__ import annotations

import pytest


def test_security_headers_on_every_page(signed_in, acme):
    client = signed_in("staff")
    for path in ("/inbox", "/relationships", f"/relationships/{acme}", "/static/collabflow.css"):
        response = client.get(path)
        headers = response.headers
        response.close()
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert "http" not in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/tasks/abc", "/tasks/0", "/tasks/99999999999999999999", "/tasks/999",
                                  "/relationships/x", "/relationships/99999999999", "/evidence/-1",
                                  "/versions/1/diagrams/nope.bpmn"])
def test_malformed_or_unknown_ids_are_404(signed_in, acme, path):
    assert signed_in("staff").get(path).status_code == 404
