"""The business continuity plan is kept with the exit strategy from partner selection on: written at stage 4,
carried to every exit strategy review and refreshed in stage 7, so stage 8 starts from it instead of writing it
only once the exit has begun (S8.05, the BSI guide's advance planning)."""

from __future__ import annotations

from tests.support.driver import declared, until_ready

NEEDS = [{"need": "Night maintenance of the line", "criticality": "high", "depends_on": "partner", "arrangement": "Our own crew, on 4 weeks'"
          " notice", "owner": "Operations director"}]


def test_the_continuity_plan_is_written_at_stage_4_reviewed_and_ready_at_exit(start):
    rel = start()
    rel.drive(until=until_ready("s4_exit_triggers"))
    row = rel.task("s4_exit_triggers")
    schema = rel.schema_of(row)
    from_stage2 = declared(schema, rel.task_data(row))["continuity_needs"]
    assert from_stage2 and all({"need", "criticality", "owner"} <= set(n) for n in from_stage2), \
        "stage 4 starts from the initial exit assessment's continuity needs"
    assert {"continuity_plan", "continuity_needs"} <= set(schema["required"])
    rel.complete("s4_exit_triggers", {"continuity_plan": "Our crews take over the night work.",
                                      "continuity_needs": NEEDS})

    rel.drive(until=until_ready("s7_exit_strategy"))
    (exit_review,) = [d for d in rel.linked_data("periodic_review") if d["review_id"] == "R.EX"]
    assert exit_review["continuity_plan"] == "Our crews take over the night work."
    assert exit_review["continuity_needs"] == NEEDS, "the exit strategy review refreshes the plan it is given"
    row = rel.task("s7_exit_strategy")
    shown = declared(rel.schema_of(row), rel.task_data(row))
    assert shown["continuity_needs"] == NEEDS, "stage 7 shows the plan kept since stage 4"
    refreshed = NEEDS + [{"need": "Spare parts stock", "criticality": "medium", "depends_on": "joint", "arrangement": "Split at cost",
                          "owner": "Supply lead"}]
    rel.complete(row, {"continuity_plan": "Our crews and a second supplier take over.",
                       "continuity_needs": refreshed})

    rel.drive(until=until_ready("s8_continuity_plan"))
    row = rel.task("s8_continuity_plan")
    shown = declared(rel.schema_of(row), rel.task_data(row))
    assert shown["continuity_plan"] == "Our crews and a second supplier take over."
    assert shown["continuity_needs"] == refreshed
