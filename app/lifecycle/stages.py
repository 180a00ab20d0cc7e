"""The eight stages of BS 11000 / ISO 44001 as the diagrams name them, and the stage a relationship is in."""

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
ISSUE_PROCESS = "issue_resolution"
REVIEW_PROCESS = "periodic_review"
EXIT_TRIGGER_SIGNAL = "exit_trigger"
ISSUE_STAGES = range(5, 8)  # issues and exit triggers may be raised in stages 5-7

_STAGE_PROCESS = re.compile(r"^stage(\d)_")


def stage_of_process(process_id: str | None) -> int | None:
    """The stage number a diagram belongs to (`stage5_working_together` -> 5), or None."""
    match = _STAGE_PROCESS.match(process_id or "")
    return int(match.group(1)) if match else None
