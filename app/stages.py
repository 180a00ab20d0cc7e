"""The one stage catalogue: the eight stages of BS 11000 / ISO 44001 as the diagrams name them, the processes
beside them, and where a task belongs (its stage, or the process holding it). It imports nothing of the app, so
every domain may read it."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    number: int
    name: str
    phase: str


STAGES = (
    Stage(1, "Awareness", "strategic"), Stage(2, "Knowledge", "strategic"),
    Stage(3, "Internal assessment", "strategic"), Stage(4, "Partner selection", "engagement"),
    Stage(5, "Working together", "engagement"), Stage(6, "Value creation", "engagement"),
    Stage(7, "Staying together", "management"), Stage(8, "Exit strategy", "management"),
)
LIFECYCLE = "lifecycle"
MANAGEMENT_SYSTEM = "management_system"  # the organisation's own process: stages 1 and 3, its reviews
ISSUE_PROCESS = "issue_resolution"
NONCONFORMITY = "nonconformity"  # the organisation's nonconformity and corrective action (M10.1)
REVIEW_PROCESS = "periodic_review"
EXIT_TRIGGER_SIGNAL = "exit_trigger"
ISSUE_STAGES = range(5, 8)  # issues and exit triggers may be raised in stages 5-7

_STAGE_PROCESS = re.compile(r"^stage(\d)_")


def stage_of_process(process_id: str | None) -> int | None:
    """The stage number a diagram belongs to (`stage5_working_together` -> 5), or None."""
    match = _STAGE_PROCESS.match(process_id or "")
    return int(match.group(1)) if match else None


STAGE_NAMES = {stage.number: stage.name for stage in STAGES}


@dataclass(frozen=True)
class StageTag:
    """Where a task belongs, as lists and filters show it."""

    key: str  # "stage3" for a lifecycle stage, else the process id (e.g. "issue_resolution")
    number: int | None
    label: str


def stage_of(process_id: str | None) -> StageTag:
    number = stage_of_process(process_id)
    if number:
        return StageTag(f"stage{number}", number, f"{number} · {STAGE_NAMES[number]}")
    name = (process_id or "unknown").replace("_", " ").strip()
    return StageTag(process_id or "", None, name[:1].upper() + name[1:])


def stage_condition(column, key: str):
    """An SQL condition on a process-id column selecting one stage key (see `StageTag.key`)."""
    match = re.fullmatch(r"stage([1-8])", key)
    if match:
        return column.like(f"stage{match.group(1)}\\_%", escape="\\")
    return column == key
