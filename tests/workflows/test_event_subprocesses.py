"""Event sub-processes run where SpiffWorkflow 3.2 runs them correctly, and are refused, at the element, where not.

Runs: non-interrupting ones started by a signal or a message (in a process that runs on its own) or by a duration
or date timer. A trigger never changes the version's shared spec (engine notes P5): a second instance of the same
version is unaffected by the first one's trigger, in the engine that triggered it and in one that loads the
version from storage. Refused: interrupting ones (P4: shown below against the library itself), cycle timers,
other kinds of start, and signal/message ones where the library never starts them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.spiff.specs.event_definitions import SignalEventDefinition
from SpiffWorkflow.util.task import TaskState

from tests.support.bpmn import (
    LOOP_FORM,
    MESSAGE_PING,
    SIGNAL_PING,
    call_work,
    definitions,
    event_subprocess,
    timer_start,
    work_process,
)
from tests.support.bundles import T0
from workflows import EventNotExpected, InMemoryStore, ValidationFailed, WorkflowEngine, validate
from workflows.inspect import inspect
from workflows.starting import declarations

FORMS = {"loop.schema.json": LOOP_FORM}


def deploy(*processes, engine=None):
    engine = engine or WorkflowEngine(InMemoryStore())
    version_id, _compiled = engine.deploy({"esp.bpmn": definitions(*processes)}, FORMS)
    return engine, version_id


def ready(engine, instance_id, bpmn_id=None):
    return [t for t in engine.ready_tasks(instance_id) if bpmn_id is None or t.bpmn_id == bpmn_id]


def complete(engine, instance_id, bpmn_id, data=None, now=T0):
    (task, *_) = ready(engine, instance_id, bpmn_id)
    return engine.complete_task(instance_id, task.id, data or {}, now=now)


# ------------------------------------------------------------------ what runs
@pytest.mark.parametrize("send", ["signal", "message"])
def test_a_non_interrupting_event_sub_process_runs_beside_the_flow(send):
    engine, version_id = deploy(work_process("main", event_subprocess(SIGNAL_PING if send == "signal"
                                                                       else MESSAGE_PING)))
    instance_id = engine.start(version_id, "main", {"who": "ada"}, now=T0).instance_id
    sent = (engine.send_signal if send == "signal" else engine.send_message)(instance_id, "ping", {}, now=T0)
    assert sorted(t.bpmn_id for t in sent.ready) == ["esp_task", "main_work"]  # the flow was not interrupted
    # the flow ends first: the instance waits for the event sub-process, as BPMN says
    assert complete(engine, instance_id, "main_work", {"i": 1}).status == "running"
    done = complete(engine, instance_id, "esp_task", {"again": True})
    assert done.status == "completed"
    assert done.data == {"who": "ada", "i": 1, "again": True}  # both paths' data, as at a parallel join


def test_each_signal_starts_another_run():
    engine, version_id = deploy(work_process("main", event_subprocess(SIGNAL_PING)))
    instance_id = engine.start(version_id, "main", now=T0).instance_id
    engine.send_signal(instance_id, "ping", now=T0)
    engine.send_signal(instance_id, "ping", now=T0)
    assert len(ready(engine, instance_id, "esp_task")) == 2
    complete(engine, instance_id, "esp_task")
    complete(engine, instance_id, "main_work")
    assert complete(engine, instance_id, "esp_task").status == "completed"


def test_a_second_instance_is_unaffected_by_the_first_ones_trigger():
    """Engine notes P5: SpiffWorkflow connected a triggered event sub-process to the shared spec's start, so every
    later instance of the version started with it waiting and never completed."""
    engine, version_id = deploy(work_process("main", event_subprocess(SIGNAL_PING, handler="script")))
    spec = engine.specs(version_id)["main"]
    outputs = [list(t._outputs) for t in spec.task_specs.values()]
    first = engine.start(version_id, "main", now=T0).instance_id
    engine.send_signal(first, "ping", now=T0)
    assert [list(t._outputs) for t in spec.task_specs.values()] == outputs  # the spec is as deployed

    second = engine.start(version_id, "main", now=T0).instance_id
    assert [t.bpmn_id for t in engine.ready_tasks(second)] == ["main_work"]
    done = complete(engine, second, "main_work")
    assert done.status == "completed" and "handled" not in done.data
    assert complete(engine, first, "main_work").data == {"handled": True}

    # an engine that loads the version from storage (another worker) is unaffected too
    other = WorkflowEngine(engine.store)
    third = other.start(version_id, "main", now=T0).instance_id
    assert complete(other, third, "main_work").status == "completed"


@pytest.mark.parametrize("timer", [timer_start("timeDuration", "PT1H"),
                                   timer_start("timeDate", '"2026-01-31T10:00:00Z"')])
def test_a_timer_event_sub_process_fires_when_due_and_not_before(timer):
    engine, version_id = deploy(work_process("main", event_subprocess(timer)))
    instance_id = engine.start(version_id, "main", now=T0).instance_id  # T0 is 09:00 UTC
    (due,) = engine.store.get_instance(instance_id).timers
    assert due.due_at == T0 + timedelta(hours=1) and due.bpmn_id == "esp_start"
    engine.fire_timers(instance_id, now=T0 + timedelta(minutes=59))
    assert not ready(engine, instance_id, "esp_task")
    fired = engine.fire_timers(instance_id, now=T0 + timedelta(hours=1, seconds=1))
    assert [t.bpmn_id for t in fired.became_ready] == ["esp_task"] and not fired.timers
    complete(engine, instance_id, "esp_task")
    assert complete(engine, instance_id, "main_work").status == "completed"


def test_a_process_whose_flow_ends_before_the_timer_ends_and_drops_the_timer():
    engine, version_id = deploy(work_process("main", event_subprocess(timer_start("timeDuration", "PT1H"))))
    instance_id = engine.start(version_id, "main", now=T0).instance_id
    done = complete(engine, instance_id, "main_work")
    assert done.status == "completed" and done.timers == []
    assert engine.store.get_instance(instance_id).timers == []


def test_a_timer_event_sub_process_runs_in_a_called_process():
    engine, version_id = deploy(work_process("outer", work=call_work("outer", "inner")),
                                work_process("inner", event_subprocess(timer_start("timeDuration", "PT1H"),
                                                                       handler="script")))
    instance_id = engine.start(version_id, "outer", now=T0).instance_id
    engine.fire_timers(instance_id, now=T0 + timedelta(hours=2))
    assert complete(engine, instance_id, "inner_work").data == {"handled": True}


def test_the_event_sub_process_is_part_of_its_process_not_a_process():
    compiled = validate({"esp.bpmn": definitions(work_process("main", event_subprocess(MESSAGE_PING)))}, FORMS)
    assert compiled.process_ids == ["main"] and "esp" in compiled.specs
    assert [d.process_id for d in declarations(compiled.specs)] == []  # its message start starts no process


# ------------------------------------------------------------------ what is refused, and why
def _library_workflow(xml: bytes):
    """SpiffWorkflow 3.2 itself, without collabflow's validation."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(xml, "esp.bpmn")
    return BpmnWorkflow(parser.get_spec("main"), parser.get_subprocess_specs("main"))


def test_spiffworkflow_does_not_interrupt_for_an_interrupting_event_sub_process():
    """Engine notes P4, the reason interrupting ones are refused: the flow's task stays ready beside the handler.
    Should a SpiffWorkflow upgrade interrupt, this fails, and the refusal can be lifted."""
    wf = _library_workflow(definitions(work_process("main", event_subprocess(SIGNAL_PING, interrupting=True))))
    wf.do_engine_steps()
    wf.send_event(BpmnEvent(SignalEventDefinition("ping"), {}))
    wf.do_engine_steps()
    ready_ids = sorted(t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.READY, manual=True))
    assert ready_ids == ["esp_task", "main_work"]


def test_spiffworkflow_never_starts_a_signal_event_sub_process_of_a_called_process():
    engine = WorkflowEngine(InMemoryStore())
    xml = definitions(work_process("outer", work=call_work("outer", "inner")),
                      work_process("inner", event_subprocess(SIGNAL_PING)))
    with pytest.raises(ValidationFailed):
        engine.deploy({"esp.bpmn": xml}, FORMS)
    wf = _library_workflow(definitions(work_process("main", work=call_work("main", "inner")),
                                       work_process("inner", event_subprocess(SIGNAL_PING))))
    wf.do_engine_steps()
    with pytest.raises(Exception, match="not waiting"):
        wf.send_event(BpmnEvent(SignalEventDefinition("ping"), {}))


NESTED = work_process("main", work='''<bpmn:subProcess id="main_work" name="Stage">
      <bpmn:incoming>main_f1</bpmn:incoming><bpmn:outgoing>main_f2</bpmn:outgoing>
      <bpmn:startEvent id="in_start"><bpmn:outgoing>in_f1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:endEvent id="in_end"><bpmn:incoming>in_f1</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="in_f1" sourceRef="in_start" targetRef="in_end" />''' + event_subprocess(
    SIGNAL_PING, element_id="nested") + "\n    </bpmn:subProcess>")

REFUSED = {
    "interrupting signal": (work_process("main", event_subprocess(SIGNAL_PING, interrupting=True)), "esp",
                            "it is interrupting"),
    "interrupting timer": (work_process("main", event_subprocess(timer_start("timeDuration", "PT1H"),
                                                                 interrupting=True)), "esp", "it is interrupting"),
    "cycle timer": (work_process("main", event_subprocess(timer_start("timeCycle", "R/PT1H"))), "esp",
                    "cycle timer (timeCycle)"),
    "error start": (work_process("main", event_subprocess('<bpmn:errorEventDefinition />')), "esp",
                    "started by error events"),
    "no event": (work_process("main", event_subprocess("")), "esp", "waits for no event"),
    "signal in a called process": (work_process("outer", work=call_work("outer", "inner"))
                                   + work_process("inner", event_subprocess(SIGNAL_PING)), "esp",
                                   "called by the call activity 'outer_work'"),
    "signal inside a sub-process": (NESTED, "nested", "inside the sub-process 'main_work'"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_kinds_that_cannot_run_correctly_are_refused_at_the_element(case):
    processes, element_id, reason = REFUSED[case]
    xml = definitions(processes)
    with pytest.raises(ValidationFailed) as refused:
        validate({"esp.bpmn": xml}, FORMS)
    (problem,) = [p for p in refused.value.problems if p.element_id == element_id]
    assert problem.file == "esp.bpmn" and problem.element_name == "On the event" and problem.line
    assert problem.message.startswith("this event sub-process cannot run here: ") and reason in problem.message
    # inspect (the upload verdict) says the same, at the same place
    assert problem in inspect("esp.bpmn", xml, FORMS).problems


def test_a_runnable_event_sub_process_passes_inspect_too():
    xml = definitions(work_process("main", event_subprocess(SIGNAL_PING)))
    report = inspect("esp.bpmn", xml, FORMS)
    assert report.runnable, report.problems


def test_a_signal_nobody_waits_for_is_still_refused_and_a_waited_for_one_is_listed():
    engine, version_id = deploy(work_process("main", event_subprocess(MESSAGE_PING)))
    instance_id = engine.start(version_id, "main", now=T0).instance_id
    with pytest.raises(EventNotExpected):
        engine.send_signal(instance_id, "ping", now=T0)  # a message sub-process does not catch a signal
    engine, version_id = deploy(work_process("main", event_subprocess(SIGNAL_PING)))
    assert engine.start(version_id, "main", now=T0).waiting_signals == ["ping"]


def test_an_embedded_sub_process_runs_too():
    """Its spec is collected the way an event sub-process's is (SpiffWorkflow parses each into a spec of its own)."""
    engine, version_id = deploy(NESTED.replace(event_subprocess(SIGNAL_PING, element_id="nested"), ""))
    assert engine.start(version_id, "main", now=T0).status == "completed"
