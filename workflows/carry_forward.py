"""Rework that reopens only what the gate picked. A gate's post-script lists, in the data variable
`carry_forward`, the stage's tasks the SERs did not tick for rework; when one of them is ready again it is
completed at once with the answers it already has (its own post-script runs, as on any completion), and reported
as a `task.carried_forward` event. The gate empties the list on any other decision, so nothing else is skipped."""

from __future__ import annotations

from SpiffWorkflow.util.task import TaskState

from .user_tasks import Event

CARRY_FORWARD = "carry_forward"


def carry_forward(wf) -> list[Event]:
    """Complete the ready user tasks their data says to carry forward; their events (empty when none)."""
    carried = []
    for task in wf.get_tasks(state=TaskState.READY, manual=True):
        names = task.data.get(CARRY_FORWARD)
        if isinstance(names, list) and task.task_spec.bpmn_id in names:
            task.run()
            carried.append(Event("task.carried_forward", {"task_id": str(task.id), "bpmn_id": task.task_spec.bpmn_id,
                                                          "name": task.task_spec.bpmn_name}))
    return carried
