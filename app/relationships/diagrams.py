"""The diagrams of a deployed version as bpmn-js draws them, and which of their shapes are active now.

Versions never change, so what is read from a version's files is kept per version for the process's life.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..processes.models import VersionFile

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"


@dataclass
class DiagramFile:
    name: str
    processes: dict[str, str]  # process id -> its name
    calls: dict[str, tuple[str, str]]  # call activity id -> (the process holding it, the process it calls)
    elements: set[str]
    has_layout: bool


@dataclass
class Diagram:
    """One diagram to draw: its file, a caption, and the element ids to mark as active."""

    version_id: int
    file: str
    caption: str
    active: list[str] = field(default_factory=list)
    has_layout: bool = True


_cache: dict[int, dict[str, DiagramFile]] = {}
_lock = threading.Lock()


def files_of(session: Session, version_id: int) -> dict[str, DiagramFile]:
    with _lock:
        if version_id in _cache:
            return _cache[version_id]
    rows = session.execute(select(VersionFile.name, VersionFile.content).where(
        VersionFile.version_id == version_id, VersionFile.kind == "bpmn")).all()
    parsed = {name: _parse(name, content) for name, content in rows}
    with _lock:
        _cache[version_id] = parsed
    return parsed


def _parse(name: str, content: bytes) -> DiagramFile:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    root = etree.fromstring(content, parser)
    processes = {p.get("id"): p.get("name") or p.get("id") for p in root.iter(f"{BPMN}process")}
    calls = {c.get("id"): (p.get("id"), c.get("calledElement"))
             for p in root.iter(f"{BPMN}process") for c in p.iter(f"{BPMN}callActivity")}
    elements = {e.get("id") for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    return DiagramFile(name, processes, calls, elements, root.find(f".//{BPMNDI}BPMNDiagram") is not None)


def file_for(session: Session, version_id: int, process_id: str) -> DiagramFile | None:
    return next((f for f in files_of(session, version_id).values() if process_id in f.processes), None)


def diagram_xml(session: Session, version_id: int, name: str) -> bytes:
    content = session.scalar(select(VersionFile.content).where(
        VersionFile.version_id == version_id, VersionFile.kind == "bpmn", VersionFile.name == name))
    if content is None:
        raise NotFound(f"version {version_id} has no diagram {name!r}")
    return content


def active_processes(session: Session, version_id: int, running: set[str]) -> set[str]:
    """`running` plus every process whose call activity leads to one of them (lifecycle -> stage -> ...)."""
    calls = [call for f in files_of(session, version_id).values() for call in f.calls.values()]
    active = set(running)
    changed = True
    while changed:
        changed = False
        for owner, called in calls:
            if called in active and owner not in active:
                active.add(owner)
                changed = True
    return active


def diagram(session: Session, version_id: int, process_id: str, caption: str, *, ready_bpmn_ids: set[str],
            active: set[str]) -> Diagram | None:
    """The diagram of `process_id` with its ready tasks and the call activities leading to them marked."""
    f = file_for(session, version_id, process_id)
    if f is None:
        return None
    marks = {i for i in ready_bpmn_ids if i in f.elements}
    marks |= {call_id for call_id, (_owner, called) in f.calls.items() if called in active}
    return Diagram(version_id, f.name, caption, sorted(marks), f.has_layout)
