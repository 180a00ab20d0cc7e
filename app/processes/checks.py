"""Deploy-time checks that need to know this application, on top of the engine's own validation:
every user task's lane maps to a role, every requirement id a diagram names is in the catalogue, a process
people may start names real roles and a start form the version has, and a service task's literal connector values
name what the app has."""

from __future__ import annotations

from workflows import CompiledVersion, Problem
from workflows.starting import PERSON, declarations

from ..auth.models import ROLES
from ..config import REQUIREMENTS_FILE
from ..requirements import requirement_ids as catalogue_ids
from . import connectors
from .lanes import resolved


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


def lanes_mapped(lane_roles: dict | None = None):
    """Every user task's lane maps to a role: the product's lane names, or the version's own mapping."""
    mapping = resolved(lane_roles)

    def check(compiled: CompiledVersion) -> list[Problem]:
        problems = []
        for _process_id, task_spec in _user_tasks(compiled):
            if task_spec.lane is None:
                problems.append(_at(compiled, task_spec.bpmn_id, "the user task is in no lane: the Staff role will "
                                    "work it", severity="warning"))
            elif task_spec.lane not in mapping:
                problems.append(_at(compiled, task_spec.bpmn_id, f"the lane {task_spec.lane!r} is not mapped to a "
                                    f"role: map it when deploying (lanes known: {', '.join(mapping)})"))
        return problems
    return check


lanes_are_mapped = lanes_mapped()  # with the product's own lane names only


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


def connector_values_known(lane_roles: dict | None = None):
    """The literal values of a service task's connector parameters name what this app has (a role or one of the
    version's lanes, a register)."""
    lanes = resolved(lane_roles)

    def check(compiled: CompiledVersion) -> list[Problem]:
        problems = []
        for spec in compiled.specs.values():
            for task_spec in spec.task_specs.values():
                operation = getattr(task_spec, "operation_name", None)
                if not operation:
                    continue
                expressions = {n: p.get("value") for n, p in (task_spec.operation_params or {}).items()}
                for message in connectors.literal_problems(operation, expressions, lanes):
                    problems.append(_at(compiled, task_spec.bpmn_id, f"the connector {operation!r}: {message}"))
        return problems
    return check


def deploy_checks(catalogue_path: str | None = REQUIREMENTS_FILE, lane_roles: dict | None = None) -> list:
    return [lanes_mapped(lane_roles), starts_are_sound, connector_values_known(lane_roles)] + (
        [requirements_exist(catalogue_path)] if catalogue_path else [])
