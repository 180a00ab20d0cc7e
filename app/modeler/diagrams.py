"""Read helpers over diagram files: which elements (and processes) each file holds, and a diff laid out per file
so the page can draw each diagram with its added / changed / removed elements marked."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from workflows import VersionDiff

from ..processes.models import ProcessVersion

_SAFE = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def element_ids(content: bytes) -> tuple[set[str], set[str], bool]:
    """(ids of BPMN elements, ids of processes, has a layout) of one diagram file; empty when unreadable."""
    try:
        root = etree.fromstring(content, etree.XMLParser(**_SAFE))
    except etree.XMLSyntaxError:
        return set(), set(), False
    ids, processes, layout = set(), set(), False
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        qname = etree.QName(node)
        if qname.namespace == _BPMN and node.get("id"):
            ids.add(node.get("id"))
            if qname.localname == "process":
                processes.add(node.get("id"))
        elif qname.localname == "BPMNShape":
            layout = True
    return ids, processes, layout


def process_callers(files: dict[str, bytes]) -> dict[str, list[str]]:
    """Who calls each process: {called process id: ["file.bpmn (call activity id)", ...]} over `files`, so the
    modeller can warn before a process's id is renamed (a calledElement names it as text; nothing follows it)."""
    callers: dict[str, list[str]] = {}
    for name, content in sorted(files.items()):
        try:
            root = etree.fromstring(content, etree.XMLParser(**_SAFE))
        except etree.XMLSyntaxError:
            continue
        for node in root.iter(f"{{{_BPMN}}}callActivity"):
            if node.get("calledElement"):
                callers.setdefault(node.get("calledElement"), []).append(f"{name} ({node.get('id')})")
    return callers


@dataclass
class FileDiff:
    file: str
    version_id: int  # the version whose copy of the file is drawn
    markers: dict[str, str] = field(default_factory=dict)  # element id -> cf-added | cf-changed | cf-removed
    has_layout: bool = True
    rows: list[tuple[str, object]] = field(default_factory=list)  # (added|changed|removed, ElementChange)


def diff_by_file(old: ProcessVersion, new: ProcessVersion, diff: VersionDiff) -> list[FileDiff]:
    """Place each changed element in the file that holds it: added/changed in the new version's copy,
    removed in the old one's (drawn separately when the new copy no longer has them)."""
    new_files = {f.name: element_ids(f.content) for f in new.files if f.kind == "bpmn"}
    old_files = {f.name: element_ids(f.content) for f in old.files if f.kind == "bpmn"}
    result: dict[tuple[str, int], FileDiff] = {}

    def place(files, version_id, change, how):
        for name, (ids, processes, layout) in files.items():
            if change.element_id in ids and change.process_id in processes:
                key = (name, version_id)
                entry = result.setdefault(key, FileDiff(name, version_id, has_layout=layout))
                entry.markers[change.element_id] = f"cf-{how}"
                entry.rows.append((how, change))
                return True
        return False

    for how, changes in (("added", diff.added), ("changed", diff.changed)):
        for change in changes:
            place(new_files, new.id, change, how)
    for change in diff.removed:
        place(old_files, old.id, change, "removed")
    return sorted(result.values(), key=lambda d: (d.file, -d.version_id))
