"""What changed between two deployed versions, and whether (and how) a running instance can move to the new one.

Built on SpiffWorkflow's own diff/migrate facilities (SpecDiff aligns task specs by BPMN id; migrate_workflow
re-points tasks and re-predicts what is ready or waiting). collabflow's rule for a safe move: every element the instance has a task for (open or already done) must
still exist in the new version, and so must every call activity's process. (SpiffWorkflow keeps the old spec
on a task whose element was removed, and such an instance could no longer be loaded after the move.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.util.diff import SpecDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from . import settings
from .element_changes import AttributeChange, changes
from .serialization import spec_registry

OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED


@dataclass(frozen=True)
class ElementChange:
    process_id: str
    element_id: str
    name: str | None
    kind: str  # the task spec class, e.g. UserTask, ExclusiveGateway
    attributes: tuple[str, ...] = ()  # for changed elements: what differs (the serializer's keys)
    details: tuple[AttributeChange, ...] = ()  # for changed elements: each setting with its old and new value


@dataclass
class VersionDiff:
    added_processes: list[str] = field(default_factory=list)
    removed_processes: list[str] = field(default_factory=list)
    added: list[ElementChange] = field(default_factory=list)
    removed: list[ElementChange] = field(default_factory=list)
    changed: list[ElementChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added_processes or self.removed_processes or self.added or self.removed or self.changed)


@dataclass(frozen=True)
class MigrationVerdict:
    can_migrate: bool
    reasons: tuple[str, ...] = ()  # why not, element by element


def _element(process_id, spec, attributes=(), old_spec=None, registry=None):
    details = changes(registry.convert(old_spec), registry.convert(spec)) if old_spec is not None else ()
    return ElementChange(process_id, spec.bpmn_id, spec.bpmn_name, type(spec).__name__, tuple(sorted(attributes)),
                         details)


def diff_versions(old_specs: dict, new_specs: dict) -> VersionDiff:
    """Elements added, removed and changed, process by process (internal SpiffWorkflow specs left out)."""
    registry = spec_registry()
    result = VersionDiff(added_processes=sorted(set(new_specs) - set(old_specs)),
                         removed_processes=sorted(set(old_specs) - set(new_specs)))
    for process_id in sorted(set(old_specs) & set(new_specs)):
        diff = SpecDiff(registry, old_specs[process_id], new_specs[process_id])
        result.added += [_element(process_id, s) for s in diff.added if s.bpmn_id]
        result.removed += [_element(process_id, s) for s in diff.removed if s.bpmn_id]
        result.changed += [_element(process_id, new, keys, old, registry)
                           for old, keys in diff.changed.items() if old.bpmn_id
                           for new in [diff.alignment.get(old) or old]]
        if changed := settings.changes(old_specs[process_id], new_specs[process_id]):  # e.g. a review cadence
            result.changed.append(ElementChange(process_id, process_id, None, "Process settings",
                                                tuple(name for name, _old, _new in changed),
                                                tuple(AttributeChange(name, old, new) for name, old, new in changed)))
        # SpecDiff only walks specs reachable from the start: count unreached old elements as removed too
        reached = {s.name for s in diff.alignment}
        result.removed += [_element(process_id, s) for name, s in old_specs[process_id].task_specs.items()
                           if s.bpmn_id and name not in reached and name not in new_specs[process_id].task_specs]
    return result


def check_migration(wf, new_specs: dict) -> MigrationVerdict:
    """Can this loaded workflow move to `new_specs`? Names each open element that would be lost."""
    new_spec = new_specs.get(wf.spec.name)
    if new_spec is None:
        return MigrationVerdict(False, (f"the new version has no process {wf.spec.name!r}",))
    top, subprocesses = diff_workflow(spec_registry(), wf, new_spec, new_specs)
    reasons = _lost(top.removed)
    for sp_id, sp_diff in subprocesses.items():
        subprocess = wf.subprocesses[sp_id]
        if sp_diff is None:
            reasons.append(f"the call activity's process {subprocess.spec.name!r} is not in the new version")
            continue
        reasons += _lost(sp_diff.removed)
    return MigrationVerdict(not reasons, tuple(reasons))


PREDICTED = TaskState.MAYBE | TaskState.LIKELY | TaskState.FUTURE
RESET = TaskState.READY | TaskState.WAITING  # what migrate_workflow resets, dropping the predictions below it


def _only_predicted(task) -> bool:
    """A task the engine merely predicts below a ready or waiting task: the move drops and predicts it again from
    the new diagram, so its element may go."""
    if not task.has_state(PREDICTED):
        return False
    parent = task.parent
    while parent is not None and parent.workflow is task.workflow:
        if parent.has_state(RESET):
            return True
        parent = parent.parent
    return False


def _lost(tasks) -> list[str]:
    """One reason per removed element (open tasks first), not one per task of it; predictions are not lost."""
    reasons, seen = [], set()
    tasks = [t for t in tasks if not _only_predicted(t)]
    for task in sorted(tasks, key=lambda t: not t.has_state(OPEN)):
        spec = task.task_spec
        if spec.name in seen:
            continue
        seen.add(spec.name)
        label = f"{spec.bpmn_id} ({spec.bpmn_name})" if spec.bpmn_name else (spec.bpmn_id or spec.name)
        if task.has_state(OPEN):
            reasons.append(f"{label} is {TaskState.get_name(task.state).lower()} here but does not exist in the "
                           "new version")
        else:
            reasons.append(f"{label} is in this instance's history but does not exist in the new version")
    return reasons


def migrate(wf, new_specs: dict) -> None:
    """Move a loaded workflow onto `new_specs` in place (check_migration first)."""
    top, subprocesses = diff_workflow(spec_registry(), wf, new_specs[wf.spec.name], new_specs)
    migrate_workflow(top, wf, new_specs[wf.spec.name])
    wf.subprocess_specs = new_specs
    for sp_id, sp_diff in subprocesses.items():
        subprocess = wf.subprocesses[sp_id]
        if sp_diff is not None:
            migrate_workflow(sp_diff, subprocess, new_specs[subprocess.spec.name])


@dataclass(frozen=True)
class OpenElement:
    """A task an instance is at, as the new version would find it."""
    process_id: str
    element_id: str
    name: str | None
    exists: bool  # the new version still has the element
    old_form: str | None = None
    new_form: str | None = None

    @property
    def form_changed(self) -> bool:
        return self.exists and self.old_form != self.new_form


@dataclass(frozen=True)
class MigrationPreview:
    """What a move would mean for one instance: where it is, what the new version has there and ahead of it."""
    verdict: MigrationVerdict
    at: tuple[OpenElement, ...] = ()
    ahead: tuple[ElementChange, ...] = ()  # tasks new in the new version that lie on the instance's way on


def _form(spec) -> str | None:
    return ((getattr(spec, "extensions", None) or {}).get("properties") or {}).get("formJsonSchemaFilename")


def preview_migration(wf, new_specs: dict) -> MigrationPreview:
    """The dry run in full: the verdict, each ready user task in the new version (is it there, did its form
    change) and the new user tasks the instance would reach from where it is (walking into called processes)."""
    verdict = check_migration(wf, new_specs)
    at, starts, running_calls = [], [], set()
    for task in wf.get_tasks(state=OPEN):
        spec = task.task_spec
        process_id = task.workflow.spec.name
        if task.id in wf.subprocesses:
            running_calls.add(task.id)  # its called process is running: the way on is after it
        if not spec.bpmn_id:
            continue
        starts.append((process_id, spec.name, task.id in running_calls))
        if spec.manual and task.state == TaskState.READY:
            new_spec = new_specs.get(process_id, None)
            new_task = new_spec.task_specs.get(spec.name) if new_spec is not None else None
            at.append(OpenElement(process_id, spec.bpmn_id, spec.bpmn_name, new_task is not None, _form(spec),
                                  _form(new_task) if new_task is not None else None))
    old_specs = dict(wf.subprocess_specs or {})
    old_specs[wf.spec.name] = wf.spec
    return MigrationPreview(verdict, tuple(at), tuple(_new_tasks_ahead(starts, old_specs, new_specs)))


def _new_tasks_ahead(starts, old_specs: dict, new_specs: dict) -> list[ElementChange]:
    """User tasks reachable in the new version from the open elements that the old version did not have."""
    seen, found, queue = set(), [], []
    for process_id, name, after_only in starts:
        spec = new_specs.get(process_id)
        if spec is not None and name in spec.task_specs:
            node = spec.task_specs[name]
            queue += [(process_id, out) for out in node.outputs] if after_only else [(process_id, node)]
    while queue:
        process_id, node = queue.pop(0)
        if (process_id, node.name) in seen:
            continue
        seen.add((process_id, node.name))
        old = old_specs.get(process_id)
        if node.bpmn_id and node.manual and (old is None or node.name not in old.task_specs):
            found.append(_element(process_id, node))
        called = getattr(node, "spec", None)
        if isinstance(called, str) and called in new_specs:
            queue.append((called, new_specs[called].start))
        queue += [(process_id, out) for out in node.outputs]
    return found
