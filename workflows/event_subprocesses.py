"""Event sub-processes that SpiffWorkflow 3.2 can run, run correctly (engine notes P4, P5).

Two library behaviours are put right here, for every workflow:
- Triggering a signal or message event sub-process connected it to the process's start and end **in the spec**
  (`BpmnStartTask.trigger_wf`), so every later instance built from the same spec object (the engine shares one
  per version) started with that event sub-process running, waiting for its event, and never completed (P5). The
  triggered task needs no such connection: a triggered child is never dropped, and its data is merged into the
  process's data at the end (below) as the connection did.
- A timer event sub-process is started with its process and waits at its start event; the process's end waited
  for it too, so an instance whose work was done stayed open until the timer fired. BPMN ends a process when its
  flow is done: an event sub-process whose event has not happened yet is then cancelled. So the end does not wait
  for one that has not started, and cancels it when the process ends. One that has started (a timer fired, a
  signal arrived) is waited for, as BPMN says.

Interrupting event sub-processes stay unsupported: SpiffWorkflow 3.2 does not interrupt the rest of the process
(P4), so validation refuses them (`specs.event_subprocess_problems`).
"""

from __future__ import annotations

from collections.abc import Iterable

from SpiffWorkflow.bpmn.specs.control import BpmnStartTask, _EndJoin
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity, SubWorkflowTask
from SpiffWorkflow.util.task import TaskIterator, TaskState


def wire(specs: Iterable) -> None:
    """Connect each signal or message event sub-process of these process specs to its process's start (as an
    input only: the start does not run it) and end, once, when the specs are built or loaded, so that triggering
    one never changes a spec. Idempotent."""
    for spec in specs:
        for name in spec.start.trigger_specs:
            task_spec = spec.task_specs[name]
            if spec.start.name not in task_spec._inputs:
                task_spec._inputs.append(spec.start.name)
            if spec.end.name not in task_spec._outputs:
                task_spec.connect(spec.end)


def is_event_subprocess(task_spec) -> bool:
    """SpiffWorkflow 3.2 gives an event sub-process the class of a plain embedded one (it reads `triggeredByEvent`
    in the BPMN namespace, where the attribute never is); it is the sub-process the process's start leads to."""
    return (isinstance(task_spec, SubWorkflowTask) and not isinstance(task_spec, CallActivity)
            and task_spec._wf_spec.start.name in task_spec._inputs)


def _trigger_wf(self, my_task, spec_name):
    """Start one run of an event sub-process below the process's start, without changing the shared spec (it was
    wired when the spec was built: `wire`)."""
    child = my_task._add_child(self._wf_spec.task_specs.get(spec_name), TaskState.FUTURE)
    child.triggered = True
    # its path to the process's end (where its data is merged): the end join and the end, as a start predicts them
    child.task_spec._predict(child, mask=TaskState.NOT_FINISHED_MASK)
    child.task_spec._update(child)
    return child.id


def _not_started(task) -> bool:
    """An event sub-process task whose event has not happened: its run waits at its start event."""
    if task.state != TaskState.STARTED or not is_event_subprocess(task.task_spec):
        return False
    run = task.workflow.top_workflow.subprocesses.get(task.id)
    starts = [t for t in (run.tasks.values() if run is not None else []) if isinstance(t.task_spec, StartEvent)]
    return bool(starts) and all(t.state == TaskState.WAITING for t in starts)


def _unfinished(my_task):
    """The tasks the end waits for, apart from itself (what SpiffWorkflow's end join iterates)."""
    return [t for t in TaskIterator(my_task.workflow.task_tree, state=TaskState.NOT_FINISHED_MASK,
                                    end_at_spec=my_task.task_spec.name) if t != my_task]


def _waiting_for_its_event(task) -> bool:
    while task is not None:
        if _not_started(task):
            return True
        task = task.parent
    return False


def _check_threshold_unstructured(self, my_task):
    return all(_waiting_for_its_event(task) for task in _unfinished(my_task))


_spiff_end_run_hook = _EndJoin._run_hook


def _end_run_hook(self, my_task):
    for task in _unfinished(my_task):
        if _not_started(task):
            task.cancel()
    return _spiff_end_run_hook(self, my_task)


BpmnStartTask.trigger_wf = _trigger_wf
_EndJoin._check_threshold_unstructured = _check_threshold_unstructured
_EndJoin._run_hook = _end_run_hook
