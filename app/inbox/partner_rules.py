"""How several partner organisations' answers to one partner-side task combine into the answer the diagram reads.

The diagrams were drawn for one partner: their gateways read one `partner_decision`, one `partner_exit_decision`.
With several partners every partner organisation's SER answers, and the engine task completes once with one value
per field, made by the rule below (the field's name picks it; otherwise its type does):

- a decision everyone must give: the go-ahead only when every partner gives it, else the objection wins
  (`partner_decision`: any rework sends the stage back, any "another cycle" keeps stage 7 running;
  `partner_authorisation`: any revise; `l3_partner_resolution`: any escalate; a rating: the worst one);
- the exit trigger (X.01, `partner_exit_decision`): all invoke, invoke; all dismiss, dismiss; otherwise
  `PARTNERS_DISAGREE`, which no SER of ours can match, so the diagram takes its deadlock path;
- any other choice: the same answer from all, else the one latest in the form's list (forms list the go-ahead
  first); a yes/no: yes only if all say yes; a number: the lowest (a health score: the weakest partner's view);
  a date: the latest; a list: every partner's items (the tasks to reopen: the union); an object: field by field;
  free text: the same text from every partner as it is, else each organisation's text under its name.

Pure functions: no database, so the rule is read and tested on its own.
"""

from __future__ import annotations

PARTNERS_DISAGREE = "partners_disagree"

# field name -> the values that win over the others, strongest first (the go-ahead is whatever is not listed)
OBJECTIONS: dict[str, tuple[str, ...]] = {
    "partner_decision": ("rework", "another_cycle", "stop"),
    "partner_authorisation": ("revise",),
    "l3_partner_resolution": ("escalate",),
    "partner_overall_rating": ("red", "amber"),
}
UNANIMOUS = {"partner_exit_decision": PARTNERS_DISAGREE}  # field name -> its value when the partners disagree
# field name -> (the decision field, its value): the field counts only from partners who gave that decision (the
# tasks to reopen: only the picks of those who sent the stage back)
ONLY_WHEN_CHOSEN = {"partner_reopen_tasks": ("partner_decision", "rework")}


def combine(schema: dict | None, answers: list[tuple[str, dict]]) -> dict:
    """One submission from each organisation's: `answers` is [(organisation name, its validated data)] in the
    order the partners are named."""
    properties = (schema or {}).get("properties") or {}
    combined = {}
    for name in dict.fromkeys(k for _org, data in answers for k in data):
        given = [(org, data[name], data) for org, data in answers if name in data and data[name] is not None]
        if name in ONLY_WHEN_CHOSEN:
            field, value = ONLY_WHEN_CHOSEN[name]
            given = [g for g in given if g[2].get(field) == value]
        if not given:
            continue
        combined[name] = _field(name, properties.get(name) or {}, [(org, v) for org, v, _data in given],
                                len(answers))
    return combined


def _field(name: str, schema: dict, given: list[tuple[str, object]], total: int):
    values = [v for _org, v in given]
    if name in UNANIMOUS:
        return values[0] if _all_same(values) else UNANIMOUS[name]
    if name in OBJECTIONS:
        return next((o for o in OBJECTIONS[name] if o in values), values[0])
    if "enum" in schema:
        if _all_same(values):
            return values[0]
        order = list(schema["enum"])
        return max(values, key=lambda v: order.index(v) if v in order else -1)
    if all(isinstance(v, bool) for v in values):
        return all(values)
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return min(values)
    if all(isinstance(v, list) for v in values):
        merged = []
        for value in values:
            merged += [item for item in value if item not in merged]
        return merged
    if all(isinstance(v, dict) for v in values):
        props = schema.get("properties") or {}
        keys = dict.fromkeys(k for v in values for k in v)
        return {k: _field(k, props.get(k) or {}, [(org, v[k]) for org, v in given if v.get(k) is not None], total)
                for k in keys if any(v.get(k) is not None for v in values)}
    if all(isinstance(v, str) for v in values):
        if schema.get("format") == "date":
            return max(values)
        if len(values) == total and _all_same(values):
            return values[0]
        return "\n\n".join(f"{org}: {v}" for org, v in given if v.strip())
    return values[0]


def _all_same(values: list) -> bool:
    return all(v == values[0] for v in values[1:])
