"""Which lifecycle stage a task belongs to, read from the id of the process that holds it (`stage3_...`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..lifecycle.stages import STAGES as LIFECYCLE_STAGES
from ..lifecycle.stages import stage_of_process

STAGES = {stage.number: stage.name for stage in LIFECYCLE_STAGES}


@dataclass(frozen=True)
class Stage:
    key: str  # "stage3" for a lifecycle stage, else the process id (e.g. "issue_resolution")
    number: int | None
    label: str


def stage_of(process_id: str | None) -> Stage:
    number = stage_of_process(process_id)
    if number:
        return Stage(f"stage{number}", number, f"{number} · {STAGES[number]}")
    name = (process_id or "unknown").replace("_", " ").strip()
    return Stage(process_id or "", None, name[:1].upper() + name[1:])


def stage_condition(column, key: str):
    """An SQL condition on a process-id column selecting one stage key (see `Stage.key`)."""
    match = re.fullmatch(r"stage([1-8])", key)
    if match:
        return column.like(f"stage{match.group(1)}\\_%", escape="\\")
    return column == key
