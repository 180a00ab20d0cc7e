"""The diagrams against the requirement catalogue, the forms, the lanes and the engine's parser."""
import ast
import re

import jinja2
import jsonschema
import pytest
import yaml
from lxml import etree

from tests.support import diagrams as driver
from tools.requirements_map import collect, render_map

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
LANES = {"Staff", "SER", "Joint management team", "Joint operational team", "Partner SER", "Top management"}
ORGANISATION_STAGES = ["stage1_awareness", "stage3_internal_assessment"]
STAGE_PROCESSES = ["stage1_awareness", "stage2_knowledge", "stage3_internal_assessment",
                   "stage4_partner_selection", "stage5_working_together", "stage6_value_creation",
                   "stage7_staying_together", "stage8_exit"]


def trees():
    return {f.stem: etree.parse(str(f)) for f in driver.bpmn_files()}


def started_processes(spec):
    """The process ids a spec's scripts (script tasks, pre- and post-scripts) start with start_process("<id>", ...)."""
    return {m for ts in spec.task_specs.values() for attr in ("script", "prescript", "postscript")
            for m in re.findall(r"start_process\(\s*[\"'](\w+)[\"']", getattr(ts, attr, None) or "")}


def reachable_processes():
    """The executable processes and those declaring how they start (a person, a timer, a message), and
    everything they call (call activities) or start (start_process in a script), transitively."""
    from workflows.starting import declarations
    # management_system is started by the product (app.management), once per organisation, not by a declaration
    todo = set(driver.EXECUTABLE) | {"management_system"} | {d.process_id for d in declarations(
        {f.stem: driver.specs(f.stem)[0] for f in driver.bpmn_files()})}
    reachable = set()
    while todo:
        pid = todo.pop()
        reachable.add(pid)
        spec, subs = driver.specs(pid)
        for s in [spec, *subs.values()]:
            todo |= (set(subs) | started_processes(s)) - reachable
    return reachable


def all_task_specs():
    """Every task spec of every reachable process (see reachable_processes) and the processes they call."""
    seen = {}
    for pid in sorted(reachable_processes()):
        spec, subs = driver.specs(pid)
        for s in [spec, *subs.values()]:
            seen[s.name] = s
    return [(name, ts) for name, s in seen.items() for ts in s.task_specs.values()]


def user_task_specs():
    """(process, spec) of every user task; a multi-instance task appears once, as its '[child]' spec."""
    found = {}
    for p, ts in all_task_specs():
        if ts.manual and ts.bpmn_id:
            found[(p, ts.bpmn_id)] = ts
    return [(p, ts) for (p, _), ts in found.items()]


def test_every_file_parses_with_the_validator_and_process_id_is_the_file_stem():
    for stem, tree in trees().items():
        ids = tree.xpath("//bpmn:process/@id", namespaces=NS)
        assert ids == [stem], f"{stem}.bpmn defines processes {ids}"
    parser = driver.parser()
    assert set(parser.get_process_ids()) >= {f.stem for f in driver.bpmn_files()}


@pytest.mark.parametrize("process_id", driver.EXECUTABLE)
def test_executable_processes_resolve_all_called_processes(process_id):
    spec, subprocess_specs = driver.specs(process_id)
    assert spec.name == process_id
    if process_id == "lifecycle":  # stages 1 and 3 are the organisation's, never a relationship's
        assert set(STAGE_PROCESSES) - set(ORGANISATION_STAGES) | {"relationship_running"} <= set(subprocess_specs)
        assert not set(ORGANISATION_STAGES) & set(subprocess_specs)
    if process_id == "management_system":
        assert set(ORGANISATION_STAGES) <= set(subprocess_specs)


def test_every_diagram_is_reachable_from_an_executable_process():
    """Reached by a call activity, by start_process from a reachable diagram, or through a start declaration."""
    assert {f.stem for f in driver.bpmn_files()} == reachable_processes()


def test_every_requirement_is_carried_and_no_unknown_id_is_used():
    known = driver.requirement_ids()
    assert len(known) == 106
    used = {row[0] for row in collect(driver.BPMN_DIR)}
    assert sorted(set(known) - used, key=known.index) == []
    assert sorted(used - set(known)) == []


def test_requirements_map_is_up_to_date():
    path = driver.ROOT / "docs" / "requirements-map.md"
    assert path.read_text() == render_map(driver.BPMN_DIR), \
        "docs/requirements-map.md is stale: run python tools/requirements_map.py"


def stage_specs():
    """Every stage's process spec: stages 1 and 3 from the management system, the rest from the lifecycle."""
    return {**driver.specs("lifecycle")[1], **driver.specs("management_system")[1]}


def test_stage_call_activities_and_start_scripts():
    """Each stage begins by setting current_stage: in its start script, or in the preScript of its first task
    (past the gateway where the stage's work reopens)."""
    subs = stage_specs()
    for n, pid in enumerate(STAGE_PROCESSES, start=1):
        stage = subs[pid]
        first = stage.start.outputs[0]          # the process start event
        start_script = stage.task_specs.get(f"s{n}_start")
        if start_script is not None:
            assert f"current_stage = {n}\n" in start_script.script
            assert start_script in first.outputs, f"{pid}: the stage must begin with its start script"
            continue
        (step,) = first.outputs
        while not getattr(step, "prescript", None) and len(step.outputs) == 1:
            step = step.outputs[0]               # the gateway where the work (re)opens
        assert f"current_stage = {n}\n" in (step.prescript or ""), f"{pid}: the stage must begin by setting it"


def test_every_user_task_has_a_lane_and_both_form_files_and_valid_schemas():
    for process, ts in user_task_specs():
        assert ts.lane in LANES, f"{process}/{ts.bpmn_id} lane {ts.lane!r}"
        props = ts.extensions.get("properties", {})
        assert props.get("formJsonSchemaFilename") == f"{ts.bpmn_id}.schema.json"
        assert props.get("formUiSchemaFilename") == f"{ts.bpmn_id}.uischema.json"
        schema, ui = driver.load_form(ts)
        jsonschema.validators.validator_for(schema).check_schema(schema)
        assert "$schema" in schema
        assert set(ui["ui:order"]) == set(schema["properties"]), ts.bpmn_id
        assert ts.extensions.get("instructionsForEndUser"), f"{ts.bpmn_id} has no instructions"


def test_no_form_file_without_a_user_task():
    """Every form belongs to a user task, or is the start form a process declares (and its UI schema)."""
    from workflows.starting import declarations
    names = {f"{ts.bpmn_id}.{kind}.json" for _, ts in user_task_specs() for kind in ("schema", "uischema")}
    starts = declarations({pid: driver.specs(pid)[0] for pid in reachable_processes()})
    names |= {name for d in starts for name in (d.form, d.ui_form) if name}
    files = {f.name for f in driver.FORMS_DIR.glob("*.json")}
    assert files == names


def _walk_fields(schema, path):
    for name, s in schema.get("properties", {}).items():
        yield f"{path}.{name}", s
        yield from _walk_fields(s, f"{path}.{name}")
        if s.get("type") == "array" and s.get("items", {}).get("type") == "object":
            yield from _walk_fields(s["items"], f"{path}.{name}[]")


def test_every_form_field_has_a_title_and_a_description():
    for _, ts in user_task_specs():
        schema, _ = driver.load_form(ts)
        for path, s in _walk_fields(schema, ts.bpmn_id):
            assert s.get("title") and s.get("description"), f"{path} lacks a title or description"


def test_every_lane_has_a_known_name():
    for stem, tree in trees().items():
        for name in tree.xpath("//bpmn:lane/@name", namespaces=NS):
            assert name in LANES, f"{stem}: lane {name!r}"


def test_stage_gates_are_ser_approvals_with_decision_and_conditional_comments():
    subs = stage_specs()
    for n, pid in enumerate(STAGE_PROCESSES, start=1):
        gates = [ts for ts in subs[pid].task_specs.values()
                 if ts.manual and ts.extensions.get("properties", {}).get("approvalGate") == "true"]
        expected = {"SER"} if n <= 4 else {"SER", "Partner SER"}
        assert {g.lane for g in gates} == expected, pid
        for g in gates:
            schema, _ = driver.load_form(g)
            prefix = "partner_" if g.lane == "Partner SER" else ""
            enum = schema["properties"][f"{prefix}decision"]["enum"]
            v = driver.validator(schema)
            if n == 7:  # the stage-7 gate asks what it means: move to exit, or run another management cycle
                assert enum == ["exit", "another_cycle"]
                assert not v.is_valid({f"{prefix}decision": "another_cycle"}), "another cycle says what to change"
                assert v.is_valid({f"{prefix}decision": "another_cycle", f"{prefix}comments": "new market"})
                assert v.is_valid({f"{prefix}decision": "exit"})
                continue
            ends = {2: ["stop"], 4: ["no_suitable_partner"]}.get(n, [])  # the outcomes that end the relationship
            assert enum == ["approve", "rework", *ends]
            for end in ends:
                assert not v.is_valid({f"{prefix}decision": end}), f"{end} says why"
            assert not v.is_valid({f"{prefix}decision": "rework"}), "rework needs comments"
            assert not v.is_valid({f"{prefix}decision": "rework", f"{prefix}comments": ""})
            rework = {f"{prefix}decision": "rework", f"{prefix}comments": "fix the risks"}
            picker = schema["properties"].get(f"{prefix}reopen_tasks")
            if picker:  # the SER picks which of the stage's tasks reopen: at least one, and only the stage's own
                assert not v.is_valid(rework), "rework needs a task to reopen"
                choices = picker["items"]["enum"]
                # by BPMN id: a task per item (evaluating each candidate) is one choice
                assert set(choices) <= {ts.bpmn_id for ts in subs[pid].task_specs.values() if ts.manual}, pid
                rework[f"{prefix}reopen_tasks"] = choices[:2]
            assert v.is_valid(rework)
            assert v.is_valid({f"{prefix}decision": "approve"})


def test_premature_continuity_form_requires_the_plan():
    schema, _ = driver.load_form_files("s8_continuity_plan_premature.schema.json",
                                       "s8_continuity_plan_premature.uischema.json")
    assert {"continuity_plan", "transition_actions", "customers_affected"} <= set(schema["required"])
    natural, _ = driver.load_form_files("s8_continuity_plan.schema.json", "s8_continuity_plan.uischema.json")
    assert "continuity_plan" not in natural.get("required", [])


def test_conditions_parse_and_exclusive_gateways_have_a_default():
    for stem, tree in trees().items():
        for cond in tree.xpath("//bpmn:conditionExpression", namespaces=NS):
            ast.parse(cond.text, mode="eval")
        for gw in tree.xpath("//bpmn:exclusiveGateway", namespaces=NS):
            outgoing = gw.xpath("bpmn:outgoing/text()", namespaces=NS)
            if len(outgoing) > 1:
                assert gw.get("default") in outgoing, f"{stem}/{gw.get('id')} needs default="
                for fid in outgoing:
                    flow = tree.xpath(f"//bpmn:sequenceFlow[@id='{fid}']", namespaces=NS)[0]
                    has_cond = bool(flow.xpath("bpmn:conditionExpression", namespaces=NS))
                    assert has_cond == (fid != gw.get("default")), f"{stem}/{fid}"


def test_the_deploy_validation_accepts_the_bundle_without_a_warning():
    """The real validation (sandbox compile of every script, expressions, timers, forms, call activities)."""
    from workflows import read_directory, validate
    compiled = validate(*read_directory(driver.BPMN_DIR, driver.FORMS_DIR))
    assert compiled.problems == []
    assert {"lifecycle", "issue_resolution", "periodic_review"} <= set(compiled.process_ids)


def test_instructions_are_valid_jinja():
    env = jinja2.Environment()
    for _, ts in user_task_specs():
        env.parse(ts.extensions["instructionsForEndUser"])


def test_defaults_match_the_catalogue():
    """The review cycles and escalation limits the diagrams fall back on are the catalogue's defaults."""
    import re
    lifecycle = (driver.BPMN_DIR / "lifecycle.bpmn").read_text()
    reviews = dict(re.findall(r'<spiffworkflow:property name="cadence:(R\.\w+)" value="(\w+)"/>', lifecycle))
    assert reviews == driver.periodic_review_defaults("relationship")
    organisation = (driver.BPMN_DIR / "management_system.bpmn").read_text()
    reviews = dict(re.findall(r'<spiffworkflow:property name="cadence:(R\.\w+)" value="(\w+)"/>', organisation))
    assert reviews == driver.periodic_review_defaults("organisation")
    for name in ("lifecycle.bpmn", "issue_resolution.bpmn"):
        limits = dict(re.findall(r'(l[123]_limit) = "(P\w+)"', (driver.BPMN_DIR / name).read_text()))
        assert limits == driver.escalation_defaults(), name


def test_signals_carry_their_payload():
    for stem, tree in trees().items():
        for sig in tree.xpath("//bpmn:signal", namespaces=NS):
            if sig.get("name") == "exit_trigger":
                assert sig.xpath("string(.//spiffworkflow:variableName)", namespaces=NS) == "exit_info"
            if sig.get("name") == "exit_invoked" and stem == "lifecycle":
                assert sig.xpath("string(.//spiffworkflow:variableName)", namespaces=NS) == "exit_invocation"


def test_the_products_catalogue_is_the_domain_catalogue():
    """app/lifecycle/requirements.yaml ships with the product; shared/domain/requirements-v2.yaml is its source.
    Every part is the domain's word for word, except that the product may add periodic reviews (after the domain's,
    which stay as they are) where a requirement the domain lists needs one of its own (R.VL, R.GV, R.CH)."""
    shared = driver.ROOT.parent / "shared" / "domain" / "requirements-v2.yaml"
    if not shared.is_file():
        pytest.skip("shared/ is not beside the repository")
    product = yaml.safe_load(driver.requirements_yaml_path().read_text())
    domain = yaml.safe_load(shared.read_text())
    assert set(product) == set(domain)
    for part in domain:
        if part != "periodic_reviews":
            assert product[part] == domain[part], part
    reviews = product["periodic_reviews"]
    assert [r for r in reviews if r["id"] in {d["id"] for d in domain["periodic_reviews"]}] == \
        domain["periodic_reviews"]
    known = {r["id"] for part in (*domain["stages"], *domain["management_system"]) for r in part["requirements"]}
    added = [r for r in reviews if r not in domain["periodic_reviews"]]
    assert {r["id"] for r in added} == {"R.VL", "R.GV", "R.CH"}
    assert all(r["requirement"] in known for r in added), added


def _structured(schema: dict) -> bool:
    """Not free text: an enum, a number, a date, a yes/no, a list, an object, or a file."""
    if schema.get("type") != "string":
        return True
    return "enum" in schema or "const" in schema or schema.get("format") in ("date", "date-time", "evidence") \
        or "pattern" in schema


def test_every_form_carrying_a_requirement_asks_something_structured():
    """An assessor checks fields, not prose: each user task carrying a requirement id has at least one required
    field that is not free text."""
    for process, ts in user_task_specs():
        if not ts.extensions.get("properties", {}).get("requirements"):
            continue
        schema, _ = driver.load_form(ts)
        required = [schema["properties"][name] for name in schema.get("required", [])]
        assert any(_structured(s) for s in required), f"{process}/{ts.bpmn_id}: only free text is required"


def test_every_stage_task_and_gate_has_a_due_period():
    """The inbox, agenda and reminders read a task's due date from its `dueIn`: stage work two weeks, our SER's
    gate a working week, the partner SER's gate ten days (the other organisation needs its own time)."""
    subs = stage_specs()
    for pid in STAGE_PROCESSES:
        for ts in subs[pid].task_specs.values():
            if not ts.manual:
                continue
            props = ts.extensions.get("properties", {})
            gate = props.get("approvalGate") == "true" or ts.name.endswith("_authorise")
            expected = ("P10D" if "partner" in ts.name else "P5D") if gate else "P14D"
            assert props.get("dueIn") == expected, (pid, ts.name, props.get("dueIn"))
