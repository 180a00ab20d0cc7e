"""Requirement id -> BPMN element map, read from the diagrams themselves (bpmn/*.bpmn).

    python tools/requirements_map.py     # rewrite docs/requirements-map.md from bpmn/ (reads diagrams only)

The diagrams and forms are the source of truth (process owners edit them in the browser); nothing here
writes them.

`collect(bpmn_dir)` returns rows (requirement, file, element id, element name); `render_map()`
formats them as the Markdown table in docs/requirements-map.md.  Requirements are carried by the
SpiffArena-style extension property `requirements` (comma-separated ids) on any flow element.
"""
from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}


def requirement_sort_key(rid):
    m = re.fullmatch(r"S(\d+)\.(\d+|G)", rid)
    if not m:
        return (99, 1, 0, rid)
    return (int(m.group(1)), 1 if m.group(2) == "G" else 0, 0 if m.group(2) == "G" else int(m.group(2)), rid)


def collect(bpmn_dir):
    rows = []
    for path in sorted(Path(bpmn_dir).glob("*.bpmn")):
        tree = etree.parse(str(path))
        for prop in tree.xpath("//spiffworkflow:property[@name='requirements']", namespaces=NS):
            element = prop.getparent().getparent().getparent()
            for rid in [r.strip() for r in prop.get("value", "").split(",") if r.strip()]:
                rows.append((rid, path.name, element.get("id"), element.get("name") or ""))
    rows.sort(key=lambda r: (requirement_sort_key(r[0]), r[1], r[2]))
    return rows


def render_map(bpmn_dir):
    rows = collect(bpmn_dir)
    lines = [
        "# Requirements map",
        "",
        "Which BPMN element evidences each BS 11000 / ISO 44001 requirement id "
        "(`shared/domain/requirements-v2.yaml`, copied to `app/lifecycle/requirements.yaml`). Generated from the `requirements` extension property in "
        "`bpmn/*.bpmn` by `python tools/requirements_map.py`; `tests/bpmn/test_catalogue.py` checks it is "
        "up to date.",
        "",
        "| requirement | file | element id | element name |",
        "| --- | --- | --- | --- |",
    ]
    for rid, fname, eid, name in rows:
        lines.append(f"| {rid} | bpmn/{fname} | `{eid}` | {name.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    (root / "docs" / "requirements-map.md").write_text(render_map(root / "bpmn"))
