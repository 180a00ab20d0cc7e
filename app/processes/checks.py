"""Deploy-time checks that need to know this application, on top of the engine's own validation:
every user task's lane maps to a role, every requirement id a diagram names is in the catalogue, and a process
people may start names real roles and a start form the version has."""

from __future__ import annotations

from workflows import CompiledVersion, Problem
from workflows.starting import PERSON, declarations

from ..auth.models import ROLES
from ..config import REQUIREMENTS_FILE
from ..requirements import requirement_ids as catalogue_ids
from .lanes import DEFAULT_LANE_ROLES


def requirement_ids(path: str) -> frozenset[str]:
    """The ids of the requirements catalogue (`app.requirements`)."""
    return catalogue_ids(path)


def _user_tasks(compiled: CompiledVersion):
    for process_id, spec in compiled.specs.items():
        for task_spec in spec.task_specs.values():
            if getattr(task_spec, "manual", False) and task_spec.bpmn_id:
                yield process_id, task_spec


def _at(compiled: CompiledVersion, element_id: str, message: str, severity="error") -> Problem:
    element = compiled.elements.get(element_id)
    return Problem(message, file=element.file if element else None, element_id=element_id,
                   element_name=element.name if element else None, line=element.line if element else None,
                   severity=severity)


def lanes_are_mapped(compiled: CompiledVersion) -> list[Problem]:
    problems = []
    for _process_id, task_spec in _user_tasks(compiled):
        if task_spec.lane is None:
            problems.append(_at(compiled, task_spec.bpmn_id, "the user task is in no lane: the Staff role will "
                                "work it", severity="warning"))
        elif task_spec.lane not in DEFAULT_LANE_ROLES:
            problems.append(_at(compiled, task_spec.bpmn_id, f"the lane {task_spec.lane!r} is not mapped to a role "
                                f"(lanes: {', '.join(DEFAULT_LANE_ROLES)})"))
    return problems


def requirements_exist(catalogue_path: str):
    known = requirement_ids(catalogue_path)

    def check(compiled: CompiledVersion) -> list[Problem]:
        problems = []
        for spec in compiled.specs.values():
            for task_spec in spec.task_specs.values():
                properties = (getattr(task_spec, "extensions", None) or {}).get("properties", {}) or {}
                for rid in filter(None, (p.strip() for p in properties.get("requirements", "").split(","))):
                    if rid not in known:
                        problems.append(_at(compiled, task_spec.bpmn_id, f"requirement id {rid!r} is not in "
                                            "the requirements catalogue"))
        return problems
    return check


def starts_are_sound(compiled: CompiledVersion) -> list[Problem]:
    problems = []
    for declared in declarations(compiled.specs):
        if declared.how != PERSON:
            continue
        spec = compiled.specs[declared.process_id]
        start = next(ts for ts in spec.task_specs.values() if type(ts).__name__ == "StartEvent")
        unknown = [r for r in declared.roles if r not in ROLES]
        if unknown:
            problems.append(_at(compiled, start.bpmn_id, f"start_roles names unknown roles {', '.join(unknown)} "
                                f"(roles: {', '.join(ROLES)})"))
        if declared.form and declared.form not in compiled.forms:
            problems.append(_at(compiled, start.bpmn_id, f"the start form {declared.form!r} is not among the "
                                "version's forms"))
    return problems


def deploy_checks(catalogue_path: str | None = REQUIREMENTS_FILE) -> list:
    return [lanes_are_mapped, starts_are_sound] + ([requirements_exist(catalogue_path)] if catalogue_path else [])
