"""An element's settings in a process owner's words, and what differs between two versions of one element.

SpecDiff names the serializer's keys that differ (`extensions`, `cond_task_specs`); a process owner needs the
setting and its old and new value ("form: s5_plan.schema.json → s5_plan_v2.schema.json", "condition to
s5_end: …"), and for scripts the lines that changed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

# properties the panel shows under their own names; any other property is "property <name>"
_PROPERTY_LABELS = {"formJsonSchemaFilename": "form", "formUiSchemaFilename": "form layout (UI schema)",
                    "dueIn": "due period", "requirements": "requirement ids", "approvalGate": "approval gate",
                    "gateStage": "gate of stage", "preparesGate": "prepares the gate"}
_TIMERS = {"DurationTimerEventDefinition": "timer (after)", "TimeDateEventDefinition": "timer (at)",
           "CycleTimerEventDefinition": "timer (every)"}
# serializer keys that are bookkeeping, or shown through another setting
_SKIPPED = {"name", "description", "manual", "lookahead", "typename", "inputs", "data_input_associations",
            "data_output_associations", "io_specification", "extensions", "cond_task_specs", "default_task_spec",
            "choice", "event_definition", "prescript", "postscript", "task_spec"}
_LABELS = {"bpmn_name": "name", "lane": "lane", "documentation": "documentation", "script": "script",
           "spec": "called process", "outputs": "next elements", "cancel_activity": "interrupts the task",
           "cardinality": "number of instances", "condition": "completion condition"}
MULTILINE = {"script", "pre-script", "post-script", "instructions", "documentation"}


@dataclass(frozen=True)
class AttributeChange:
    attribute: str  # the setting in plain words: "name", "form", "timer (after)", "condition to s5_end"
    old: str | None
    new: str | None
    lines: tuple[str, ...] = ()  # for scripts and other long text: a line diff ("- old line", "+ new line")


def settings(converted: dict) -> dict[str, str]:
    """{setting: value as text} of one serialized task spec (`spec_registry().convert(spec)`)."""
    values: dict[str, str] = {}
    for key, value in converted.items():
        if key in _SKIPPED or value in (None, "", [], {}):
            continue
        label = _LABELS.get(key, key.replace("_", " "))
        values[label] = ", ".join(map(str, value)) if isinstance(value, list) else _text(value)
    extensions = converted.get("extensions") or {}
    for name, value in (extensions.get("properties") or {}).items():
        if value not in (None, ""):
            values[_PROPERTY_LABELS.get(name, f"property {name}")] = str(value)
    for key, label in (("instructionsForEndUser", "instructions"), ("preScript", "pre-script"),
                       ("postScript", "post-script"), ("calledDecisionId", "decision table"),
                       ("serviceTaskOperator", "connector")):
        if extensions.get(key):
            values[label] = _text(extensions[key])
    for key, label in (("prescript", "pre-script"), ("postscript", "post-script")):
        if converted.get(key):
            values[label] = converted[key]
    event = converted.get("event_definition") or {}
    if event.get("typename") in _TIMERS and event.get("expression"):
        values[_TIMERS[event["typename"]]] = event["expression"]
    elif event.get("name") and event.get("typename") not in (None, "NoneEventDefinition"):
        values["event"] = f"{event['typename'].removesuffix('EventDefinition').lower()} {event['name']}"
    for branch in converted.get("cond_task_specs") or []:
        if branch.get("condition"):
            values[f"condition to {branch['task_spec']}"] = branch["condition"]
    if converted.get("default_task_spec"):
        values["default path"] = converted["default_task_spec"]
    return values


def _text(value) -> str:
    return value if isinstance(value, str) else str(value)


def changes(old: dict, new: dict) -> tuple[AttributeChange, ...]:
    """Each setting that differs between two serialized versions of one element, with old and new value."""
    before, after = settings(old), settings(new)
    found = []
    for label in sorted(set(before) | set(after), key=_order):
        if before.get(label) != after.get(label):
            found.append(AttributeChange(label, before.get(label), after.get(label),
                                         line_diff(before.get(label), after.get(label)) if label in MULTILINE
                                         else ()))
    return tuple(found)


def line_diff(old: str | None, new: str | None) -> tuple[str, ...]:
    """The lines removed ("- ") and added ("+ ") from old to new, with unchanged neighbours ("  ")."""
    lines = difflib.unified_diff((old or "").splitlines(), (new or "").splitlines(), lineterm="", n=1)
    return tuple(line[0] + " " + line[1:] if line[:1] in "+- " else line
                 for line in lines if not line.startswith(("---", "+++")))


_FIRST = ("name", "lane", "form", "form layout (UI schema)", "due period")


def _order(label: str) -> tuple[int, str]:
    return (_FIRST.index(label), "") if label in _FIRST else (len(_FIRST), label)
