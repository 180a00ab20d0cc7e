"""Settings a process declares for its runs, e.g. the cadence of each recurring review.

A setting is a `spiffworkflow:property` of the `bpmn:process` element itself (`cadence:R.PM` = `P3M`), so a process
owner changes "quarterly" to "monthly" in one field of the modeller instead of inside a script. Scripts read them
through `setting(name, default)` and `settings(prefix)` at run time, from the spec the instance runs on *now*: a
relationship migrated to a new version gets the new value the next time a script reads it.

Lookup order: the process the script runs in, then the processes that called it (innermost first), within one
instance; else the default. (A separate instance, e.g. a periodic review a script started, reads its own process's.)
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping

from . import periods
from .errors import Problem

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CADENCE_PREFIX = "cadence:"

_running_task: contextvars.ContextVar[object | None] = contextvars.ContextVar("running_task", default=None)


def declared(tree) -> dict[str, dict[str, tuple[str, int | None]]]:
    """{process id: {setting name: (value, file line)}} of one parsed diagram."""
    found: dict[str, dict[str, tuple[str, int | None]]] = {}
    for process in tree.iter(f"{{{BPMN_NS}}}process"):
        values = found.setdefault(process.get("id") or "", {})
        for prop in process.iterfind(f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}properties/"
                                     f"{{{SPIFF_NS}}}property"):
            name = (prop.get("name") or "").strip()
            if name:
                values[name] = ((prop.get("value") or "").strip(), prop.sourceline)
    return found


def attach(specs: Mapping[str, object], trees: Mapping[str, object]) -> None:
    """Give every parsed process spec its declared settings (`spec.settings`, stored with the spec)."""
    by_process = {}
    for tree in trees.values():
        by_process.update(declared(tree))
    for process_id, spec in specs.items():
        spec.settings = {name: value for name, (value, _line) in by_process.get(process_id, {}).items()}


def problems(trees: Mapping[str, object]) -> list[Problem]:
    """A `cadence:` setting must be an ISO 8601 period (P3M, P2W, P10D): located at its property's line."""
    found = []
    for file, tree in trees.items():
        for process_id, values in declared(tree).items():
            for name, (value, line) in values.items():
                if not name.startswith(CADENCE_PREFIX):
                    continue
                try:
                    periods.parse_period(value)
                except ValueError:
                    found.append(Problem(
                        f"the review cadence {name.removeprefix(CADENCE_PREFIX)!r} is {value!r}, which is not a "
                        "period: write it as an ISO 8601 period, e.g. P3M for every three months, P1M for monthly, "
                        "P2W for every two weeks", file=file, element_id=process_id, line=line))
    return found


def of_spec(spec) -> dict[str, str]:
    """The settings a process spec carries ({} for a spec stored before settings existed)."""
    return dict(getattr(spec, "settings", None) or {})


def changes(old_spec, new_spec) -> list[tuple[str, str | None, str | None]]:
    """The settings that differ between two versions of a process: (name, old value, new value), for the diff."""
    old, new = of_spec(old_spec), of_spec(new_spec)
    return [(name, old.get(name), new.get(name)) for name in sorted(set(old) | set(new)) if old.get(name) != new.get(name)]


class running:
    """While a script or expression of `task` runs: what `setting()` reads the specs from."""

    def __init__(self, task):
        self.task = task

    def __enter__(self):
        self._token = _running_task.set(self.task)

    def __exit__(self, *exc):
        _running_task.reset(self._token)


def _specs_in_order(task) -> Iterator[object]:
    """The spec of the task's process, then those of the processes that called it."""
    workflow = getattr(task, "workflow", None)
    while workflow is not None:
        yield workflow.spec
        workflow = getattr(workflow, "parent_workflow", None)


def setting(name: str, default=None):
    """The current value of setting `name` for the running instance, or `default` when no process declares it."""
    task = _running_task.get()
    if task is None:
        return default
    for spec in _specs_in_order(task):
        value = of_spec(spec).get(name)
        if value:
            return value
    return default


def settings(prefix: str = "") -> dict[str, str]:
    """Every setting whose name starts with `prefix`, keyed without it (inner processes win over outer ones)."""
    task = _running_task.get()
    if task is None:
        return {}
    found: dict[str, str] = {}
    for spec in _specs_in_order(task):
        for name, value in of_spec(spec).items():
            if name.startswith(prefix) and value:
                found.setdefault(name.removeprefix(prefix), value)
    return found
