"""How a process says it may be started: read from its start event, so a process owner declares it in the diagram.

A none start event with the extension property `start_roles` (comma-separated roles) is started by a person with
one of those roles; `start_form` names the JSON Schema form they fill in to start it, and `start_title` the field
of that form that names the instance. A timer or message start event says the process starts on a timer or on a
message instead. A process declaring none of this is started only by the product itself (the lifecycle, by
starting a relationship) or by another process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

PERSON, TIMER, MESSAGE = "person", "timer", "message"


@dataclass(frozen=True)
class StartDeclaration:
    process_id: str
    name: str  # the process's name as the diagram gives it
    how: str  # person | timer | message
    roles: tuple[str, ...] = ()
    form: str | None = None  # the start form's file name (e.g. `nonconformity_raise.schema.json`)
    ui_form: str | None = None
    title_field: str | None = None
    documentation: str | None = None


def declarations(specs: Mapping[str, object]) -> list[StartDeclaration]:
    """Every process of a version that declares how it starts, by process id."""
    found = []
    for process_id, spec in sorted(specs.items()):
        declared = _declaration(process_id, spec)
        if declared is not None:
            found.append(declared)
    return found


def _declaration(process_id: str, spec) -> StartDeclaration | None:
    start = next((ts for ts in spec.task_specs.values() if type(ts).__name__ == "StartEvent"), None)
    if start is None:
        return None
    name = getattr(spec, "description", None) or process_id
    kind = type(getattr(start, "event_definition", None)).__name__
    if "Timer" in kind:
        return StartDeclaration(process_id, name, TIMER)
    if "Message" in kind:
        return StartDeclaration(process_id, name, MESSAGE)
    properties = (getattr(start, "extensions", None) or {}).get("properties") or {}
    roles = tuple(r.strip() for r in (properties.get("start_roles") or "").split(",") if r.strip())
    if not roles:
        return None
    form = (properties.get("start_form") or "").strip() or None
    ui_form = form.replace(".schema.json", ".uischema.json") if form and form.endswith(".schema.json") else None
    return StartDeclaration(process_id, name, PERSON, roles, form, ui_form,
                            (properties.get("start_title") or "").strip() or None,
                            getattr(spec, "documentation", None))
