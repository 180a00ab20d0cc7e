"""What the stage fixes, a person cannot change: the plan's type follows the stage, and a natural exit's continuity
record cannot be submitted empty. Checked with the task page's own form check on the bundled forms."""

from __future__ import annotations

import json

import pytest

from app.config import ROOT
from app.inbox.binding import check

PLAN_TYPE = {"s1_crmp": "CRMP", "s2_rmp_update": "CRMP", "s3_rmp_update": "CRMP", "s4_rmp_update": "PRMP",
             "s5_jrmp": "JRMP", "s6_jrmp_update": "JRMP", "s7_jrmp_update": "JRMP"}


def bundled_form(name: str) -> dict:
    return json.loads((ROOT / "forms" / f"{name}.schema.json").read_text())


@pytest.mark.parametrize("form, fixed", sorted(PLAN_TYPE.items()))
def test_a_plan_type_that_does_not_fit_the_stage_is_refused_with_the_field_named(form, fixed):
    schema = bundled_form(form)
    for other in {"CRMP", "PRMP", "JRMP"} - {fixed}:
        assert "rmp_type" in check(schema, {"rmp_type": other}), (form, other)
    assert "rmp_type" not in check(schema, {"rmp_type": fixed})


def test_a_natural_exit_continuity_record_cannot_be_empty():
    errors = check(bundled_form("s8_continuity_plan"), {})
    assert {"transition_actions", "customer_impact"} <= set(errors)
    errors = check(bundled_form("s8_continuity_plan"), {"transition_actions": [], "customer_impact": "low"})
    assert "transition_actions" in errors
