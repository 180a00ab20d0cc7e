"""Finished loop rounds leave the task tree, so a completion costs the same in a loop's 200th round as in its first.

SpiffWorkflow keeps every task a token ever passed: a loop adds its round's tasks below the last round's, and
loading, stepping and saving the instance all walk that whole tree on every action (engine notes, section 3). Most
of it is dead: a finished round nothing can return to except as its newest occurrence.

`compact` removes a completed task from the token's path when a newer completed occurrence of the same element
lies below it on that path, together with its finished side branches (a parallel round's other branches, a
boundary event that did not fire) when each of their completed elements also ran again below. Its child takes its
place under its parent. Where the token splits into branches that are all still running (the lifecycle's stages
beside its exit-trigger watcher), each branch's own path is compacted the same way. What it keeps:

- the newest occurrence of every element, so the set of elements done (path highlighting, moving a token back,
  `instance_data`'s last completed task) and a parallel join's previous firing (workflows.joins) are unchanged;
- every task that is not finished, call activities and their sub-workflows, the root, the start, and each
  workflow's `last_task`;
- when asked (`history=True`: the scenario runner, whose paths list every element in the order it completed),
  `[process, element, completed at]` for each removed completed task, in the workflow's `compacted` list, stored
  with the state. The product does not ask: the audit trail already has that order, and a list growing with every
  round would bring back the growth this removes.

Task data needs nothing: SpiffWorkflow holds each task's data whole in memory and stores it as a delta against
whichever parent the task has when it is saved.
"""

from __future__ import annotations

from SpiffWorkflow.util.task import TaskState

COMPACTED = "compacted"  # the attribute on a top-level BpmnWorkflow, and the key in its stored state
_FINISHED = TaskState.COMPLETED | TaskState.CANCELLED


def compact(wf, *, history: bool = False) -> int:
    """Remove finished rounds from `wf` and each of its sub-workflows; how many tasks went."""
    history = history_of(wf) if history else None
    removed = _compact_one(wf, history)
    for sub in list(wf.subprocesses.values()):
        removed += _compact_one(sub, history)
    return removed


def history_of(wf) -> list:
    """The completed tasks removed from a top-level workflow: [process id, element id, completed at]."""
    history = getattr(wf, COMPACTED, None)
    if history is None:
        history = []
        setattr(wf, COMPACTED, history)
    return history


def _compact_one(wf, history: list | None) -> int:
    finished = _finished_subtrees(wf.task_tree)
    keep = set(wf.top_workflow.subprocesses) | ({wf.last_task.id} if wf.last_task is not None else set())
    keep |= {wf.task_tree.id, *wf.task_tree._children}  # the root and the start
    doomed = []
    for path in _token_paths(wf.task_tree, finished):
        doomed += _removable(path, keep)
    gone = []
    for task, side in doomed:  # bottom up: each task's path child (re-hung already if it went too) moves up
        side_ids = {t.id for t in side}
        child = next(c for c in task._children if c not in side_ids)
        parent = task.parent
        parent._children = [child if c == task.id else c for c in parent._children]
        wf.tasks[child]._parent = parent.id
        for removed in (task, *side):
            del wf.tasks[removed.id]
        gone += [t for t in (task, *side) if t.state == TaskState.COMPLETED]
    process = wf.spec.name
    if history is not None:
        history.extend([process, t.task_spec.bpmn_id or t.task_spec.name, t.last_state_change]
                       for t in sorted(gone, key=lambda t: t.last_state_change))
    return sum(1 + len(side) for _, side in doomed)


def _removable(path: list, keep: set) -> list:
    """(task, its side branches' tasks) for each task of one path that may go, from the bottom up."""
    seen = {t.task_spec for t in _subtree(path[-1]) if t.state == TaskState.COMPLETED}  # what ran below the path
    found = []
    for index in range(len(path) - 2, -1, -1):
        task, child = path[index], path[index + 1]
        side = [t for c in task.children if c is not child for t in _subtree(c)]
        if (task.state == TaskState.COMPLETED and task.task_spec in seen and task.id not in keep
                and all(t.id not in keep and (t.state != TaskState.COMPLETED or t.task_spec in seen) for t in side)):
            found.append((task, side))
        if task.state == TaskState.COMPLETED:
            seen.add(task.task_spec)
        seen.update(t.task_spec for t in side if t.state == TaskState.COMPLETED)
    return found


def _token_paths(root, finished: set):
    """The token's own histories: from the root down while exactly one child has work left below it; where several
    do, a path from each of them."""
    todo = [root]
    while todo:
        path = [todo.pop()]
        while True:
            live = [c for c in path[-1].children if c.id not in finished]
            if len(live) != 1:
                break
            path.append(live[0])
        todo.extend(live)
        if len(path) > 1:
            yield path


def _finished_subtrees(root) -> set:
    """The ids of the tasks whose whole subtree is finished (completed or cancelled), in one pass."""
    finished = set()
    for task in reversed(list(_subtree(root))):  # children before their parents
        if task.state & _FINISHED and all(c in finished for c in task._children):
            finished.add(task.id)
    return finished


def _subtree(task):
    todo = [task]
    while todo:
        current = todo.pop()
        yield current
        todo.extend(current.children)
