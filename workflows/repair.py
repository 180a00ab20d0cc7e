"""Putting a running instance right by hand: skip a script task that failed, move a token back to an element done
before (reopen a task or a stage), or past a waiting task (skip it).

These act on a loaded SpiffWorkflow workflow; `WorkflowEngine.skip_script` and `WorkflowEngine.move_token` load,
call them, run engine steps and save (or, for a dry run, only report what would change). Whatever SpiffWorkflow 3.2
cannot do is refused with MoveRefused naming why, before anything is saved.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID, uuid4

from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptEngineTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState

from .errors import MoveRefused, TaskNotFound, TaskNotReady
from .user_tasks import Event

SKIP = None  # `to_element` of a move that skips the waiting task instead of going back


@dataclass(frozen=True)
class DoneElement:
    """An activity done at least once in an instance: a token may be moved back to it."""

    bpmn_id: str
    name: str
    process_id: str  # the (called) process holding it
    kind: str  # task | script | subprocess (a call activity: a stage)


def element_name(spec) -> str:
    return spec.bpmn_name or spec.bpmn_id or spec.name


def find_element(specs: dict, bpmn_id: str, process_id: str | None = None):
    """The task spec of element `bpmn_id` in a version's processes (in `process_id` only, when given), or None."""
    for name, spec in specs.items():
        if process_id is not None and name != process_id:
            continue
        for task_spec in spec.task_specs.values():
            if getattr(task_spec, "bpmn_id", None) == bpmn_id:
                return task_spec
    return None


class _SkippingScripts:
    """The instance's script engine, except that the first time script task `bpmn_id` (of `process_id`) runs, its
    scripts (pre-, main and post-script) are not run and the task completes as if they had."""

    def __init__(self, inner, bpmn_id: str, process_id: str | None):
        self._inner, self._bpmn_id, self._process_id = inner, bpmn_id, process_id
        self.skipped = None  # the skipped task, once reached

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def _is_target(self, task) -> bool:
        spec = task.task_spec
        return (isinstance(spec, ScriptEngineTask) and getattr(spec, "bpmn_id", None) == self._bpmn_id
                and (self._process_id is None or task.workflow.spec.name == self._process_id))

    def execute(self, task, script, external_context=None):
        if self.skipped is None and self._is_target(task):
            self.skipped = task
        if self.skipped is task:
            return True
        return self._inner.execute(task, script, external_context)


def skip_script(wf, advance: Callable, bpmn_id: str, process_id: str | None, reason: str | None) -> list[Event]:
    """Run the instance on until script task `bpmn_id` is reached, complete it without running its script, and go
    on (`advance(wf, events)` runs the engine steps and due timers, adding what it did on its own, such as tasks a
    rework carried forward). Raises MoveRefused when the element is not a script task, TaskNotReady when the
    instance does not reach it now."""
    spec = find_element({wf.spec.name: wf.spec, **wf.subprocess_specs}, bpmn_id, process_id)
    if spec is None:
        raise MoveRefused(f"the diagram has no element {bpmn_id!r}", bpmn_id=bpmn_id)
    if not isinstance(spec, ScriptEngineTask):
        raise MoveRefused(f"{element_name(spec)!r} ({bpmn_id}) is not a script task: only a script task that "
                          "failed can be skipped", bpmn_id=bpmn_id)
    waiting = [t for t in wf.get_tasks() if t.task_spec is spec and t.state in (TaskState.READY, TaskState.ERROR)]
    for task in waiting:  # left ready or in error by an earlier run: complete it where it stands
        task.complete()
    engine = _SkippingScripts(wf.script_engine, bpmn_id, process_id)
    wf.script_engine = engine
    carried: list[Event] = []
    try:
        advance(wf, carried)
    finally:
        wf.script_engine = engine._inner
    skipped = waiting[0] if waiting else engine.skipped
    if skipped is None:
        raise TaskNotReady(f"the instance does not reach {element_name(spec)!r} now: there is nothing to skip",
                           bpmn_id=bpmn_id)
    return [Event("task.skipped", {"task_id": str(skipped.id), "bpmn_id": bpmn_id, "name": element_name(spec),
                                   "process_id": skipped.workflow.spec.name, "reason": reason}), *carried]


def move_token(wf, from_task_id: str, to_element: str | None, reason: str | None) -> list[Event]:
    """Move the token of the ready user task `from_task_id`: back to element `to_element`, done before in this
    instance (it and everything after it run again; the tasks after it are withdrawn), or, with `to_element` None,
    past the waiting task (completed without data). Raises TaskNotFound, TaskNotReady, MoveRefused."""
    task = _task(wf, from_task_id)
    if task.state != TaskState.READY or not task.task_spec.manual:
        raise TaskNotReady(f"{element_name(task.task_spec)!r} is {TaskState.get_name(task.state).lower()}, not a "
                           "waiting task: only a waiting task's token can be moved", task_id=from_task_id)
    moved = {"from_task_id": from_task_id, "from_bpmn_id": task.task_spec.bpmn_id,
             "from_name": element_name(task.task_spec), "reason": reason}
    if to_element is SKIP:
        task.run()
        return [Event("token.moved", {**moved, "how": "skip", "to_bpmn_id": None, "to_name": None})]
    target = _done_before(wf, to_element)
    # the reopened element starts from the data it had when it was done, as a rework loop does: a reopened form
    # shows what was submitted
    wf.reset_from_task_id(target.id, copy.deepcopy(target.data))
    if target.task_spec.manual:
        _renew_id(target)
    _forget_removed_waits(wf)
    if _still_ready(wf, from_task_id):
        raise MoveRefused(f"{element_name(target.task_spec)!r} does not come before {moved['from_name']!r} in this "
                          "instance: reopening it would not move that task's token", to_element=to_element)
    return [Event("token.moved", {**moved, "how": "reopen", "to_bpmn_id": to_element,
                                  "to_name": element_name(target.task_spec)})]


def done_elements(wf) -> list[DoneElement]:
    """The activities done in the instance (its call activities' included), first done first, each once."""
    found: dict[tuple[str, str], DoneElement] = {}
    done = sorted((t for t in wf.get_tasks() if t.state == TaskState.COMPLETED and _movable(t.task_spec)),
                  key=lambda t: t.last_state_change)
    for task in done:
        spec = task.task_spec
        kind = ("script" if isinstance(spec, ScriptEngineTask) else
                "subprocess" if isinstance(spec, SubWorkflowTask) else "task")
        found.setdefault((task.workflow.spec.name, spec.bpmn_id),
                         DoneElement(spec.bpmn_id, element_name(spec), task.workflow.spec.name, kind))
    return list(found.values())


def _movable(spec) -> bool:
    """An activity a token can be moved back to: a task a person works, a script task, a call activity."""
    return bool(getattr(spec, "bpmn_id", None)) and (
        spec.manual or isinstance(spec, ScriptEngineTask | SubWorkflowTask))


def _task(wf, task_id: str):
    try:
        task = wf.get_task_from_id(UUID(str(task_id)))
    except (ValueError, TaskNotFoundException):
        task = None
    if task is None:
        raise TaskNotFound(f"the instance has no task {task_id}", task_id=str(task_id))
    return task


def _done_before(wf, bpmn_id: str):
    """The latest completed run of element `bpmn_id` in the instance (its call activities included)."""
    done = [t for t in wf.get_tasks() if getattr(t.task_spec, "bpmn_id", None) == bpmn_id
            and t.state == TaskState.COMPLETED and _movable(t.task_spec)]
    if not done:
        stopped = next((t for t in wf.get_tasks() if getattr(t.task_spec, "bpmn_id", None) == bpmn_id
                        and t.state == TaskState.CANCELLED and _movable(t.task_spec)), None)
        if stopped is not None:
            raise MoveRefused(f"{element_name(stopped.task_spec)!r} was interrupted, not done, in this instance: a "
                              "token moves back only to an element done before", to_element=bpmn_id)
        raise MoveRefused(f"{bpmn_id!r} has not been done in this instance: a token moves back only to an element "
                          "done before, or past the waiting task", to_element=bpmn_id)
    return max(done, key=lambda t: t.last_state_change)


def _renew_id(task) -> None:
    """SpiffWorkflow's reset keeps the reopened task's id, but to the people who work it (and to the app's task
    rows, one per task id) it is a new task, not the one done before: give it a new id."""
    old, new = task.id, uuid4()
    tasks = task.workflow.tasks
    # in place and in the same position: a task's stored data is a delta on its parent's, so the serializer must
    # meet a parent before its children
    renamed = [(new if task_id == old else task_id, each) for task_id, each in tasks.items()]
    tasks.clear()
    tasks.update(renamed)
    task.id = new
    parent = task.parent
    if parent is not None:
        parent._children = [new if child == old else child for child in parent._children]
    for child in task.children:
        child._parent = new
    manager = task.workflow.top_workflow.event_manager
    if manager.tasks.pop(old, None) is not None:
        manager.tasks[new] = task


def _forget_removed_waits(wf) -> None:
    """SpiffWorkflow's reset removes tasks from the tree but leaves their catch events with the event manager (so a
    timer of a withdrawn branch would still fire in this run): keep only the waits still in the tree."""
    manager = wf.event_manager
    manager.tasks = {task_id: task for task_id, task in manager.tasks.items() if _in_tree(wf, task)}


def _in_tree(wf, task) -> bool:
    try:
        return wf.get_task_from_id(task.id) is task
    except TaskNotFoundException:
        return False


def _still_ready(wf, task_id: str) -> bool:
    try:
        task = _task(wf, task_id)
    except TaskNotFound:
        return False
    return task.state == TaskState.READY
