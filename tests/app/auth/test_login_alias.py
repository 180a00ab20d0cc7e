"""Issue 18: /login, the address people guess, is a redirect to the sign-in page (not a bare 404)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit


def test_login_redirects_to_sign_in_and_keeps_next(app):
    client = app.test_client()
    plain = client.get("/login")
    assert plain.status_code == 302 and urlsplit(plain.headers["Location"]).path == "/sign-in"
    onward = client.get("/login?next=/relationships%3Fstatus%3Drunning")
    location = urlsplit(onward.headers["Location"])
    assert onward.status_code == 302 and location.path == "/sign-in"
    assert parse_qs(location.query) == {"next": ["/relationships?status=running"]}
    assert client.get(onward.headers["Location"]).status_code == 200  # the sign-in page itself


