"""A parallel join inside a loop waits for this round's branches only.

SpiffWorkflow 3.2's parallel gateway counts a branch as arrived when any task of the join's spec has a
completed parent on that incoming flow, and in a loop's second round that includes the join tasks the first
round left behind (cancelled when the first round fired). So a joint gate sent back for rework fires in the
next round as soon as one side decides, with the other side's old answer. A join that already fired earlier in
this token's history (an ancestor of the same spec) marks where the round began: only tasks below it count.

It merged the branches' data the same way: every finished join task of the spec, the earlier rounds' too, so a
list one side answered in the first round came back in the second (its list merge keeps the older items) and a
joint gate's second rework reopened the first one's picks. The join merges this round's branches only.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState


def _previous_firing(my_task):
    task = my_task.parent
    while task is not None and task.task_spec is not my_task.task_spec:
        task = task.parent
    return task


def _check_threshold_unstructured(self, my_task):
    tasks = my_task.workflow.get_tasks(spec_name=self.name)
    previous = _previous_firing(my_task)
    if previous is not None:  # a later round of a loop: the earlier rounds' tokens were consumed when it fired
        tasks = [t for t in tasks if t is my_task or t.is_descendant_of(previous)]
    waiting_inputs = set(self.inputs)

    def remove_ancestor(task):
        if task.task_spec in waiting_inputs:
            waiting_inputs.remove(task.task_spec)
        elif task.parent is not None:
            remove_ancestor(task.parent)

    for task in tasks:
        if task.is_descendant_of(my_task):  # reached only after this join completes: not waited on
            remove_ancestor(task)
        elif my_task.is_descendant_of(task):
            continue
        elif task.parent.state == TaskState.COMPLETED and task.parent.task_spec in waiting_inputs:
            waiting_inputs.remove(task.parent.task_spec)
    return len(waiting_inputs) == 0


def _run_hook(self, my_task):
    """SpiffWorkflow's UnstructuredJoin._run_hook, with the other branches taken from this round only."""
    previous = _previous_firing(my_task)
    others = [t for t in my_task.workflow.tasks.values()
              if t.task_spec == self and t.has_state(TaskState.FINISHED_MASK) and not my_task.is_descendant_of(t)
              and (previous is None or t.is_descendant_of(previous))]
    for task in sorted(others, key=lambda t: t.last_state_change):
        DeepMerge.merge(my_task.data, task.parent.data)  # the branch's data, not what a join already merged
        if task.has_state(TaskState.COMPLETED):
            task._drop_children(force=True)
    my_task._inherit_data()
    return True


ParallelGateway._check_threshold_unstructured = _check_threshold_unstructured
ParallelGateway._run_hook = _run_hook
