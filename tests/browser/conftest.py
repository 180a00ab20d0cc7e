"""A real server on 127.0.0.1 and Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.support.browser import screenshot

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


class _Gate:
    """The app behind a gate that closes when the test ends. A page still open then (torn down after the server
    when the test asked for it first) goes on fetching, and werkzeug's shutdown only stops the accept loop: such
    a request would run the app after its engine was disposed and leave a connection to be collected unclosed
    in a later test (psycopg's ResourceWarning, seen in CI). Once closed, requests get a 503 without reaching
    the app, and `close()` waits for the app calls already under way (Flask has closed the request's database
    session when its call returns; what follows is only the body going out)."""

    def __init__(self, app):
        self.app = app
        self.inside = 0
        self.closed = False
        self.changed = threading.Condition()

    def __call__(self, environ, start_response):
        with self.changed:
            if self.closed:
                start_response("503 Service Unavailable", [("Content-Type", "text/plain"), ("Connection", "close")])
                return [b"the test has ended"]
            self.inside += 1
        try:
            return self.app(environ, start_response)
        finally:
            with self.changed:
                self.inside -= 1
                self.changed.notify_all()

    def close(self, timeout: float = 60.0):
        with self.changed:
            self.closed = True
            if not self.changed.wait_for(lambda: self.inside == 0, timeout):
                raise AssertionError(f"{self.inside} request(s) still inside the app {timeout:.0f} s after the test ended")


@pytest.fixture
def live_server(app):
    gate = _Gate(app)
    server = make_server("127.0.0.1", 0, gate, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    try:
        gate.close()
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def browser():
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is required in CI (apt-get install -y chromium)")
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


_screenshot_dirs: list[Path] = []


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where this run's screenshots go (under pytest's temporary directory; the path is printed at the end)."""
    path = tmp_path_factory.mktemp("screenshots")
    _screenshot_dirs.append(path)
    return path


@pytest.fixture
def page(browser, request, screenshots):
    """A fresh browser page; whatever it shows when the test ends is kept as <test name>.png."""
    context = browser.new_context()
    page = context.new_page()
    yield page
    from playwright.sync_api import Error
    if page.url not in ("", "about:blank"):
        try:
            screenshot(page, screenshots / (re.sub(r"[^\w.-]+", "_", request.node.name) + ".png"))
        except Error:
            pass  # a page that cannot be drawn any more must not hide the test's own result
    context.close()


def pytest_terminal_summary(terminalreporter):
    for path in _screenshot_dirs:
        terminalreporter.write_line(f"browser screenshots: {path}")




def pytest_collection_modifyitems(items):
    """Every browser test is `slow`. The development server may leave a static file unclosed when the browser
    drops its request (a favicon fetched while the page goes away); gunicorn does not. Those warnings only, and
    only here, are not errors."""
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.slow)  # a real browser: seconds per test
            item.add_marker(pytest.mark.filterwarnings(
                r"ignore:Exception ignored in. <_io\.(FileIO|BufferedReader) name='.*/app/static/"
                r":pytest.PytestUnraisableExceptionWarning"))
            item.add_marker(pytest.mark.filterwarnings(
                r"ignore:unclosed file <_io\.BufferedReader name='.*/app/static/:ResourceWarning"))
