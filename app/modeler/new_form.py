"""Starting a new form from the workbench: its name, its first text, and the way back to the page that asked for it.

The modeller opens `/processes/forms/new?for=<task id>&diagram=<file>&return=<its URL>`; once the form is saved the
owner lands on the return URL with `form=`, `ui=` and `for=` added, so the modeller can set the task's form. Only a
path on this site is accepted as a return URL: a link must never send a process owner elsewhere.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..errors import BadRequest

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,99}$")
RESERVED = frozenset({"new"})  # `/processes/forms/new` is the page that names a form
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"  # what every bundled form declares


def suggest_name(element_id: str | None) -> str:
    """A form name from a task id (`s5_New Task` -> `s5_new_task`); '' when nothing usable is left."""
    name = re.sub(r"[^a-z0-9_]+", "_", (element_id or "").strip().lower()).strip("_")
    name = re.sub(r"_+", "_", name)
    if name and not name[0].isalpha():
        name = "form_" + name
    return name[:100] if NAME.match(name[:100] or "-") and name not in RESERVED else ""


def check_name(name: str, existing: set[str] | list[str]) -> str:
    """The form's base name, checked: safe as a file name, not reserved, not a form that exists already
    (`existing` holds file names such as `policy.schema.json`). Raises BadRequest naming the field `name`."""
    name = (name or "").strip()
    for suffix in (".schema.json", ".uischema.json"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    if not name:
        raise BadRequest("give the form a name", errors={"name": "required"})
    if not NAME.match(name) or name in RESERVED:
        raise BadRequest(f"{name[:120]!r} cannot be a form name: start with a letter, then letters, digits, '_' or '-' "
                         "(at most 100), and not 'new'", errors={"name": "not a safe file name"})
    if f"{name}.schema.json" in existing:
        raise FormExists(name)
    return name


class FormExists(BadRequest):
    """The name is taken: the page offers to open that form instead."""

    def __init__(self, name: str):
        super().__init__(f"a form named {name!r} exists already: open it, or choose another name",
                         errors={"name": "exists"})
        self.name = name


def safe_return(url: str | None) -> str | None:
    """`url` when it is a path on this site (`/processes/diagrams/x.bpmn?a=1`), None when absent. Raises
    BadRequest for anything else (another site, `//host`, a scheme, backslashes, control characters)."""
    if not url:
        return None
    parts = urlsplit(url)
    if (parts.scheme or parts.netloc or not url.startswith("/") or url.startswith("//") or "\\" in url
            or any(ord(c) < 32 or ord(c) == 127 for c in url) or len(url) > 2000):
        raise BadRequest("the page to return to must be a page of this site", errors={"return": "not on this site"})
    return url


def return_url(url: str, base: str, element_id: str | None) -> str:
    """The return URL with the saved form named in its query (`form`, `ui`, and `for` when a task asked)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("form", "ui", "for")]
    query += [("form", f"{base}.schema.json"), ("ui", f"{base}.uischema.json")]
    if element_id:
        query.append(("for", element_id))
    return urlunsplit(("", "", parts.path, urlencode(query), parts.fragment))


def check_element_id(element_id: str | None) -> str | None:
    """A BPMN element id as the modeller sends it (an XML NCName), or None. Raises BadRequest."""
    element_id = (element_id or "").strip()
    if not element_id:
        return None
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]{0,200}", element_id):
        raise BadRequest(f"{element_id[:60]!r} is not a task id", errors={"for": "not an element id"})
    return element_id


def first_texts(base: str) -> tuple[str, str]:
    """The JSON Schema and UI schema a new form starts from: titled after its name, no fields yet."""
    title = base.replace("_", " ").replace("-", " ").strip().capitalize()
    schema = {"$schema": SCHEMA_DIALECT, "title": title, "description": "", "type": "object", "properties": {},
              "required": []}
    return json.dumps(schema, indent=2) + "\n", json.dumps({"ui:order": []}, indent=2) + "\n"
