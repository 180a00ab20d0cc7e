"""Which role works which lane of a diagram. Lanes are plain names in BPMN; this is where they mean people."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LaneRole:
    role: str
    partner_side: bool = False  # the lane is worked by the partner organisation's people


DEFAULT_LANE_ROLES: dict[str, LaneRole] = {
    "Staff": LaneRole("staff"),
    "SER": LaneRole("ser"),
    "Joint management team": LaneRole("jmt"),
    "Partner SER": LaneRole("ser", partner_side=True),
    "Top management": LaneRole("top_management"),
}


def lane_role(lane: str | None, mapping: dict[str, LaneRole] | None = None) -> LaneRole | None:
    """The role for a lane, or None for a task outside any mapped lane (then any staff member may work it)."""
    if lane is None:
        return None
    return (mapping or DEFAULT_LANE_ROLES).get(lane)
