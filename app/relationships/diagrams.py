"""The diagrams of a deployed version as bpmn-js draws them, and which of their shapes are active now.

Versions never change, so what is read from a version's files is kept per version for the process's life.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import services as access
from ..auth.models import User
from ..errors import NotFound
from ..processes.models import ProcessInstance, ProcessVersion, VersionFile
from ..stages import stage_of_process

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
    completed: list[str] = field(default_factory=list)  # the path taken: completed tasks and stages


_cache: dict[tuple[int, str | None], dict[str, DiagramFile]] = {}
_lock = threading.Lock()


def files_of(session: Session, version_id: int) -> dict[str, DiagramFile]:
    """The parsed diagrams of a version, kept by (id, content hash): an id given again to other content (a
    database emptied and filled again, as tests do) is never served another version's diagrams."""
    key = (version_id, session.scalar(select(ProcessVersion.content_hash).where(ProcessVersion.id == version_id)))
    with _lock:
        if key in _cache:
            return _cache[key]
    rows = session.execute(select(VersionFile.name, VersionFile.content).where(
        VersionFile.version_id == version_id, VersionFile.kind == "bpmn")).all()
    parsed = {name: _parse(name, content) for name, content in rows}
    with _lock:
        _cache[key] = parsed
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


def diagram_xml(session: Session, version_id: int, name: str, viewer: User | None = None) -> bytes:
    """A deployed diagram's XML as `viewer` may read it. Our own users read every diagram; a partner's user only
    a diagram of joint processes (never our stages 1-4) in a version one of its relationships runs on. Anything
    else is NotFound, as if it did not exist: a partner learns nothing of our internal processes."""
    missing = NotFound(f"version {version_id} has no diagram {name!r}")
    if viewer is not None and not access.sees_everything(viewer) and not _partner_may_read(
            session, viewer, version_id, name):
        raise missing
    content = session.scalar(select(VersionFile.content).where(
        VersionFile.version_id == version_id, VersionFile.kind == "bpmn", VersionFile.name == name))
    if content is None:
        raise missing
    return content


def _partner_may_read(session: Session, viewer: User, version_id: int, name: str) -> bool:
    theirs = access.relationships_of(viewer.organisation_id)
    runs_there = session.scalar(select(ProcessInstance.id).where(
        ProcessInstance.version_id == version_id, ProcessInstance.root_id.in_(theirs)).limit(1))
    if runs_there is None:
        return False
    found = files_of(session, version_id).get(name)
    return found is not None and bool(found.processes) and all(
        access.joint_process(process_id) for process_id in found.processes)


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


def reachable(files: dict[str, DiagramFile], process_id: str) -> set[str]:
    """The processes `process_id` calls, directly or through the processes it calls."""
    calls = [call for f in files.values() for call in f.calls.values()]
    found, todo = set(), [process_id]
    while todo:
        current = todo.pop()
        for owner, called in calls:
            if owner == current and called not in found:
                found.add(called)
                todo.append(called)
    return found


def diagram(session: Session, version_id: int, process_id: str, caption: str, *, ready_bpmn_ids: set[str],
            active: set[str], completed: set[tuple[str, str]] = frozenset(),
            done_stages: set[int] = frozenset()) -> Diagram | None:
    """The diagram of `process_id` with its ready tasks and the call activities leading to them marked, and
    the path already taken: `completed` (process id, bpmn id) tasks, and the call activities whose stages
    are all in `done_stages` (or, leading to no stage, whose called processes completed tasks and are idle).
    """
    files = files_of(session, version_id)
    f = next((f for f in files.values() if process_id in f.processes), None)
    if f is None:
        return None
    marks = {i for i in ready_bpmn_ids if i in f.elements}
    marks |= {call_id for call_id, (_owner, called) in f.calls.items() if called in active}
    done = {bpmn_id for owner, bpmn_id in completed if owner in f.processes and bpmn_id in f.elements}
    worked = {owner for owner, _bpmn_id in completed}
    for call_id, (_owner, called) in f.calls.items():
        if called in active:
            continue
        below = {called} | reachable(files, called)
        stages = {stage_of_process(p) for p in below} - {None}
        if (stages and stages <= done_stages) or (not stages and below & worked):
            done.add(call_id)
    return Diagram(version_id, f.name, caption, sorted(marks), f.has_layout, sorted(done - marks))
