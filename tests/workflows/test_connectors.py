"""Service tasks run the product's connectors: parameters evaluated from the task's data in the sandbox, the call
recorded for the app (or, for a nonconformity, a linked instance started), a connector the product does not have
refused at validation with the list, and a bad parameter a located error at validation or at run time."""

from __future__ import annotations

import pytest

from tests.support.bpmn import FORM_PROPERTY, LOOP_FORM, chain_process, service_task
from tests.support.bundles import T0
from workflows import CONNECTORS, InMemoryStore, ScriptFailed, ValidationFailed, WorkflowEngine, validate
from workflows.inspect import inspect

FORMS = {"loop.schema.json": LOOP_FORM}
NONCONFORMITY = chain_process("nonconformity", f'<bpmn:userTask id="nc_fix" name="Fix it">{FORM_PROPERTY}'
                                               '</bpmn:userTask>')
NOTIFY = {"to_role": "'ser'", "to_users": "owner", "subject": "'Risk review: ' + partner", "body": "note"}
ENTRY = {"register": "'risks'", "joint": "True",
         "entry": "{'risk': risk, 'owner': owner, 'likelihood': 3, 'impact': impact}"}
RAISE = {"title": "'Late review of ' + partner", "description": "note", "severity": "severity",
         "requirement": "'M10.1'"}
DATA = {"partner": "ACME", "owner": "ada", "note": "It slipped.", "risk": "Supplier insolvency", "impact": 4,
        "severity": "minor"}


def deploy(*elements, engine=None, with_nonconformity=True):
    engine = engine or WorkflowEngine(InMemoryStore())
    files = {"service.bpmn": chain_process("service", *elements)}
    if with_nonconformity:
        files["nonconformity.bpmn"] = NONCONFORMITY
    version_id, _compiled = engine.deploy(files, FORMS)
    return engine, version_id


def problems_of(*elements, name="service.bpmn"):
    with pytest.raises(ValidationFailed) as refused:
        validate({name: chain_process("service", *elements)}, FORMS)
    return refused.value.problems


# ------------------------------------------------------------------ running
def test_send_notification_evaluates_its_parameters_from_data_and_records_the_call():
    engine, version_id = deploy(service_task("tell", "send_notification", NOTIFY, "Tell the SERs"))
    result = engine.start(version_id, "service", DATA, now=T0)
    assert result.status == "completed"
    (call,) = result.service_calls
    assert call.connector == "send_notification"
    assert call.params == {"to_role": "ser", "to_users": ["ada"], "subject": "Risk review: ACME",
                           "body": "It slipped."}
    assert (call.bpmn_id, call.task_name, call.process_id) == ("tell", "Tell the SERs", "service") and call.task_id
    # the result variable says what the connector took (SpiffWorkflow's spiff__<id>_result)
    assert result.data["spiff__tell_result"] == {"connector": "send_notification", "parameters": call.params}


def test_create_register_entry_builds_the_entry_from_data():
    engine, version_id = deploy(service_task("log_risk", "create_register_entry", ENTRY, "Log the risk"))
    (call,) = engine.start(version_id, "service", DATA, now=T0).service_calls
    assert call.params == {"register": "risks", "joint": True, "entry": {
        "risk": "Supplier insolvency", "owner": "ada", "likelihood": 3, "impact": 4}}


def test_raise_nonconformity_starts_the_nonconformity_process():
    engine, version_id = deploy(service_task("raise", "raise_nonconformity", RAISE, "Raise it"))
    result = engine.start(version_id, "service", DATA, now=T0)
    assert result.service_calls == []  # the engine does this one itself
    (nonconformity,) = result.linked
    assert nonconformity.process_id == "nonconformity" and nonconformity.status == "running"
    assert [t.bpmn_id for t in nonconformity.ready] == ["nc_fix"]
    assert engine.store.get_instance(nonconformity.instance_id).parent_id == result.instance_id
    data = engine.get_task(nonconformity.instance_id, nonconformity.ready[0].id).data
    assert data == {"title": "Late review of ACME", "description": "It slipped.", "severity": "minor",
                    "requirement": "M10.1", "source": "process"}
    (event,) = [e for e in result.events if e.action == "connector.nonconformity_raised"]
    assert event.payload["nonconformity_id"] == nonconformity.instance_id and event.payload["bpmn_id"] == "raise"


def test_a_service_task_after_a_user_task_runs_when_the_task_is_completed():
    engine, version_id = deploy(f'<bpmn:userTask id="prepare" name="Prepare">{FORM_PROPERTY}</bpmn:userTask>',
                                service_task("tell", "send_notification", NOTIFY))
    started = engine.start(version_id, "service", DATA, now=T0)
    assert started.service_calls == []
    done = engine.complete_task(started.instance_id, started.ready[0].id, {"i": 1}, now=T0)
    assert [c.connector for c in done.service_calls] == ["send_notification"]


def test_optional_parameters_that_give_nothing_are_left_out():
    engine, version_id = deploy(service_task("tell", "send_notification", {**NOTIFY, "body": "missing_note"}))
    (call,) = engine.start(version_id, "service", {**DATA, "missing_note": ""}, now=T0).service_calls
    assert "body" not in call.params


# ------------------------------------------------------------------ refused at validation, at the element
def test_a_connector_the_product_does_not_have_is_refused_with_the_list():
    (problem,) = problems_of(service_task("call_erp", "http/GetRequestV2", {"url": "'https://erp'"}, "Ask the ERP"))
    assert (problem.file, problem.element_id, problem.element_name) == ("service.bpmn", "call_erp", "Ask the ERP")
    assert problem.line == 5  # the service task's own line
    assert "names the connector 'http/GetRequestV2', which this product does not have" in problem.message
    for connector in CONNECTORS:
        assert connector in problem.message


def test_a_service_task_naming_no_connector_is_refused_with_the_list():
    camunda = ('<bpmn:serviceTask id="erp" name="Book it" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
               'camunda:class="org.example.Book"></bpmn:serviceTask>')
    (problem,) = problems_of(camunda)
    assert problem.element_id == "erp" and problem.element_name == "Book it" and problem.line
    assert problem.message.startswith("this service task names no connector")
    assert all(connector in problem.message for connector in CONNECTORS)
    assert "Service Task must have an operator" not in problem.message  # SpiffWorkflow's words never reach people


@pytest.mark.parametrize(("params", "expected"), [
    ({**NOTIFY, "cc": "'x'"}, "the connector 'send_notification' has no parameter 'cc' (its parameters: to_role, "
                              "to_users, subject, body)"),
    ({"to_role": "'ser'"}, "the connector 'send_notification' needs the parameter 'subject' (subject)"),
    ({"subject": "'Hi'"}, "the connector 'send_notification' needs 'to_role' or 'to_users'"),
    ({**NOTIFY, "subject": "().__class__"}, "the parameter 'subject' of the connector 'send_notification', "
                                            "'().__class__': attribute '__class__' is not allowed"),
    ({**NOTIFY, "subject": "42 +"}, "the parameter 'subject' of the connector 'send_notification', '42 +': syntax"),
    ({**NOTIFY, "subject": "''"}, "the parameter 'subject' is empty; it is required"),
])
def test_bad_parameters_are_refused_at_the_element(params, expected):
    (problem,) = problems_of(service_task("tell", "send_notification", params, "Tell the SERs"))
    assert problem.element_id == "tell" and problem.element_name == "Tell the SERs" and problem.line
    assert expected in problem.message


def test_a_literal_of_the_wrong_kind_is_refused_at_validation():
    problems = problems_of(service_task("raise", "raise_nonconformity", {**RAISE, "severity": "'critical'"}),
                           service_task("log", "create_register_entry", {**ENTRY, "entry": "'a risk'"}))
    assert {p.element_id: p.message for p in problems} == {
        "raise": "the connector 'raise_nonconformity': the parameter 'severity': 'critical' is not one of major, "
                 "minor",
        "log": "the connector 'create_register_entry': the parameter 'entry': expected an object of fields (a "
               "dict), got a text"}


def test_a_parameter_without_a_value_is_refused():
    task = ('<bpmn:serviceTask id="tell" name="Tell"><bpmn:extensionElements><spiffworkflow:serviceTaskOperator '
            'id="send_notification"><spiffworkflow:parameters><spiffworkflow:parameter id="subject" type="str" />'
            '<spiffworkflow:parameter id="to_role" type="str" value="\'ser\'" /></spiffworkflow:parameters>'
            '</spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>')
    messages = {p.message for p in problems_of(task)}
    assert "the parameter 'subject' of the connector 'send_notification' has no value: give it an expression (a " \
           "text in quotes, or the name of a data field)" in messages


def test_parameters_written_with_name_and_without_type_are_read():
    task = service_task("tell", "send_notification", NOTIFY, attribute="name").replace(' type="any"', "")
    engine, version_id = deploy(task)
    (call,) = engine.start(version_id, "service", DATA, now=T0).service_calls
    assert call.params["subject"] == "Risk review: ACME"


def test_inspect_gives_the_same_verdict_as_validate():
    refused = chain_process("service", service_task("call_erp", "http/GetRequestV2", {}, "Ask the ERP"),
                            service_task("tell", "send_notification", {"subject": "'Hi'"}))
    with pytest.raises(ValidationFailed) as failed:
        validate({"service.bpmn": refused}, FORMS)
    assert inspect("service.bpmn", refused, FORMS).problems == failed.value.problems
    accepted = chain_process("service", service_task("tell", "send_notification", NOTIFY))
    assert inspect("service.bpmn", accepted, FORMS).runnable


# ------------------------------------------------------------------ a bad parameter at run time: located, nothing saved
def _after_a_user_task(params, connector="send_notification"):
    engine, version_id = deploy(f'<bpmn:userTask id="prepare" name="Prepare">{FORM_PROPERTY}</bpmn:userTask>',
                                service_task("tell", connector, params, "Tell the SERs"))
    started = engine.start(version_id, "service", DATA, now=T0)
    return engine, started


def test_a_parameter_naming_missing_data_fails_located_and_saves_nothing():
    engine, started = _after_a_user_task({**NOTIFY, "subject": "ser_subject"})
    with pytest.raises(ScriptFailed) as failed:
        engine.complete_task(started.instance_id, started.ready[0].id, {"i": 1}, now=T0)
    location = failed.value.location
    assert (location.bpmn_id, location.task_name, location.process_id) == ("tell", "Tell the SERs", "service")
    message = failed.value.message
    assert "the connector 'send_notification' could not work out its parameter 'subject' from 'ser_subject'" in message
    assert "a text is written in quotes" in message and "(in 'Tell the SERs')" in message
    record = engine.store.get_instance(started.instance_id)
    assert record.revision == started.revision and [t.id for t in record.ready_tasks] == [started.ready[0].id]


def test_a_parameter_of_the_wrong_kind_at_run_time_fails_located():
    engine, started = _after_a_user_task({**RAISE, "severity": "level"}, connector="raise_nonconformity")
    with pytest.raises(ScriptFailed) as failed:
        engine.complete_task(started.instance_id, started.ready[0].id, {"level": "critical"}, now=T0)
    assert failed.value.location.bpmn_id == "tell"
    assert "the connector 'raise_nonconformity': the parameter 'severity': 'critical' is not one of major, minor" \
        in failed.value.message
    assert engine.store.get_instance(started.instance_id).revision == started.revision


def test_raising_a_nonconformity_without_its_process_fails_located():
    engine, version_id = deploy(service_task("raise", "raise_nonconformity", RAISE, "Raise it"),
                                with_nonconformity=False)
    with pytest.raises(ScriptFailed) as failed:
        engine.start(version_id, "service", DATA, now=T0)
    assert failed.value.location.bpmn_id == "raise"
    assert "starts the process 'nonconformity', which version 1 does not have" in failed.value.message
