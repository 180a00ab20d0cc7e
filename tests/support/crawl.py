"""Following every same-site link a person can follow, breadth first, with the pages' test client."""

from __future__ import annotations

import itertools
import re
from collections import Counter, deque
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import html as lxml_html

from tests.support.web import Browser

PAGE_LIMIT = 200
SECTION_LIMIT = 60  # per first path segment, so one large section (the process modeller) leaves room for others
SKIP_PREFIXES = ("/sign-out", "/static/")  # sign-out is a form anyway; static files are not pages


def crawl(client: Browser, start="/inbox", limit=PAGE_LIMIT) -> dict[str, tuple[int, str]]:
    """url -> (status, body of an HTML page) for every same-site page reachable by GET from `start`."""
    seen: dict[str, tuple[int, str]] = {}
    queue, queued = deque([start]), {start}
    sections: Counter[str] = Counter()
    while queue and len(seen) < limit:
        url = queue.popleft()
        try:
            response = client.get(url, follow_redirects=True)  # a PDF export answers with its progress page
        except Exception as exc:  # noqa: BLE001  (TESTING propagates errors: report them with their URL)
            seen[url] = (599, f"{type(exc).__name__}: {exc}")
            continue
        body = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        response.close()
        seen[url] = (response.status_code, body)
        if not body:
            continue
        for href in lxml_html.fromstring(body).xpath("//a/@href"):
            target = urldefrag(urljoin("http://localhost" + url, href))[0]
            parts = urlsplit(target)
            if parts.netloc != "localhost" or parts.scheme not in ("http", "https"):
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            section = parts.path.split("/")[1]
            if path.startswith(SKIP_PREFIXES) or path in queued or sections[section] >= SECTION_LIMIT:
                continue
            sections[section] += 1
            queued.add(path)
            queue.append(path)
    return seen


def api_get_bodies(client, spec: dict, values: dict[str, list]):
    """(url, body) for every GET endpoint of the API's OpenAPI `spec`, once for every combination of the ids in
    `values` (by path parameter name; 1 for any other), each answered without a server error. A workbook's body
    is its cells' text."""
    from tests.support.spreadsheets import text_of_workbook
    for path, operations in spec["paths"].items():
        if "get" not in operations or path.endswith(("openapi.json", "/docs")):
            continue
        names = re.findall(r"{(\w+)}", path)
        for combo in itertools.product(*(values.get(n, [1]) for n in names)):
            url = path
            for n, v in zip(names, combo, strict=True):
                url = url.replace("{" + n + "}", str(v))
            response = client.get(url)
            assert response.status_code < 500, url
            yield url, (text_of_workbook(response.data) if response.mimetype.endswith("spreadsheetml.sheet")
                        else response.get_data(as_text=True))
