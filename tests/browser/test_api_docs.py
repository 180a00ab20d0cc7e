"""The interactive API page (/api/v1/docs): Swagger UI from the app's own files, under the app's CSP,
in Chromium.

It loads with no CSP violation, no console error and no request leaving 127.0.0.1, lists the operations by
tag, and "Try it out" on GET /api/v1/relationships answers 200 with the signed-in session (no token needed:
a call from the page is same-origin, so it carries the session cookie; unsafe methods also carry the page's
CSRF token)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.support.browser import sign_in

CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    `${e.violatedDirective} blocked ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`);
});
"""


@pytest.fixture
def watched(page):
    """The page, with everything that must not happen on it recorded: console errors, uncaught exceptions,
    CSP violations, and requests to anywhere but 127.0.0.1 (which are also stopped)."""
    seen = {"console": [], "errors": [], "outside": []}
    page.on("console", lambda msg: seen["console"].append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))

    def only_local(route):
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            seen["outside"].append(url)
            route.abort()
    page.context.route("**/*", only_local)
    page.context.add_init_script(CSP_LISTENER)
    return page, seen


def test_api_page_lists_operations_and_tries_one_with_the_session(watched, live_server, session, users,
                                                                  wf_engine, lifecycle):
    from app.db import utcnow
    from app.relationships import services as relationships
    page, seen = watched
    relationships.start(session, wf_engine, users["staff"], title="Swagger partnership",
                        partner="Swagger Ltd", now=utcnow())
    sign_in(page, live_server, session, users["staff"])

    response = page.goto(live_server + "/api/v1/docs")
    assert response.status == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp

    for tag in ("api_relationships", "api_tasks", "api_processes", "api_tokens"):
        page.locator(f"#operations-tag-{tag}").wait_for()
    listing = page.locator("#operations-api_relationships-get_api_v1_relationships").first
    listing.wait_for()

    listing.locator(".opblock-summary").first.click()
    listing.get_by_role("button", name="Try it out").click()
    with page.expect_response(lambda r: urlsplit(r.url).path == "/api/v1/relationships") as answered:
        listing.get_by_role("button", name="Execute").click()
    assert answered.value.status == 200 and answered.value.request.headers.get("authorization") is None
    live = listing.locator(".live-responses-table tbody .response-col_status").first
    live.wait_for()
    assert live.inner_text().strip() == "200", live.inner_text()
    body = listing.locator(".live-responses-table .response-col_description pre").first.inner_text()
    assert "Swagger partnership" in body

    page.wait_for_load_state("networkidle")
    violations = page.evaluate("window.__cspViolations")
    assert violations == [], violations
    assert seen == {"console": [], "errors": [], "outside": []}, seen



def test_api_page_csp_blocks_injected_script(watched, live_server, session, users):
    """The same watch sees a violation when there is one: the page's CSP refuses an injected inline script."""
    page, seen = watched
    sign_in(page, live_server, session, users["staff"])
    page.goto(live_server + "/api/v1/docs")
    page.locator("#operations-tag-api_tokens").wait_for()
    page.evaluate("""() => { const s = document.createElement("script");
                             s.textContent = "window.__injected = true"; document.body.appendChild(s); }""")
    page.wait_for_function("window.__cspViolations.length > 0")
    assert page.evaluate("window.__injected") is None
    assert any("script-src" in v for v in page.evaluate("window.__cspViolations"))
    assert any("Content Security Policy" in text for text in seen["console"]), seen
