"""Refresh the README's screenshots (docs/screenshots/*.png) from the bundled lifecycle and `seed-demo`.

    .venv/bin/python tools/screenshots.py             # rewrite docs/screenshots/
    .venv/bin/python tools/screenshots.py --out DIR   # write them somewhere else

It builds a throw-away instance (SQLite in a temporary directory: migrations, `collabflow deploy` of bpmn/ and
forms/, `collabflow seed-demo`), serves it on 127.0.0.1 and drives Debian's Chromium through Playwright
(`apt-get install -y chromium`; no browser is ever downloaded). The test suite writes its own screenshots of
every page under pytest's temporary directory on every run; this script is only for the committed pictures.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
VIEWPORT = {"width": 1360, "height": 860}
DEMO_RELATIONSHIP = "Tailspin regional partnership"


def build_instance(folder: Path):
    """A new app on an empty SQLite database with the bundled lifecycle deployed and the demo seeded."""
    from app import create_app
    from app.cli import main
    from app.migrate import upgrade
    url = f"sqlite:///{folder / 'screenshots.sqlite3'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "screenshots", "SCHEDULER_ENABLED": False,
                      "BPMN_DIR": str(ROOT / "bpmn"), "FORMS_DIR": str(ROOT / "forms")})
    runner = app.test_cli_runner()
    for command in (["deploy", str(ROOT / "bpmn"), "--forms", str(ROOT / "forms"), "-m", "screenshots"],
                    ["seed-demo"]):
        result = runner.invoke(main, command)
        if result.exit_code != 0:
            raise SystemExit(f"collabflow {' '.join(command)} failed:\n{result.output}")
    return app


def take(base_url: str, out: Path, chromium: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from app.cli import DEMO_PASSWORD
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_context(viewport=VIEWPORT).new_page()
        page.goto(base_url + "/sign-in")
        page.get_by_label("Username").fill("staff")
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(base_url + "/inbox")
        written.append(_shot(page, out / "inbox.png"))
        page.goto(base_url + "/relationships")
        written.append(_shot(page, out / "relationships.png"))
        page.get_by_role("link", name=DEMO_RELATIONSHIP).click()
        page.locator(".diagram[data-drawn=true]").nth(1).wait_for()  # (wait_for_function would need eval: CSP)
        written.append(_shot(page, out / "relationship.png",
                             clip={"x": 0, "y": 0, "width": VIEWPORT["width"], "height": 1500}, full_page=True))
        page.goto(base_url + "/inbox")
        page.locator("a.task-name").first.click()
        page.get_by_role("button", name="Complete task").click()  # an empty form: the errors show
        written.append(_shot(page, out / "task.png"))
        browser.close()
    return written


def _shot(page, path: Path, **options) -> Path:
    page.screenshot(path=str(path), animations="disabled", **options)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="where to write the PNGs")
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium")
    if chromium is None:
        print("Debian's chromium is required: apt-get install -y chromium", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    from werkzeug.serving import make_server
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    with tempfile.TemporaryDirectory(prefix="collabflow-screenshots-") as folder:
        app = build_instance(Path(folder))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            written = take(f"http://127.0.0.1:{server.server_port}", args.out, chromium)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            app.extensions["collabflow"].db_engine.dispose()
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
