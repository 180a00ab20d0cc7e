"""Which role works which lane of a diagram. Lanes are plain names in BPMN; this is where they mean people."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LaneRole:
    role: str
    partner_side: bool = False  # the lane is worked by the partner organisation's people
    joint: bool = False  # the lane is worked by people of both organisations who have the role


DEFAULT_LANE_ROLES: dict[str, LaneRole] = {
    "Staff": LaneRole("staff"),
    "SER": LaneRole("ser"),
    "Joint management team": LaneRole("jmt", joint=True),
    "Joint operational team": LaneRole("staff", joint=True),  # staff of both organisations (issue level 1)
    "Partner SER": LaneRole("ser", partner_side=True),
    "Top management": LaneRole("top_management"),
}


def lane_role(lane: str | None, mapping: dict[str, LaneRole] | None = None) -> LaneRole | None:
    """The role for a lane, or None for a task outside any mapped lane (then any staff member may work it)."""
    if lane is None:
        return None
    return (mapping or DEFAULT_LANE_ROLES).get(lane)


def resolved(custom: dict | None) -> dict[str, LaneRole]:
    """The product's lane names with a version's own mapping (`ProcessVersion.lane_roles`) on top."""
    if not custom:
        return DEFAULT_LANE_ROLES
    return {**DEFAULT_LANE_ROLES, **{lane: LaneRole(str(value["role"]), bool(value.get("partner_side")),
                                                    bool(value.get("joint", value["role"] == "jmt")))
                                     for lane, value in custom.items()}}


def checked(raw, roles) -> dict:
    """A mapping as a process owner sends it ({lane: role} or {lane: {"role", "partner_side"}}), checked: every
    lane named and every role one of `roles`. Raises ValueError saying which lane is wrong and why."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError("the lane mapping must map each lane's name to a role")
    found = {}
    for lane, value in raw.items():
        if not isinstance(lane, str) or not lane.strip() or len(lane) > 255:
            raise ValueError(f"the lane name {lane!r} is not a lane's name")
        role, partner = (value, False) if isinstance(value, str) else (
            (value.get("role"), value.get("partner_side", False)) if isinstance(value, dict) else (None, False))
        if role not in roles:
            raise ValueError(f"the lane {lane!r} is mapped to {role!r}, which is not a role ({', '.join(roles)})")
        if not isinstance(partner, bool):
            raise ValueError(f"the lane {lane!r}: partner_side must be true or false")
        found[lane] = {"role": role, "partner_side": partner}
    return found
