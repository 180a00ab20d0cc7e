"""Small BPMN documents built in tests, for behaviours that need a diagram of their own."""

from __future__ import annotations

from xml.sax.saxutils import escape

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" '
        'targetNamespace="http://collabflow.test">\n')


def script_process(script: str, process_id: str = "hostile", name: str = "Hostile script") -> bytes:
    """start -> script task (the given source) -> end."""
    return (HEAD + f'''  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="evil" name="{name}">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{escape(script)}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="evil" />
    <bpmn:sequenceFlow id="f2" sourceRef="evil" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>''').encode()


def condition_process(condition: str, process_id: str = "cond") -> bytes:
    """start -> gateway with `condition` on one branch -> two ends."""
    return (HEAD + f'''  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="gw" name="Check" default="f3">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="yes"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="no"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw" />
    <bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="yes">
      <bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="no" />
  </bpmn:process>
</bpmn:definitions>''').encode()


def rework_loop(process_id: str = "loop") -> bytes:
    """start -> user task -> gateway (again? back : end): a sequence-flow loop (engine notes P6)."""
    return (HEAD + f'''  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="step" name="Do the step">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="loop.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f_again</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="gw" name="Again?" default="f_done">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f_again</bpmn:outgoing><bpmn:outgoing>f_done</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="end"><bpmn:incoming>f_done</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="step" />
    <bpmn:sequenceFlow id="f2" sourceRef="step" targetRef="gw" />
    <bpmn:sequenceFlow id="f_again" sourceRef="gw" targetRef="step">
      <bpmn:conditionExpression>again</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_done" sourceRef="gw" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>''').encode()


LOOP_FORM = (b'{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", '
             b'"properties": {"again": {"type": "boolean"}, "i": {"type": "integer"}, '
             b'"form": {"type": "object"}}}')
