"""WorkflowEngine: the one door to SpiffWorkflow. Deploy versions, start, advance, complete, signal, cancel.

Every instance operation is load -> act -> run engine steps (and due timers) -> save with the revision
that was read. What changed comes back as a Result for the caller to index and audit. The script
sandbox is attached on every load, the clock is the operation's `now`, and specs are parsed once per
version and shared by all its instances (never stored per instance).
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition as AnySignal
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.exceptions import TaskNotFoundException, WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition, SignalEventDefinition
from SpiffWorkflow.util.task import TaskState

from . import clock, connectors, event_subprocesses, joins, periods, repair  # noqa: F401 (joins: parallel joins in loops count this round only; event_subprocesses: P4, P5)
from .carry_forward import carry_forward
from .compaction import compact
from .effects import effects_var, json_data
from .errors import (
    Conflict,
    EventNotExpected,
    InvalidData,
    MigrationRefused,
    ScriptFailed,
    ScriptLocation,
    SpecNotFound,
    TaskNotFound,
    TaskNotReady,
    WorkflowError,
)
from .helpers import default_helpers
from .inspect import InspectionReport, inspect
from .scripting import DEFAULT_TIME_LIMIT, SandboxEnvironment, SandboxScriptEngine
from .serialization import STATE_FORMAT, dump_specs, dump_state, load_specs, load_state
from .specs import CompiledVersion, validate
from .store import InstanceRecord, InstanceStore, StoredVersion
from .user_tasks import Effect, Event, ServiceCall, TimerDue, UserTask
from .versions import (
    MigrationPreview,
    MigrationVerdict,
    VersionDiff,
    check_migration,
    diff_versions,
    migrate,
    preview_migration,
)

# Engine notes P6: sequence-flow loops deepen the task tree by 2 per pass and SpiffWorkflow's iterator
# stops at depth 1000, silently stalling an instance after ~500 rework loops. Lift the bound.
_defaults = list(BpmnTaskIterator.__init__.__defaults__)
_defaults[1] = 10**9
BpmnTaskIterator.__init__.__defaults__ = tuple(_defaults)

MAX_ROUNDS = 1_000  # engine-step/timer rounds per operation (a cycle timer catches up one period a round)
MAX_EFFECTS = 200  # linked-instance effects one user action may cause, transitively
RESERVED_PREFIXES = ("_",)


@dataclass
class Result:
    """What one operation changed in one instance (and, through `linked`, in the instances it touched)."""

    instance_id: int
    process_id: str
    version_id: int
    status: str
    revision: int
    ready: list[UserTask] = field(default_factory=list)
    became_ready: list[UserTask] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    timers: list[TimerDue] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    linked: list[Result] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    waiting_signals: list[str] = field(default_factory=list)  # signals a catch event of the instance waits for
    service_calls: list[ServiceCall] = field(default_factory=list)  # connector calls for the app to perform

    def all(self) -> Iterable[Result]:
        yield self
        for child in self.linked:
            yield from child.all()


class WorkflowEngine:
    """Runs the instances kept in `store`. Thread-safe; holds only a cache of parsed specs."""

    compaction = True  # finished loop rounds leave the task tree (workflows.compaction); False keeps every task
    compaction_history = False  # keep the elements finished rounds removed (workflows.compaction); scenarios do

    def __init__(self, store: InstanceStore | None, *, helpers: Mapping[str, Callable] | None = None,
                 script_time_limit: float = DEFAULT_TIME_LIMIT, spec_cache_size: int = 32):
        self.store = store
        self.script_engine = SandboxScriptEngine(
            SandboxEnvironment({**default_helpers(), **(helpers or {})}, time_limit=script_time_limit))
        self.function_names = frozenset(self.script_engine.environment.function_names)
        self._specs: OrderedDict[int, dict] = OrderedDict()
        self._spec_cache_size = spec_cache_size
        self._lock = threading.Lock()

    def using(self, store: InstanceStore) -> WorkflowEngine:
        """The same engine (specs cache, sandbox) working on another store, e.g. one per transaction."""
        clone = object.__new__(WorkflowEngine)
        clone.__dict__.update(self.__dict__)
        clone.store = store
        return clone

    # ------------------------------------------------------------------ versions
    def validate(self, files, forms, extra_checks=()) -> CompiledVersion:
        """Raises ValidationFailed with every located problem."""
        return validate(files, forms, extra_checks, functions=self.function_names)

    def inspect(self, name: str, content: bytes, forms: Mapping[str, bytes] | None = None, extra_checks=(),
                decisions: Mapping[str, bytes] | None = None) -> InspectionReport:
        """The verdict for one file from another tool: the checks validate and deploy run, with this engine's
        functions, beside the decision tables given; never raises for the file's content."""
        return inspect(name, content, dict(forms or {}), functions=self.function_names, extra_checks=extra_checks,
                       decisions=decisions)

    def deploy(self, files: Mapping[str, bytes], forms: Mapping[str, bytes], *, author: str | None = None,
               message: str | None = None, extra_checks=()) -> tuple[int, CompiledVersion]:
        """Validate and store a new immutable version. Raises ValidationFailed; nothing is stored then."""
        compiled = validate(files, forms, extra_checks, functions=self.function_names)
        version = StoredVersion(None, dict(files), dict(forms), compiled.content_hash, dump_specs(compiled.specs),
                                compiled.process_ids, author, message)
        version_id = self.store.add_version(version)
        self._remember(version_id, compiled.specs)
        return version_id, compiled

    def specs(self, version_id: int) -> dict:
        with self._lock:
            specs = self._specs.get(version_id)
            if specs is not None:
                self._specs.move_to_end(version_id)
                return specs
        specs = load_specs(self.store.get_version(version_id).spec_json)
        event_subprocesses.wire(specs.values())  # (stored wired since they run; older versions had none)
        self._remember(version_id, specs)
        return specs

    def _remember(self, version_id, specs):
        with self._lock:
            self._specs[version_id] = specs
            while len(self._specs) > self._spec_cache_size:
                self._specs.popitem(last=False)

    # ------------------------------------------------------------------ instances
    def start(self, version_id: int, process_id: str, data: dict | None = None, *,
              now: datetime | None = None, parent_id: int | None = None, triggered: bool = False) -> Result:
        """Start `process_id` of a version with initial data. Raises SpecNotFound, InvalidData, ScriptFailed.

        `triggered`: the product starts it because its start event's timer fell due or its message arrived, so the
        start event counts as fired (each occurrence is an instance of its own, not a wait inside one)."""
        data = dict(data or {})
        _check_data(data)
        specs = self.specs(version_id)
        if process_id not in specs:
            raise SpecNotFound(f"version {version_id} has no process {process_id!r} "
                               f"(it has {', '.join(sorted(specs))})")
        budget = _Budget()
        now = now or clock.now()
        with clock.running_at(now), _collect_effects() as effects:
            wf = BpmnWorkflow(specs[process_id], specs, script_engine=self.script_engine)
            wf.get_next_task(spec_name="Start").data.update(data)
            if triggered:
                _fire_start_events(wf, now)
            events = [Event("instance.started", {"process_id": process_id, "version_id": version_id,
                                                 "parent_id": parent_id})]
            self._advance(wf, events)
            record = InstanceRecord(None, version_id, process_id, "running", "", STATE_FORMAT, 0, parent_id,
                                    title=str(data["title"])[:300] if data.get("title") else None)
            result = self._snapshot(record, wf, events)
        record.id = self.store.create_instance(record)
        record.revision = 1
        result.instance_id, result.revision = record.id, 1
        self._run_effects(record, effects, now, budget, result)
        return result

    def complete_task(self, instance_id: int, task_id: str, data: dict | None = None, *,
                      now: datetime | None = None, expected_revision: int | None = None) -> Result:
        """Complete a ready user task with form data. Raises TaskNotFound, TaskNotReady, Conflict, ScriptFailed."""
        data = dict(data or {})
        _check_data(data)

        def act(wf):
            task = _find_task(wf, task_id)
            if task.state != TaskState.READY or not task.task_spec.manual:
                raise TaskNotReady(f"task {task.task_spec.bpmn_name or task.task_spec.name!r} is "
                                   f"{TaskState.get_name(task.state).lower()}, not ready", task_id=task_id)
            # each submitted field replaces the old value whole: SpiffWorkflow's add_data_from_form deep-merges
            # lists by index, so a row removed in the form would come back
            task.set_data(**data)
            task.run()
            return [Event("task.completed", {"task_id": task_id, "bpmn_id": task.task_spec.bpmn_id,
                                             "name": task.task_spec.bpmn_name})]

        return self._operate(instance_id, act, now, expected_revision)

    def send_signal(self, instance_id: int, name: str, payload: dict | None = None, *,
                    now: datetime | None = None, expected_revision: int | None = None) -> Result:
        """Throw signal `name` into the instance. Raises EventNotExpected when nothing catches it."""
        return self._send(instance_id, SignalEventDefinition(name), "signal", payload, now, expected_revision)

    def send_message(self, instance_id: int, name: str, payload: dict | None = None, *,
                     now: datetime | None = None, expected_revision: int | None = None) -> Result:
        return self._send(instance_id, MessageEventDefinition(name), "message", payload, now, expected_revision)

    def _send(self, instance_id, definition, kind, payload, now, expected_revision):
        payload = dict(payload or {})
        _check_data(payload)

        def act(wf):
            try:
                wf.send_event(BpmnEvent(definition, payload))
            except WorkflowException as exc:
                raise EventNotExpected(f"instance {instance_id} is not waiting for the {kind} "
                                       f"{definition.name!r}", name=definition.name) from exc
            return [Event(f"{kind}.received", {"name": definition.name, "payload": payload})]

        return self._operate(instance_id, act, now, expected_revision)

    def fire_timers(self, instance_id: int, *, now: datetime | None = None) -> Result:
        """Run whatever timers are due at `now` (catching up missed ones) and everything that follows.

        When no timer was due after all (another scheduler fired it first), nothing is saved.
        """
        return self._operate(instance_id, lambda wf: [], now, None, save_unchanged=False)

    def cancel(self, instance_id: int, *, now: datetime | None = None, reason: str | None = None) -> Result:
        """Cancel a running instance and the running instances linked to it."""

        def act(wf):
            wf.cancel()
            return [Event("instance.cancelled", {"reason": reason})]

        result = self._operate(instance_id, act, now, None, advance=False)
        for child_id in self.store.linked_instances(instance_id):
            result.linked.append(self.cancel(child_id, now=now, reason=f"parent {instance_id} cancelled"))
        return result

    # ------------------------------------------------------------------ versions of running instances
    def diff(self, old_version_id: int, new_version_id: int) -> VersionDiff:
        """Elements added, removed and changed between two versions."""
        return diff_versions(self.specs(old_version_id), self.specs(new_version_id))

    def check_migration(self, instance_id: int, new_version_id: int) -> MigrationVerdict:
        """Dry run: could the instance move to the new version, and if not, which open elements stop it."""
        record = self.store.get_instance(instance_id)
        if record.status != "running":
            return MigrationVerdict(False, (f"the instance is {record.status}",))
        if record.version_id == new_version_id:
            return MigrationVerdict(False, ("the instance already runs on this version",))
        return check_migration(self._load(record), self.specs(new_version_id))

    def preview_migration(self, instance_id: int, new_version_id: int) -> MigrationPreview:
        """The dry run in full: the verdict, the ready tasks as the new version has them, the new tasks ahead."""
        record = self.store.get_instance(instance_id)
        if record.status != "running" or record.version_id == new_version_id:
            return MigrationPreview(self.check_migration(instance_id, new_version_id))
        return preview_migration(self._load(record), self.specs(new_version_id))

    def migrate(self, instance_id: int, new_version_id: int, *, now: datetime | None = None,
                expected_revision: int | None = None) -> Result:
        """Move a running instance to another version. Raises MigrationRefused naming what stops it."""
        new_specs = self.specs(new_version_id)
        # (should another migration slip in between, this save's revision check refuses it)
        from_version = self.store.get_instance(instance_id).version_id

        def act(wf):
            verdict = check_migration(wf, new_specs)
            if not verdict.can_migrate:
                raise MigrationRefused(f"the instance cannot move to version {new_version_id}: "
                                       + "; ".join(verdict.reasons), reasons=list(verdict.reasons))
            migrate(wf, new_specs)
            return [Event("instance.migrated", {"from_version": from_version, "to_version": new_version_id})]

        return self._operate(instance_id, act, now, expected_revision, version_after=new_version_id)

    def restore(self, instance_id: int, version_id: int, state: str, *, expected_revision: int,
                now: datetime | None = None) -> Result:
        """Put back an earlier state (undo of a migration) if nobody changed the instance since."""
        return self._operate(instance_id, lambda wf: [Event("instance.restored", {"to_version": version_id})], now,
                             expected_revision, advance=False, replace_state=(version_id, state))

    # ------------------------------------------------------------------ repairs by hand (workflows/repair.py)
    def skip_script(self, instance_id: int, bpmn_id: str, *, process_id: str | None = None,
                    reason: str | None = None, now: datetime | None = None,
                    expected_revision: int | None = None) -> Result:
        """Move the instance past script task `bpmn_id` (of `process_id`): the task completes without running its
        script, and the instance goes on. Raises MoveRefused (not a script task), TaskNotReady (not reached now)."""
        return self._operate(instance_id, lambda wf: repair.skip_script(wf, self._advance, bpmn_id, process_id,
                                                                        reason), now, expected_revision)

    def move_token(self, instance_id: int, from_task_id: str, to_element: str | None = repair.SKIP, *,
                   reason: str | None = None, dry_run: bool = False, now: datetime | None = None,
                   expected_revision: int | None = None) -> Result:
        """Move the token of ready task `from_task_id` back to element `to_element` (done before), or past the task
        when `to_element` is None. A dry run reports what would change and saves nothing. Raises TaskNotFound,
        TaskNotReady, MoveRefused, ScriptFailed (what follows the move fails)."""
        return self._operate(instance_id, lambda wf: repair.move_token(wf, from_task_id, to_element, reason), now,
                             expected_revision, dry_run=dry_run)

    def done_elements(self, instance_id: int) -> list[repair.DoneElement]:
        """The activities done in the instance, which a token may be moved back to (loads the workflow)."""
        return repair.done_elements(self._load(self.store.get_instance(instance_id)))

    def ready_tasks(self, instance_id: int) -> list[UserTask]:
        """The ready user tasks, read from the stored record (no workflow is loaded)."""
        return list(self.store.get_instance(instance_id).ready_tasks)

    def get_task(self, instance_id: int, task_id: str) -> UserTask:
        """One task with its current data (loads the workflow). Raises TaskNotFound."""
        record = self.store.get_instance(instance_id)
        wf = self._load(record)
        return _user_task(_find_task(wf, task_id), with_data=True)

    def instance_data(self, instance_id: int) -> dict:
        """The instance's data: final data when completed, else the data of the task completed last
        (anywhere in the tree, call activities included)."""
        record = self.store.get_instance(instance_id)
        wf = self._load(record)
        if record.status == "completed":  # (a cancelled workflow also says `completed`, with empty data)
            return dict(wf.data)
        # (not get_tasks(state=COMPLETED): that query does not look below tasks that are still waiting)
        done = [task for task in wf.get_tasks() if task.state == TaskState.COMPLETED]
        return dict(max(done, key=lambda t: t.last_state_change).data) if done else {}

    # ------------------------------------------------------------------ internals
    def _load(self, record: InstanceRecord):
        wf = load_state(record.state, self.specs(record.version_id))
        wf.script_engine = self.script_engine  # engine notes P2: never run with Spiff's default engine
        return wf

    def _operate(self, instance_id, act, now, expected_revision, advance=True, save_unchanged=True,
                 version_after: int | None = None, replace_state: tuple[int, str] | None = None,
                 dry_run: bool = False) -> Result:
        record = self.store.get_instance(instance_id)
        if expected_revision is not None and record.revision != expected_revision:
            raise Conflict(f"instance {instance_id} is at revision {record.revision}, not {expected_revision}")
        if record.status != "running":
            raise TaskNotReady(f"instance {instance_id} is {record.status}", status=record.status)
        budget = _Budget()
        now = now or clock.now()  # one instant per operation: nothing falls due half-way through
        with clock.running_at(now), _collect_effects() as effects:
            if replace_state is not None:
                record.version_id, record.state = replace_state
            wf = self._load(record)
            events = _guarded(act, wf)
            if version_after is not None:
                record.version_id = version_after
            if advance:
                self._advance(wf, events)
            result = self._snapshot(record, wf, events)
        if dry_run or (not save_unchanged and not result.events):
            return result
        record.revision = self.store.save_instance(record)
        result.revision = record.revision
        self._run_effects(record, effects, now, budget, result)
        return result

    def _advance(self, wf, events: list[Event] | None = None):
        """Run engine steps and due timers until only people or the future can move the instance; a ready task a
        rework did not reopen is carried forward (`carry_forward`), its event added to `events`.

        SpiffWorkflow refreshes timers at the *end* of do_engine_steps, which can leave a fired timer READY
        but not run (engine notes, section 2); cycle timers catch up one period per refresh. So: step,
        refresh, and go round again while a watched timer fired. Timers come from the event manager,
        not from walking the task tree.
        """
        def rounds(wf):
            _skip_missed_cycles(wf, clock.now())
            for _ in range(MAX_ROUNDS):
                watched = _timer_tasks(wf)
                before = {task.id: _cycle_next(task) for task in watched}
                wf.do_engine_steps()
                carried = carry_forward(wf)
                if carried:
                    if events is not None:
                        events.extend(carried)
                    continue
                for task in _timer_tasks(wf):
                    if task.id not in before:
                        watched.append(task)
                        before[task.id] = _cycle_next(task)
                wf.refresh_timers()
                if not any(task.state == TaskState.READY or _cycle_next(task) != before[task.id]
                           for task in watched):
                    return
        _guarded(rounds, wf)

    def _snapshot(self, record: InstanceRecord, wf, events: list[Event]) -> Result:
        before_ready = {t.id for t in record.ready_tasks}
        before_timers = {t.task_id: t for t in record.timers}
        ready = [_user_task(task) for task in wf.get_tasks(state=TaskState.READY, manual=True)]
        timers = [due for due in map(_timer_due, _timer_tasks(wf)) if due is not None]
        ready_ids = {t.id for t in ready}
        completed, cancelled = [], []
        for task_id in before_ready - ready_ids:
            task = _find_task_or_none(wf, task_id)
            (completed if task is not None and task.state == TaskState.COMPLETED else cancelled).append(task_id)
        now_waiting = {t.task_id for t in timers}
        for task_id, timer in before_timers.items():
            if task_id not in now_waiting or timer.due_at not in [t.due_at for t in timers if t.task_id == task_id]:
                if timer.due_at <= clock.now() and not _withdrawn(wf, task_id):
                    events.append(Event("timer.fired", {"task_id": task_id, "bpmn_id": timer.bpmn_id,
                                                        "due_at": periods.iso(timer.due_at)}))
        status = "completed" if wf.completed else ("cancelled" if getattr(wf, "cancelled", False) else "running")
        if events and events[-1].action == "instance.cancelled":
            status = "cancelled"
        if status == "completed" and record.status != "completed":
            events.append(Event("instance.completed", {"process_id": record.process_id}))
        if self.compaction:  # after the closed tasks are known: a task done twice in this action leaves its older self
            compact(wf, history=self.compaction_history)
        record.state = dump_state(wf)
        record.state_format = STATE_FORMAT
        record.status = status
        record.ready_tasks = sorted(ready, key=lambda t: t.id)
        record.closed_tasks = {**{i: "completed" for i in completed}, **{i: "cancelled" for i in cancelled}}
        record.timers = sorted(timers, key=lambda t: t.due_at)
        record.data = dict(wf.data) if wf.completed else {}
        return Result(record.id, record.process_id, record.version_id, status, record.revision,
                      ready=record.ready_tasks, became_ready=[t for t in ready if t.id not in before_ready],
                      completed=sorted(completed), cancelled=sorted(cancelled), timers=record.timers,
                      events=events, data=record.data, waiting_signals=_signal_waits(wf))

    def _run_effects(self, record, effects: list[Effect], now, budget: _Budget, result: Result):
        for effect in effects:
            budget.spend()
            if effect.kind == "start_process":
                # linked instances hang off the relationship (the top instance), so a review that
                # schedules the next review makes a sibling, not a chain of descendants
                result.linked.append(self.start(record.version_id, effect.process_id, effect.data, now=now,
                                                parent_id=record.parent_id or record.id))
            elif effect.kind == "cancel_linked":
                for child_id in self.store.linked_instances(record.id, effect.process_id):
                    result.linked.append(self.cancel(child_id, now=now, reason="cancelled by its parent"))
            elif effect.kind == "signal_parent" and record.parent_id is not None:
                try:
                    result.linked.append(self.send_signal(record.parent_id, effect.name, effect.data, now=now))
                except (EventNotExpected, TaskNotReady):
                    result.events.append(Event("signal.unanswered", {"name": effect.name, "to": record.parent_id,
                                                                     "payload": effect.data}))
            elif effect.kind == "signal_parent":
                result.events.append(Event("signal.unanswered", {"name": effect.name, "to": None,
                                                                 "payload": effect.data}))
            elif effect.kind == "connector" and effect.call.connector == connectors.RAISE_NONCONFORMITY.id:
                result.linked.append(self._raise_nonconformity(record, effect.call, now))
                result.events.append(Event("connector.nonconformity_raised", {
                    "connector": effect.call.connector, "task_id": effect.call.task_id,
                    "bpmn_id": effect.call.bpmn_id, "name": effect.call.task_name,
                    "nonconformity_id": result.linked[-1].instance_id, "title": effect.call.params["title"],
                    "severity": effect.call.params["severity"]}))
            elif effect.kind == "connector":
                result.service_calls.append(effect.call)

    def _raise_nonconformity(self, record, call: ServiceCall, now) -> Result:
        """The nonconformity a service task raises: a linked instance, like one a script starts."""
        if connectors.NONCONFORMITY_PROCESS not in self.specs(record.version_id):
            raise call.failed(f"it starts the process {connectors.NONCONFORMITY_PROCESS!r}, which version "
                              f"{record.version_id} does not have")
        return self.start(record.version_id, connectors.NONCONFORMITY_PROCESS, call.params, now=now,
                          parent_id=record.parent_id or record.id)


def _fire_start_events(wf, now: datetime) -> None:
    """Mark the process's own start events as fired (SpiffWorkflow reads `event_fired`, and for timers their
    `event_value`, before waiting)."""
    fired = (now - timedelta(seconds=1)).isoformat()
    for task in wf.get_tasks(state=TaskState.NOT_FINISHED_MASK):
        definition = getattr(task.task_spec, "event_definition", None)
        if task.workflow is not wf or not isinstance(task.task_spec, StartEvent) or definition is None:
            continue
        if isinstance(definition, CycleTimerEventDefinition):  # a cycle makes its path when a cycle passes: one
            task._set_internal_data(event_value={"cycles": 1, "next": fired, "duration": 1.0})
        else:
            task._set_internal_data(event_fired=True, event_value=fired)


def _guarded(step, wf):
    """Run `step(wf)`; whatever a diagram makes SpiffWorkflow raise becomes a located ScriptFailed."""
    try:
        return step(wf)
    except WorkflowError:
        raise
    except Exception as exc:
        raise _script_failed(exc) from exc


class _Budget:
    def __init__(self):
        self.left = MAX_EFFECTS

    def spend(self):
        self.left -= 1
        if self.left < 0:
            raise WorkflowError(f"more than {MAX_EFFECTS} linked-instance actions in one operation")


class _collect_effects:
    def __enter__(self):
        self._effects: list[Effect] = []
        self._token = effects_var.set(self._effects)
        return self._effects

    def __exit__(self, *exc):
        effects_var.reset(self._token)
        return False


def _check_data(data: dict):
    json_data(data)
    for key in data:
        if key.startswith(RESERVED_PREFIXES):
            raise InvalidData(f"field name {key!r} is reserved (names may not start with '_')", field=key)


def _uuid(task_id):
    try:
        return UUID(str(task_id))
    except ValueError:
        raise TaskNotFound(f"{task_id!r} is not a task id") from None


def _find_task(wf, task_id):
    try:
        task = wf.get_task_from_id(_uuid(task_id))
    except TaskNotFoundException:
        task = None
    if task is None:
        raise TaskNotFound(f"the instance has no task {task_id}", task_id=str(task_id))
    return task


def _find_task_or_none(wf, task_id):
    try:
        return _find_task(wf, task_id)
    except TaskNotFound:
        return None


def _withdrawn(wf, task_id) -> bool:
    """A timer that stopped waiting without firing: its task was cancelled, or removed by a token move."""
    task = _find_task_or_none(wf, task_id)
    return task is None or task.state == TaskState.CANCELLED


def _user_task(task, with_data=False) -> UserTask:
    spec = task.task_spec
    extensions = getattr(spec, "extensions", {}) or {}
    properties = dict(extensions.get("properties", {}) or {})
    parent_task_id = getattr(task.workflow, "parent_task_id", None)
    return UserTask(
        id=str(task.id), bpmn_id=spec.bpmn_id or spec.name, name=spec.bpmn_name or spec.bpmn_id or spec.name,
        lane=spec.lane, process_id=task.workflow.spec.name,
        form=properties.get("formJsonSchemaFilename"), ui_form=properties.get("formUiSchemaFilename"),
        instructions=extensions.get("instructionsForEndUser"), documentation=spec.documentation,
        properties=properties, subprocess_id=str(parent_task_id) if parent_task_id else None,
        data=dict(task.data) if with_data else None, due_at=_deadline(task, properties),
    )


def _deadline(task, properties) -> datetime | None:
    """When a ready task is due: its `dueIn` property (an ISO period, or the name of a data field holding a
    period or a date-time), else the earliest interrupting timer on it or on a call activity around it."""
    due_in = (properties.get("dueIn") or "").strip()
    if due_in:
        value = due_in if due_in.startswith("P") else task.data.get(due_in)
        try:
            if isinstance(value, str) and value.startswith("P"):
                return periods.add_period(clock.now(), value)
            if isinstance(value, str):
                return periods.parse_instant(value)
        except ValueError:
            return None
    dues = []
    while task is not None:
        split = task.parent
        if split is not None and split.task_spec.name.endswith(".BoundaryEventSplit"):
            for sibling in split.children:
                definition = getattr(sibling.task_spec, "event_definition", None)
                if (sibling is not task and isinstance(definition, TimerEventDefinition)
                        and getattr(sibling.task_spec, "cancel_activity", False)):
                    due = _timer_due(sibling)
                    if due is not None:
                        dues.append(due.due_at)
        parent_id = getattr(task.workflow, "parent_task_id", None)
        task = task.workflow.parent_workflow.get_task_from_id(parent_id) if parent_id else None
    return min(dues) if dues else None


def _signal_waits(wf) -> list[str]:
    """The names of the signals the instance's waiting catch events (boundary ones included) and, while it runs, its
    event sub-processes wait for."""
    names = {task.task_spec.event_definition.name for task in wf.event_manager.tasks.values()
             if task.state == TaskState.WAITING
             and isinstance(getattr(task.task_spec, "event_definition", None), AnySignal)}
    if not wf.completed:
        names.update(start.event_definition.name for name in wf.spec.start.trigger_specs
                     for start in wf.subprocess_specs[name].bpmn_start_events
                     if isinstance(start.event_definition, AnySignal))
    return sorted(names)


def _timer_tasks(wf) -> list:
    """The waiting timer catch events of an instance (and its subprocesses), from Spiff's event manager."""
    return [task for task in wf.event_manager.tasks.values()
            if task.state == TaskState.WAITING and isinstance(getattr(task.task_spec, "event_definition", None),
                                                              TimerEventDefinition)]


def _skip_missed_cycles(wf, now: datetime) -> None:
    """Catch-up policy for cycle timers: after an outage a cycle fires once, not once per missed period,
    and the next firing stays on its calendar position (start + k x period). SpiffWorkflow would fire one
    stale period per refresh; so the oldest missed periods are skipped before the refresh."""
    for task in _timer_tasks(wf):
        if not isinstance(task.task_spec.event_definition, CycleTimerEventDefinition):
            continue
        value = task._get_internal_data("event_value")
        if not value or value.get("cycles") == 0 or not value.get("duration"):
            continue
        due = periods.parse_instant(value["next"])
        period = timedelta(seconds=value["duration"])
        missed = math.ceil((now - due) / period) - 1  # periods due before the latest one
        if missed > 0:
            value = dict(value, next=(due + missed * period).isoformat())
            if value["cycles"] > 0:
                value["cycles"] = max(value["cycles"] - missed, 1)
            task._set_internal_data(event_value=value)


def _cycle_next(task):
    """A cycle timer's next due time (it moves when the cycle fires: the task itself stays WAITING)."""
    value = task._get_internal_data("event_value")
    return value.get("next") if isinstance(value, dict) else None


def _timer_due(task) -> TimerDue | None:
    definition = getattr(task.task_spec, "event_definition", None)
    if not isinstance(definition, TimerEventDefinition):
        return None
    value = task._get_internal_data("event_value")
    if value is None:
        return None
    if isinstance(definition, CycleTimerEventDefinition):
        if value.get("cycles") == 0:
            return None
        value, kind = value["next"], "cycle"
    else:
        kind = "duration" if isinstance(definition, DurationTimerEventDefinition) else "date"
    try:
        due = periods.parse_instant(TimerEventDefinition.get_datetime(value))
    except (TypeError, ValueError):
        return None
    return TimerDue(str(task.id), task.task_spec.bpmn_id or task.task_spec.name, task.task_spec.bpmn_name, due, kind)


def _failing_task(exc: Exception):
    """The Spiff task being run when `exc` was raised: from the exception, else from the traceback's frames
    (SpiffWorkflow raises bare Exceptions, e.g. 'Invalid duration', without saying where)."""
    task = getattr(exc, "task", None)
    if task is not None:
        return task
    tb, found = exc.__traceback__, None
    while tb is not None:
        candidate = tb.tb_frame.f_locals.get("my_task") or tb.tb_frame.f_locals.get("task")
        if candidate is not None and hasattr(candidate, "task_spec"):
            found = candidate
        tb = tb.tb_next
    return found


_PYTHON_DETAIL = re.compile(r"^(?P<name>[A-Z]\w*(?:Error|Exception|Violation)):\s*(?P<detail>.*)$", re.DOTALL)


def _script_failed(exc: Exception) -> ScriptFailed:
    task = _failing_task(exc)
    spec = getattr(task, "task_spec", None) or getattr(exc, "task_spec", None)
    location = ScriptLocation(
        task_id=str(task.id) if task is not None else None,
        bpmn_id=getattr(spec, "bpmn_id", None), task_name=getattr(spec, "bpmn_name", None),
        process_id=task.workflow.spec.name if task is not None else None,
        line=getattr(exc, "line_number", None) or None, source_line=getattr(exc, "error_line", None) or None,
    )
    notes = [n for n in getattr(exc, "notes", []) if n]  # Spiff may add None notes; its __str__ then fails
    # Spiff's own line note repeats what the location says; its 'ZeroDivisionError:division by zero' is Python's
    notes = [n for n in notes if not n.startswith("Python script error on line")]
    first = str(exc.args[0]) if exc.args else "the step failed"
    python = _PYTHON_DETAIL.match(first)
    if python:
        first = f"the script failed: {python.group('detail') or python.group('name')}"
    message = ". ".join([first, *notes])
    location.notes = notes
    return ScriptFailed(message, location)
