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

from .serialization import spec_registry

OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED


@dataclass(frozen=True)
class ElementChange:
    process_id: str
    element_id: str
    name: str | None
    kind: str  # the task spec class, e.g. UserTask, ExclusiveGateway
    attributes: tuple[str, ...] = ()  # for changed elements: what differs


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


def _element(process_id, spec, attributes=()):
    return ElementChange(process_id, spec.bpmn_id, spec.bpmn_name, type(spec).__name__, tuple(sorted(attributes)))


def diff_versions(old_specs: dict, new_specs: dict) -> VersionDiff:
    """Elements added, removed and changed, process by process (internal SpiffWorkflow specs left out)."""
    registry = spec_registry()
    result = VersionDiff(added_processes=sorted(set(new_specs) - set(old_specs)),
                         removed_processes=sorted(set(old_specs) - set(new_specs)))
    for process_id in sorted(set(old_specs) & set(new_specs)):
        diff = SpecDiff(registry, old_specs[process_id], new_specs[process_id])
        result.added += [_element(process_id, s) for s in diff.added if s.bpmn_id]
        result.removed += [_element(process_id, s) for s in diff.removed if s.bpmn_id]
        result.changed += [_element(process_id, s, changes) for s, changes in diff.changed.items() if s.bpmn_id]
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


def _lost(tasks) -> list[str]:
    """One reason per removed element (open tasks first), not one per task of it."""
    reasons, seen = [], set()
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
