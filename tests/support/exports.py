"""PDF exports as a browser gets them: the request answers with a progress page (or the kept file at once), the
scheduler prints the job, the page links the file."""

from __future__ import annotations

import re

from app.compliance import export_jobs
from app.db import utcnow

FILE_LINK = re.compile(r'href="(/exports/\d+/file)"')


def print_waiting(services) -> int:
    """What the scheduler's export job does: print every waiting PDF now; returns how many."""
    with services.sessions() as session:
        return export_jobs.render_waiting(session, now_fn=utcnow)


def download_pdf(client, url: str, services):
    """GET a PDF export; when it was queued, print it and download it from its progress page."""
    response = client.get(url)
    if response.status_code != 303:
        return response
    progress = response.headers["Location"]
    print_waiting(services)
    page = client.get(progress).get_data(as_text=True)
    link = FILE_LINK.search(page)
    assert link, page[:2000]
    return client.get(link.group(1))
