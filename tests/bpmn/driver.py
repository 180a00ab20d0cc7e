"""A small driver for running the collabflow diagrams with plain SpiffWorkflow 3.2 in tests.

It stands in for the engine layer: a restricted script environment (RestrictedPython for scripts,
simpleeval for expressions), stand-ins for the sandbox helpers that record their calls
(`now`, `add_period`, `start_process`, `cancel_linked`, `signal_parent`), a test clock that the
timer module also reads, and form filling that builds data valid against each task's JSON Schema
(pre-filled from the task data, as the app does, then overridden by the scenario).
"""
from __future__ import annotations

import calendar
import copy
import json
import re
import sys
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

import jsonschema
import SpiffWorkflow.bpmn.specs.event_definitions.timer as timer_module
from RestrictedPython import compile_restricted_exec, limited_builtins, safe_globals, utility_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, safer_getattr
from simpleeval import EvalWithCompoundTypes
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG
from SpiffWorkflow.spiff.specs.event_definitions import SignalEventDefinition
from SpiffWorkflow.util.task import TaskState

ROOT = Path(__file__).resolve().parents[2]
BPMN_DIR = ROOT / "bpmn"
FORMS_DIR = ROOT / "forms"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EXECUTABLE = ("lifecycle", "issue_resolution", "periodic_review")


# ------------------------------------------------------------------------------------------------
# Specs
# ------------------------------------------------------------------------------------------------
def bpmn_files():
    return sorted(BPMN_DIR.glob("*.bpmn"))


@cache
def parser():
    p = SpiffBpmnParser(validator=VALIDATOR)
    p.add_bpmn_files([str(f) for f in bpmn_files()])
    return p


@cache
def specs(process_id):
    p = parser()
    return p.get_spec(process_id), p.get_subprocess_specs(process_id)


# ------------------------------------------------------------------------------------------------
# Clock and helpers
# ------------------------------------------------------------------------------------------------
class Clock:
    """The test's notion of 'now' (UTC); `install` makes SpiffWorkflow's timers read it too."""

    def __init__(self, start="2025-01-06T09:00:00+00:00"):
        self.now = datetime.fromisoformat(start)

    def advance(self, **delta):
        self.now += timedelta(**delta)

    def set(self, iso):
        self.now = datetime.fromisoformat(iso)

    def install(self, monkeypatch):
        clock = self

        class FakeDatetime(datetime):
            @classmethod
            def now(cls, tz=None):
                return clock.now if tz is None else clock.now.astimezone(tz)

        monkeypatch.setattr(timer_module, "datetime", FakeDatetime)
        return self


_PERIOD = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


def add_period(iso, period):
    """ISO date-time + ISO period; months and years are added on the calendar (Jan 31 + P1M = Feb 28)."""
    m = _PERIOD.fullmatch(period)
    if not m or period in ("P", "PT"):
        raise ValueError(f"not an ISO 8601 period: {period!r}")
    years, months, weeks, days, hours, minutes, seconds = (int(g or 0) for g in m.groups())
    dt = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    total = dt.month - 1 + months + 12 * years
    year, month = dt.year + total // 12, total % 12 + 1
    dt = dt.replace(year=year, month=month, day=min(dt.day, calendar.monthrange(year, month)[1]))
    return (dt + timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)).isoformat()


class Recorder:
    """Stand-ins for the engine's sandbox helpers; they only record what they were asked to do."""

    def __init__(self, clock):
        self.clock = clock
        self.started, self.cancelled, self.signals = [], [], []

    def helpers(self):
        return {
            "now": lambda: self.clock.now.isoformat(),
            "add_period": add_period,
            "start_process": lambda process_id, data: self.started.append((process_id, copy.deepcopy(data))),
            "cancel_linked": lambda process_id: self.cancelled.append(process_id),
            "signal_parent": lambda name, payload: self.signals.append((name, copy.deepcopy(payload))),
        }


class RestrictedEnvironment(TaskDataEnvironment):
    """Scripts in RestrictedPython, expressions in simpleeval: what the engine layer promises."""

    FUNCTIONS = {"len": len, "str": str, "int": int, "float": float, "min": min, "max": max, "sum": sum,
                 "any": any, "all": all, "sorted": sorted}

    def __init__(self, helpers):
        g = dict(safe_globals)
        g["__builtins__"] = {**safe_globals["__builtins__"], **limited_builtins, **utility_builtins,
                             "dict": dict, "list": list, "sum": sum, "min": min, "max": max, "any": any,
                             "all": all, "sorted": sorted, "enumerate": enumerate}
        g.update(_getattr_=safer_getattr, _getitem_=default_guarded_getitem, _getiter_=default_guarded_getiter,
                 _iter_unpack_sequence_=guarded_iter_unpack_sequence, _write_=full_write_guard, **helpers)
        super().__init__(g)
        self.helpers = helpers

    def evaluate(self, expression, context, external_context=None):
        names = dict(external_context or {})
        names.update(context)
        return EvalWithCompoundTypes(names=names, functions=self.FUNCTIONS).eval(expression)

    def execute(self, script, context, external_context=None):
        res = compile_restricted_exec(script)
        if res.errors:
            raise ValueError("; ".join(res.errors))
        self.check_for_overwrite(context, external_context or {})
        context.update(copy.copy(self.globals))
        context.update(external_context or {})
        try:
            exec(res.code, context)
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True


SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))


# ------------------------------------------------------------------------------------------------
# Forms
# ------------------------------------------------------------------------------------------------
@cache
def load_form_files(schema_file, ui_file):
    return json.loads((FORMS_DIR / schema_file).read_text()), json.loads((FORMS_DIR / ui_file).read_text())


def load_form(task_spec):
    """The (schema, uischema) named by the task's properties (a multi-instance child has the same ones)."""
    props = task_spec.extensions.get("properties", {})
    return load_form_files(props["formJsonSchemaFilename"], props["formUiSchemaFilename"])


def name_of(task):
    """The BPMN id of a task (a multi-instance child's spec is called '<id> [child]')."""
    return task.task_spec.bpmn_id or task.task_spec.name


def validator(schema):
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def sample(schema, name="value"):
    """Minimal-but-complete valid data for a schema: every property filled, first enum value."""
    if "const" in schema:
        return schema["const"]
    t = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if t == "object":
        return {k: sample(s, k) for k, s in schema.get("properties", {}).items()}
    if t == "array":
        items = schema.get("items", {})
        if "enum" in items:
            return items["enum"][: max(1, schema.get("minItems", 1))]
        return [sample(items, name) for _ in range(max(1, schema.get("minItems", 1)))]
    if t == "integer":
        lo, hi = schema.get("minimum", 0), schema.get("maximum", 10)
        return (lo + hi) // 2
    if t == "number":
        return float(schema.get("minimum", 0)) + 100.0
    if t == "boolean":
        return True
    if t == "string":
        fmt = schema.get("format")
        if fmt == "date":
            return "2025-03-01"
        if fmt == "evidence":
            return f"evidence-{name}"
        if "pattern" in schema and schema["pattern"].startswith("^P"):
            return "P5D"
        return f"{name} text"[: schema.get("maxLength", 300)]
    raise ValueError(f"cannot sample {schema}")


def complete_missing(value, schema, name="value"):
    """Add what a pre-filled value lacks for this schema (a later form may ask for more columns)."""
    if schema.get("type") == "object" and isinstance(value, dict):
        for k, s in schema.get("properties", {}).items():
            value[k] = complete_missing(value[k], s, k) if k in value and value[k] is not None else sample(s, k)
        return value
    if schema.get("type") == "array" and isinstance(value, list):
        items = schema.get("items", {})
        if items.get("type") == "object":
            return [complete_missing(v, items, name) for v in value] or sample(schema, name)
        return value
    return value


def deep_update(base, overrides):
    for k, v in overrides.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            deep_update(base[k], v)
        else:
            base[k] = copy.deepcopy(v)
    return base


def form_data(task, overrides=None):
    """Data a user would submit: defaults from task data of the same names, the rest sampled."""
    schema, _ = load_form(task.task_spec)
    data = {}
    for k, s in schema["properties"].items():
        if task.data.get(k) is not None:
            data[k] = complete_missing(copy.deepcopy(task.data[k]), s, k)
        else:
            data[k] = sample(s, k)
    deep_update(data, overrides or {})
    errors = sorted(validator(schema).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        raise AssertionError(f"{name_of(task)}: form data invalid: " +
                             "; ".join(f"{list(e.path)}: {e.message}" for e in errors))
    return data


# ------------------------------------------------------------------------------------------------
# Running an instance
# ------------------------------------------------------------------------------------------------
class Run:
    """One instance of a process, with recorded helper calls and optional save/restore per step."""

    def __init__(self, process_id, data=None, clock=None, roundtrip=False):
        self.clock = clock or Clock()
        self.recorder = Recorder(self.clock)
        self.roundtrip = roundtrip
        spec, subprocess_specs = specs(process_id)
        self.wf = BpmnWorkflow(spec, subprocess_specs, script_engine=self.engine())
        self.wf.get_next_task(spec_name="Start").data.update(copy.deepcopy(data or {}))
        self.wf.do_engine_steps()
        self.completed_forms = []           # (task name, submitted data)

    def engine(self):
        return PythonScriptEngine(environment=RestrictedEnvironment(self.recorder.helpers()))

    def save_restore(self):
        state = SERIALIZER.serialize_json(self.wf)
        self.wf = SERIALIZER.deserialize_json(state)
        self.wf.script_engine = self.engine()       # the engine is not serialized (P2)

    # -- queries -------------------------------------------------------------------------------
    def ready(self, lane=None):
        return self.wf.get_tasks(state=TaskState.READY, manual=True, lane=lane)

    def ready_names(self):
        return [name_of(t) for t in self.ready()]

    def task(self, name):
        tasks = [t for t in self.ready() if name_of(t) == name]
        assert tasks, f"{name} is not ready; ready: {self.ready_names()}"
        return tasks[0]

    @property
    def data(self):
        return self.wf.data

    def latest_data(self):
        """Data of the most recently completed task anywhere in the tree (subprocesses included)."""
        done = self.wf.get_tasks(state=TaskState.COMPLETED)
        return max(done, key=lambda t: t.last_state_change).data

    # -- actions -------------------------------------------------------------------------------
    def complete(self, task_or_name, overrides=None):
        task = self.task(task_or_name) if isinstance(task_or_name, str) else task_or_name
        data = form_data(task, overrides)
        task.task_spec.add_data_from_form(task, data)
        task.run()
        self.wf.do_engine_steps()
        self.completed_forms.append((name_of(task), data))
        if self.roundtrip:
            self.save_restore()
        return data

    def signal(self, name, payload):
        self.wf.send_event(BpmnEvent(SignalEventDefinition(name), payload))
        self.wf.do_engine_steps()

    def wake(self):
        """What the scheduler does when a timer is due."""
        self.wf.refresh_timers()
        self.wf.do_engine_steps()

    def drive(self, answers=None, until=None, max_steps=400):
        """Complete ready user tasks in order until `until(run)` is true, nothing is ready, or the end.

        `answers` maps a task name to overrides, or to a list of overrides used one per occurrence.
        """
        answers = {k: (list(v) if isinstance(v, list) else v) for k, v in (answers or {}).items()}
        for _ in range(max_steps):
            if self.wf.completed or (until and until(self)):
                return self
            ready = self.ready()
            if not ready:
                return self
            task = ready[0]
            answer = answers.get(name_of(task), {})
            if isinstance(answer, list):
                answer = answer.pop(0) if answer else {}
            self.complete(task, answer)
        raise AssertionError(f"still running after {max_steps} steps; ready: {self.ready_names()}")


def until_ready(name):
    return lambda run: name in run.ready_names()


# ------------------------------------------------------------------------------------------------
# The requirement catalogue (shared/domain/requirements.yaml, read without a YAML library)
# ------------------------------------------------------------------------------------------------
def requirements_yaml_path():
    """shared/ sits beside the repository (CI clones main with shared/ next to it)."""
    import os
    candidates = [os.environ.get("COLLABFLOW_REQUIREMENTS_YAML"),
                  ROOT.parent / "shared" / "domain" / "requirements.yaml",
                  Path("/work/shared/domain/requirements.yaml")]
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    raise FileNotFoundError("requirements.yaml not found; set COLLABFLOW_REQUIREMENTS_YAML")


def requirement_ids():
    text = requirements_yaml_path().read_text()
    return re.findall(r"^\s*-\s*\{id:\s*(S\d\.(?:\d\d|G))\s*,", text, flags=re.M)


def periodic_review_defaults():
    text = requirements_yaml_path().read_text()
    return dict(re.findall(r"\{id:\s*(R\.[A-Z0-9]+),\s*requirement:\s*S\d\.\d\d,\s*default_cycle:\s*(P\w+)", text))


def escalation_defaults():
    text = requirements_yaml_path().read_text()
    return {f"l{lvl}_limit": limit for lvl, limit in
            re.findall(r"\{level:\s*(\d),.*default_limit:\s*(P\w+)\}", text)}
