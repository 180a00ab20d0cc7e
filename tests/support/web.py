"""The pages' test client: Flask's test client driven like a person (CSRF tokens read from the rendered page),
and users who can sign in."""

from __future__ import annotations

import re

from tests.support.bundles import WEB_DATA, read_web_bundle  # noqa: F401  (re-exported for page tests)

PASSWORD = "correct horse battery staple"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def set_password(session, user, password=PASSWORD):
    from app.auth.services import hash_password
    user.password_hash = hash_password(password)
    session.merge(user)
    session.commit()


def token(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


class Browser:
    """Flask's test client driven like a person: read a page, take its CSRF token, post its form."""

    def __init__(self, client):
        self.client = client
        self.last = None

    def get(self, url, **kwargs):
        self.last = self.client.get(url, **kwargs)
        return self.last

    def post(self, url, data=None, *, page=None, **kwargs):
        html = self.client.get(page or url).get_data(as_text=True)
        payload = {"csrf_token": token(html), **(data or {})}
        self.last = self.client.post(url, data=payload, **kwargs)
        return self.last

    def sign_in(self, username, password=PASSWORD):
        return self.post("/sign-in", {"username": username, "password": password})


def form_fields(data: dict) -> dict:
    """VALID_POLICY as the browser posts it."""
    posted = {"f.policy_text": data["policy_text"], "f.approved_on": data["approved_on"],
              "f.scope": data["scope"], "f.channels": data["channels"], "f.improvement": "on",
              "f.communications.__row": ["0"]}
    for key, value in data["communications"][0].items():
        posted[f"f.communications.0.{key}"] = value
    return posted


class Clock:
    """A clock that stands still until told (`advance`); called like `utcnow()`."""

    def __init__(self, now=None):
        from datetime import UTC, datetime
        self.now = now or datetime(2026, 3, 2, 9, 0, 10, tzinfo=UTC)  # 10 s into a 30-second step

    def __call__(self):
        return self.now

    def advance(self, **delta):
        from datetime import timedelta
        self.now += timedelta(**delta)
        return self.now


_SECRET = re.compile(r'id="totp-secret">([^<]+)<')
_RECOVERY = re.compile(r"<li><code>([a-z0-9-]+)</code></li>")


def enrol_second_factor(browser: Browser, now):
    """Set up two-step sign-in on the account page as a person does: start, read the key off the page, type the
    app's code for `now` -> (pyotp.TOTP of that key, the recovery codes the page showed)."""
    import pyotp
    browser.post("/account/second-factor", {}, page="/account")
    secret = _SECRET.search(browser.get("/account").get_data(as_text=True)).group(1).replace(" ", "")
    totp = pyotp.TOTP(secret)
    done = browser.post("/account/second-factor/confirm", {"code": totp.at(now)}, page="/account")
    assert done.status_code == 200, done.get_data(as_text=True)[:500]
    return totp, _RECOVERY.findall(done.get_data(as_text=True))
