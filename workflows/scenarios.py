"""Scenarios that prove a change: a small JSON document run against a compiled version before it is deployed.

A scenario names the process it starts, the start data, and steps in order; each step does one thing and may
state what must hold afterwards (`expect`); the scenario's own `expect` is checked at the end:

    {"name": "Happy path", "process": "lifecycle", "start": {...}, "at": "2025-01-06T09:00:00+00:00",
     "steps": [
       {"complete": "s2_business_case", "data": {...}},           a ready user task (element id), with its form data
       {"wait": "P3M"},                                            time passes; timers fire when they fall due
       {"signal": "organisation_ready", "payload": {...}},         a signal (or "message") thrown into the instance
       {"expect": {"ready": ["s5_plan"]}}                          only expectations
     ],
     "expect": {"path": ["lc_stage2", "lc_stage4"], "end": "lc_end", "data": {"outcome": "completed"},
                "started": ["periodic_review"]}}

Expectations: `ready` (these tasks are ready, others may be too), `not_ready`, `path` (element ids passed so far,
in this order, other elements may come between; `path_any` for a set in any order), `end` (the end event the
process reached; `"end": null` asks for a process still running), `data` (selected values of the instance's
data: the final data once ended, else the data of the task completed last) and `started` (processes the run asked
the application to start, e.g. an issue process) and `signalled` (signals sent to the process that started this
one, e.g. an issue's exit trigger to its relationship).

The runner is the real engine (sandbox, helpers, decisions, timers, call activities) over an in-memory store on a
controlled clock; what the application does beside the engine (starting linked processes, signals to a parent,
connectors) is recorded, not run. Every result says, per step, passed or what was expected and what happened.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.util.task import TaskState

from . import periods
from .compaction import history_of
from .engine import WorkflowEngine
from .errors import EventNotExpected, Problem, TaskNotReady, WorkflowError, clean
from .store import InMemoryStore, StoredVersion
from .user_tasks import Effect

SCENARIO_SUFFIX = ".scenario.json"
SCENARIO_FOLDER = "scenarios"  # beside the diagrams: bpmn/scenarios/*.scenario.json
DEFAULT_START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
STEP_KINDS = ("complete", "wait", "signal", "message", "expect")
EXPECT_KEYS = ("ready", "not_ready", "path", "path_any", "end", "data", "started", "signalled")
MAX_TIMER_FIRINGS = 500
_MOMENT = timedelta(seconds=1)  # per wait step: a runaway cycle timer stops the scenario instead of the deploy


def is_scenario_file(name: str) -> bool:
    return name.endswith(SCENARIO_SUFFIX)


# ----------------------------------------------------------------------------------------------- the document
@dataclass
class Scenario:
    file: str
    name: str
    process: str
    start: dict
    at: datetime
    steps: list[dict]
    expect: dict


class ScenarioInvalid(WorkflowError):
    """The scenario document cannot be read; `problems` says where (file, line, step)."""

    code = "scenario_invalid"

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


def parse(file: str, content: bytes | str) -> Scenario:
    """Read a scenario document. Raises ScenarioInvalid naming the line (JSON) or the step and key."""
    try:
        doc = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ScenarioInvalid([Problem(f"the scenario is not valid JSON: {getattr(exc, 'msg', exc)} (line "
                                       f"{getattr(exc, 'lineno', '?')}, column {getattr(exc, 'colno', '?')})",
                                       file=file, line=getattr(exc, "lineno", None))]) from None
    problems = []

    def bad(message):
        problems.append(Problem(message, file=file))

    if not isinstance(doc, dict):
        raise ScenarioInvalid([Problem("a scenario is a JSON object with name, process, start and steps",
                                       file=file, line=1)])
    name = doc.get("name") or file.removesuffix(SCENARIO_SUFFIX)
    if not isinstance(name, str):
        bad("the name must be a text")
    process = doc.get("process")
    if not isinstance(process, str) or not process.strip():
        bad("say which process the scenario starts: \"process\": \"<process id>\"")
    start = doc.get("start", {})
    if not isinstance(start, dict):
        bad("the start data (\"start\") must be an object")
    at = DEFAULT_START
    if doc.get("at") is not None:
        try:
            at = periods.parse_instant(doc["at"])
        except (TypeError, ValueError):
            bad(f"\"at\" must be a date and time with its zone, e.g. 2025-01-06T09:00:00+00:00, not {doc['at']!r}")
    steps = doc.get("steps", [])
    if not isinstance(steps, list):
        bad("the steps must be a list")
        steps = []
    for number, step in enumerate(steps, 1):
        for message in _step_problems(step):
            bad(f"step {number}: {message}")
    expect = doc.get("expect", {})
    for message in _expect_problems(expect):
        bad(f"the final expectations: {message}")
    unknown = sorted(set(doc) - {"name", "process", "start", "at", "steps", "expect", "description"})
    if unknown:
        bad(f"unknown key(s) {', '.join(unknown)}; a scenario has name, description, process, start, at, steps "
            "and expect")
    if problems:
        raise ScenarioInvalid(problems)
    return Scenario(file, name, process, dict(start), at, list(steps), dict(expect or {}))


def _step_problems(step) -> list[str]:
    if not isinstance(step, dict):
        return ["a step is an object such as {\"complete\": \"task_id\", \"data\": {...}}"]
    kinds = [k for k in STEP_KINDS if k in step and k != "expect"]
    if len(kinds) > 1:
        return [f"a step does one thing; this one has {' and '.join(kinds)}"]
    found = []
    if not kinds and "expect" not in step:
        found.append(f"a step needs one of {', '.join(STEP_KINDS)}")
    kind = kinds[0] if kinds else None
    if kind and (not isinstance(step[kind], str) or not step[kind].strip()):
        found.append(f"\"{kind}\" needs a text (a task id, a period, or an event name)")
    elif kind == "wait":
        try:
            periods.parse_period(step["wait"])
        except ValueError:
            found.append(f"\"wait\" needs an ISO period such as P3M or P10D, not {step['wait']!r}")
    if kind == "complete" and not isinstance(step.get("data", {}), dict):
        found.append("the task's data (\"data\") must be an object")
    if kind in ("signal", "message") and not isinstance(step.get("payload", {}), dict):
        found.append("the payload must be an object")
    allowed = {kind, "expect", "note", "data" if kind == "complete" else None,
               "payload" if kind in ("signal", "message") else None}
    unknown = sorted(set(step) - allowed)
    if unknown and kind:
        found.append(f"unknown key(s) {', '.join(unknown)} for a {kind} step")
    found += _expect_problems(step.get("expect", {}))
    return found


def _expect_problems(expect) -> list[str]:
    if expect is None:
        return []
    if not isinstance(expect, dict):
        return ["expectations are an object with " + ", ".join(EXPECT_KEYS)]
    found = []
    unknown = sorted(set(expect) - set(EXPECT_KEYS))
    if unknown:
        found.append(f"unknown expectation(s) {', '.join(unknown)}; known: {', '.join(EXPECT_KEYS)}")
    for key in ("ready", "not_ready", "path", "path_any", "started", "signalled"):
        value = expect.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            found.append(f"\"{key}\" must be a list of ids")
    if "end" in expect and expect["end"] is not None and not isinstance(expect["end"], str):
        found.append("\"end\" must be an end event id, or null for a process still running")
    if not isinstance(expect.get("data", {}), dict):
        found.append("\"data\" must be an object of field names and values")
    return found


# ----------------------------------------------------------------------------------------------- results
@dataclass
class StepResult:
    number: int  # 0: the start; len(steps) + 1: the final expectations
    action: str  # what the step did, in words
    passed: bool | None  # None: not run (an earlier step failed)
    message: str | None = None  # the failure in plain words, starting "step N: "
    element_id: str | None = None  # where it failed, for the modeller to mark

    def as_dict(self) -> dict:
        return {"number": self.number, "action": self.action, "passed": self.passed, "message": self.message,
                "element_id": self.element_id}


@dataclass
class ScenarioResult:
    file: str
    name: str
    steps: list[StepResult] = field(default_factory=list)
    seconds: float = 0.0
    effects: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(step.passed is not False for step in self.steps)

    @property
    def failure(self) -> StepResult | None:
        return next((step for step in self.steps if step.passed is False), None)

    def problem(self) -> Problem | None:
        """The failure as a located problem of the scenario file (the element id lets the modeller mark it)."""
        failed = self.failure
        if failed is None:
            return None
        return Problem(f"scenario '{self.name}' fails at {failed.message}", file=self.file,
                       element_id=failed.element_id)

    def as_dict(self) -> dict:
        return {"file": self.file, "name": self.name, "passed": self.passed, "seconds": round(self.seconds, 3),
                "steps": [s.as_dict() for s in self.steps], "effects": self.effects,
                "failure": self.failure.message if self.failure else None}


class _Failed(Exception):
    def __init__(self, message: str, element_id: str | None = None):
        super().__init__(message)
        self.message, self.element_id = message, element_id


# ----------------------------------------------------------------------------------------------- the runner
class _RecordingEngine(WorkflowEngine):
    """The real engine, except that work beside the instance (linked processes, signals to a parent, connectors)
    is noted for the scenario to assert on instead of being done."""

    recorded: list[dict]
    compaction_history = True  # a path names every element in the order it completed, finished rounds included

    def _run_effects(self, record, effects: list[Effect], now, budget, result):
        for effect in effects:
            entry = {"kind": effect.kind, "process": effect.process_id, "name": effect.name, "data": effect.data}
            if effect.call is not None:
                entry.update(connector=effect.call.connector, params=effect.call.params)
            self.recorded.append(entry)


def run_all(compiled, scenarios: Mapping[str, bytes], *, helpers=None,
            functions_engine: WorkflowEngine | None = None) -> list[ScenarioResult]:
    """Run every scenario file (name -> content) against a compiled version; an unreadable one is a failed
    result naming what is wrong."""
    return [run_file(compiled, name, content, helpers=helpers, base=functions_engine)
            for name, content in sorted(scenarios.items())]


def run_file(compiled, name: str, content: bytes, *, helpers=None, base: WorkflowEngine | None = None
             ) -> ScenarioResult:
    try:
        scenario = parse(name, content)
    except ScenarioInvalid as exc:
        result = ScenarioResult(name, name.removesuffix(SCENARIO_SUFFIX))
        result.steps.append(StepResult(0, "read the scenario", False,
                                       "step 0: the scenario cannot be read: " + exc.problems[0].message))
        return result
    return run(compiled, scenario, helpers=helpers, base=base)


def run(compiled, scenario: Scenario, *, helpers=None, base: WorkflowEngine | None = None) -> ScenarioResult:
    """Run one scenario against `compiled` (a workflows.specs.CompiledVersion) entirely in memory."""
    began = time.perf_counter()
    engine = _engine(compiled, helpers, base)
    result = ScenarioResult(scenario.file, scenario.name)
    run_state = _Run(engine, scenario.at)
    plan = [(0, f"start {scenario.process}", lambda: run_state.start(scenario.process, scenario.start), {})]
    for number, step in enumerate(scenario.steps, 1):
        plan.append((number, _describe(step), _action(run_state, step), step.get("expect") or {}))
    plan.append((len(scenario.steps) + 1, "the final expectations", None, scenario.expect))
    failed = False
    for number, action, act, expect in plan:
        if failed:
            result.steps.append(StepResult(number, action, None))
            continue
        try:
            if act is not None:
                act()
            run_state.check(expect)
            result.steps.append(StepResult(number, action, True))
        except _Failed as exc:
            failed = True
            result.steps.append(StepResult(number, action, False, f"step {number}: {exc.message}", exc.element_id))
        except (ArithmeticError, ValueError, TypeError, KeyError, RecursionError) as exc:  # never a failed deploy page
            failed = True
            result.steps.append(StepResult(number, action, False, f"step {number}: the step could not run: "
                                           f"{clean(str(exc))}"))
    result.effects = list(engine.recorded)
    result.seconds = time.perf_counter() - began
    return result


def _engine(compiled, helpers, base):
    store = InMemoryStore()
    if base is not None:
        engine = object.__new__(_RecordingEngine)
        engine.__dict__.update(base.using(store).__dict__)
        engine._specs = type(base._specs)()
    else:
        engine = _RecordingEngine(store, helpers=helpers)
    engine.recorded = []
    version_id = store.add_version(StoredVersion(None, dict(compiled.files), dict(compiled.forms),
                                                 compiled.content_hash, "", compiled.process_ids))
    engine._remember(version_id, compiled.specs)
    engine.version_id = version_id
    return engine


def _describe(step: dict) -> str:
    if "complete" in step:
        return f"complete {step['complete']}"
    if "wait" in step:
        return f"wait {periods.describe_period(step['wait'])}"
    if "signal" in step:
        return f"signal {step['signal']}"
    if "message" in step:
        return f"message {step['message']}"
    return "check"


def _action(run_state: _Run, step: dict):
    if "complete" in step:
        return lambda: run_state.complete(step["complete"], step.get("data") or {})
    if "wait" in step:
        return lambda: run_state.wait(step["wait"])
    if "signal" in step:
        return lambda: run_state.send("signal", step["signal"], step.get("payload") or {})
    if "message" in step:
        return lambda: run_state.send("message", step["message"], step.get("payload") or {})
    return None


class _Run:
    """One scenario's instance on its own clock."""

    def __init__(self, engine: _RecordingEngine, at: datetime):
        self.engine, self.now, self.instance_id = engine, at, None

    # ------------------------------------------------------------ acting
    def start(self, process_id: str, data: dict):
        if process_id not in self.engine.specs(self.engine.version_id):
            raise _Failed(f"the scenario starts the process '{process_id}', which this version does not have")
        started = self._guard(lambda: self.engine.start(self.engine.version_id, process_id, dict(data),
                                                         now=self.now), f"starting '{process_id}'")
        self.instance_id = started.instance_id

    def complete(self, bpmn_id: str, data: dict):
        record = self.engine.store.get_instance(self.instance_id)
        tasks = [t for t in record.ready_tasks if t.bpmn_id == bpmn_id]
        if not tasks:
            raise _Failed(f"expected the task '{bpmn_id}' to be ready to complete, but "
                          f"{self._ready_words(record)}", bpmn_id)
        self._guard(lambda: self.engine.complete_task(self.instance_id, tasks[0].id, dict(data), now=self.now),
                    f"completing '{bpmn_id}'", bpmn_id)

    def wait(self, period: str):
        """Let `period` pass as the scheduler would: each timer fires at its due time, in order."""
        until = periods.add_period(self.now, period)
        for _ in range(MAX_TIMER_FIRINGS):
            record = self.engine.store.get_instance(self.instance_id)
            due = sorted(t.due_at for t in record.timers if t.due_at < until) if record.status == "running" else []
            if not due:
                self.now = until
                return
            # (a timer fires once its due time has passed, as the scheduler finds it a moment later)
            self.now = max(self.now, min(due[0] + _MOMENT, until))
            self._guard(lambda: self.engine.fire_timers(self.instance_id, now=self.now), "a timer firing")
        raise _Failed(f"more than {MAX_TIMER_FIRINGS} timers fired while waiting {periods.describe_period(period)}")

    def send(self, kind: str, name: str, payload: dict):
        send = self.engine.send_signal if kind == "signal" else self.engine.send_message
        try:
            self._guard(lambda: send(self.instance_id, name, dict(payload), now=self.now), f"the {kind} '{name}'",
                        unexpected=(EventNotExpected, TaskNotReady))
        except (EventNotExpected, TaskNotReady):
            record = self.engine.store.get_instance(self.instance_id)
            raise _Failed(f"expected the process to wait for the {kind} '{name}', but it does not; "
                          f"{self._ready_words(record)}") from None

    def _guard(self, act, what: str, element_id: str | None = None, unexpected: tuple = ()):
        try:
            return act()
        except unexpected:
            raise
        except WorkflowError as exc:
            location = getattr(exc, "location", None)
            raise _Failed(f"{what} failed: {exc}", getattr(location, "bpmn_id", None) or element_id) from None

    # ------------------------------------------------------------ checking
    def check(self, expect: dict):
        if not expect:
            return
        record = self.engine.store.get_instance(self.instance_id)
        ready = {t.bpmn_id for t in record.ready_tasks}
        for bpmn_id in expect.get("ready", []):
            if bpmn_id not in ready:
                raise _Failed(f"expected the task '{bpmn_id}' to be ready, but {self._ready_words(record)}", bpmn_id)
        for bpmn_id in expect.get("not_ready", []):
            if bpmn_id in ready:
                raise _Failed(f"expected the task '{bpmn_id}' not to be ready, but it is", bpmn_id)
        passed = self.passed() if ("path" in expect or "path_any" in expect) else []
        _check_path(expect.get("path", []), passed)
        missing = [e for e in expect.get("path_any", []) if e not in passed]
        if missing:
            raise _Failed(f"expected the process to pass '{missing[0]}', but it did not; it passed: "
                          f"{_ids(passed)}", missing[0])
        if "end" in expect:
            self._check_end(expect["end"], record)
        if expect.get("data"):
            data = record.data if record.status == "completed" else self.engine.instance_data(self.instance_id)
            for key, wanted in expect["data"].items():
                if key not in data:
                    raise _Failed(f"expected {key} = {json.dumps(wanted)}, but the data has no {key}")
                if data[key] != wanted:
                    raise _Failed(f"expected {key} = {json.dumps(wanted)}, but it was {json.dumps(data[key])}")
        started = [e["process"] for e in self.engine.recorded if e["kind"] == "start_process"]
        for process_id in expect.get("started", []):
            if process_id not in started:
                raise _Failed(f"expected a '{process_id}' process to be started, but "
                              + (f"the processes started were: {', '.join(started)}" if started
                                 else "no process was started"))
        signalled = [e["name"] for e in self.engine.recorded if e["kind"] == "signal_parent"]
        for name in expect.get("signalled", []):
            if name not in signalled:
                raise _Failed(f"expected the signal '{name}' to be sent to the calling process, but "
                              + (f"the signals sent were: {', '.join(signalled)}" if signalled
                                 else "no signal was sent"))

    def _check_end(self, wanted: str | None, record):
        ends = self.ends()
        if wanted is None:
            if record.status != "running":  # (marked where it ended)
                raise _Failed(f"expected the process to be still running, but it is {record.status}"
                              + (f" at '{ends[-1]}'" if ends else ""), ends[-1] if ends else None)
            return
        if record.status != "completed":
            raise _Failed(f"expected the process to end at '{wanted}', but it is {record.status}; "
                          f"{self._ready_words(record)}", wanted)
        if wanted not in ends:
            raise _Failed(f"expected the process to end at '{wanted}', but it ended at "
                          f"'{ends[-1] if ends else 'an unnamed end'}'", wanted)

    def _workflow(self):
        return self.engine._load(self.engine.store.get_instance(self.instance_id))

    def passed(self) -> list[str]:
        """The element ids completed so far, call activities' insides included, in the order they completed."""
        wf = self._workflow()
        done = [(t.last_state_change, t.task_spec.bpmn_id) for t in wf.get_tasks()
                if t.state == TaskState.COMPLETED and t.task_spec.bpmn_id]
        done += [(at, bpmn_id) for _process, bpmn_id, at in history_of(wf)]
        return [bpmn_id for _at, bpmn_id in sorted(done, key=lambda pair: pair[0])]

    def ends(self) -> list[str]:
        wf = self._workflow()
        done = [(t.last_state_change, t.task_spec.bpmn_id) for t in wf.get_tasks()
                if t.state == TaskState.COMPLETED and t.workflow is wf and isinstance(t.task_spec, EndEvent)
                and t.task_spec.bpmn_id]
        ends = {s.bpmn_id for s in wf.spec.task_specs.values() if isinstance(s, EndEvent)}
        done += [(at, bpmn_id) for process, bpmn_id, at in history_of(wf) if process == wf.spec.name
                 and bpmn_id in ends]
        return [bpmn_id for _at, bpmn_id in sorted(done, key=lambda pair: pair[0])]

    def _ready_words(self, record) -> str:
        if record.status != "running":
            return f"the process is {record.status}"
        if not record.ready_tasks:
            timers = ", ".join(f"{t.bpmn_id} at {periods.iso(t.due_at)}" for t in record.timers)
            return "no task is ready" + (f" (it waits for timers: {timers})" if timers else "")
        return "the ready tasks were: " + ", ".join(f"{t.bpmn_id} ({t.name})" for t in record.ready_tasks)


def _check_path(wanted: list[str], passed: list[str]):
    position = 0
    for element in wanted:
        try:
            position = passed.index(element, position) + 1
        except ValueError:
            before = f" after '{wanted[wanted.index(element) - 1]}'" if wanted.index(element) else ""
            raise _Failed(f"expected the process to pass '{element}'{before}, but it did not; it passed: "
                          f"{_ids(passed)}", element) from None


def _ids(passed: list[str], limit: int = 25) -> str:
    shown = list(dict.fromkeys(passed))
    if not shown:
        return "nothing yet"
    more = f" and {len(shown) - limit} more" if len(shown) > limit else ""
    return ", ".join(shown[-limit:]) + more



# ----------------------------------------------------------------------------------------------- the deploy gate
_RESULTS: dict[tuple[str, str, str], ScenarioResult] = {}
_RESULTS_KEPT = 256
_RESULTS_LOCK = threading.Lock()


def run_cached(compiled, scenarios: Mapping[str, bytes]) -> list[ScenarioResult]:
    """`run_all`, each scenario run once per (version content, scenario content): a validate and then a deploy of
    the same drafts, or a deploy the CLI repeats, run nothing twice."""
    results = []
    for name, content in sorted(scenarios.items()):
        key = (compiled.content_hash, name, hashlib.sha256(content).hexdigest())
        found = _RESULTS.get(key)
        if found is None:
            found = run_file(compiled, name, content)
            with _RESULTS_LOCK:  # (requests run in threads)
                _RESULTS[key] = found
                while len(_RESULTS) > _RESULTS_KEPT:
                    _RESULTS.pop(next(iter(_RESULTS)))
        results.append(found)
    return results


def check(scenarios: Mapping[str, bytes]):
    """An extra check for `workflows.specs.validate`: every scenario must pass on the version. A failing one is an
    error located at the scenario file (its step in the message, the element where it failed); when all pass, one
    notice says how many."""
    def check_scenarios(compiled) -> list[Problem]:
        if not scenarios:
            return []
        results = run_cached(compiled, scenarios)
        problems = [r.problem() for r in results if not r.passed]
        if problems:
            return problems
        count = len(results)
        return [Problem(f"{count} scenario{'s' if count != 1 else ''} passed", severity="notice")]
    return check_scenarios


def read_scenarios(directory) -> dict[str, bytes]:
    """The *.scenario.json files of a folder (the bundled ones live in bpmn/scenarios), by file name."""
    folder = Path(directory)
    return {p.name: p.read_bytes() for p in sorted(folder.glob(f"*{SCENARIO_SUFFIX}"))} if folder.is_dir() else {}


# ----------------------------------------------------------------------------------------------- recording
def recorded_facts(engine: WorkflowEngine, instance_id: int) -> dict:
    """What a scenario recorded from a running or finished instance needs of its workflow: the data it was started
    with, the end events it reached (in order) and, while it runs, its ready tasks."""
    record = engine.store.get_instance(instance_id)
    wf = engine._load(record)
    start = wf.get_next_task(spec_name="Start")
    tasks = wf.get_tasks()
    ends = sorted((t for t in tasks if t.state == TaskState.COMPLETED and t.workflow is wf
                   and isinstance(t.task_spec, EndEvent) and t.task_spec.bpmn_id), key=lambda t: t.last_state_change)
    return {"process": record.process_id, "status": record.status,
            "start": {k: v for k, v in (start.data if start is not None else {}).items() if not k.startswith("_")},
            "ends": [t.task_spec.bpmn_id for t in ends],
            "ready": sorted({t.bpmn_id for t in record.ready_tasks}),
            "data": dict(record.data) if record.status == "completed" else {}}


def period_between(earlier: datetime, later: datetime) -> str | None:
    """The ISO period from one instant to the next ('P3DT4H'), or None when they are the same."""
    seconds = int((later - earlier).total_seconds())
    if seconds <= 0:
        return None
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    time_part = "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M"), (seconds, "S")) if v)
    return "P" + (f"{days}D" if days else "") + (f"T{time_part}" if time_part else "")
