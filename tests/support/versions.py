"""Later versions of the engine's test diagram (approval.bpmn), as a process owner would change it."""

from __future__ import annotations

CHECK_STEP = b'''<bpmn:userTask id="check" name="Check the plan">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="note.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f2b</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2b" sourceRef="check" targetRef="approve" />
    <bpmn:userTask id="approve"'''


def version_2(files):
    """approval v2: a 'Check the plan' step between prepare and approve; the approval renamed."""
    xml = files["approval.bpmn"]
    xml = xml.replace(b'<bpmn:sequenceFlow id="f2" sourceRef="prepare" targetRef="approve" />',
                      b'<bpmn:sequenceFlow id="f2" sourceRef="prepare" targetRef="check" />')
    xml = xml.replace(b'<bpmn:userTask id="approve"', CHECK_STEP, 1)
    xml = xml.replace(b'<bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>',
                      b'<bpmn:incoming>f2b</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>')
    xml = xml.replace(b'name="Approve the plan"', b'name="Approve the checked plan"')
    return {**files, "approval.bpmn": xml}


def version_3(files):
    """approval v3: no approval step at all (prepare, then record)."""
    xml = files["approval.bpmn"]
    start, end = xml.index(b'<bpmn:userTask id="approve"'), xml.index(b"</bpmn:userTask>", xml.index(b'id="approve"'))
    xml = xml[:start] + xml[end + len(b"</bpmn:userTask>"):]
    xml = xml.replace(b'<bpmn:sequenceFlow id="f2" sourceRef="prepare" targetRef="approve" />', b"")
    xml = xml.replace(b'<bpmn:sequenceFlow id="f3" sourceRef="approve" targetRef="gate" />',
                      b'<bpmn:sequenceFlow id="f3" sourceRef="prepare" targetRef="gate" />')
    xml = xml.replace(b"<bpmn:outgoing>f2</bpmn:outgoing>", b"<bpmn:outgoing>f3</bpmn:outgoing>", 1)
    xml = xml.replace(b'<spiffworkflow:property name="dueIn" value="P2D" />', b"")
    return {**files, "approval.bpmn": xml}


CHECK_PLAN = b'''<bpmn:userTask id="s5_check_plan" name="Check the plan">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="s5_jrmp.schema.json"/>
        <spiffworkflow:property name="requirements" value="S5.15"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>Flow_s5_jrmp_s5_gate_split</bpmn:incoming>
      <bpmn:outgoing>Flow_s5_check_plan_s5_gate_split</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_s5_check_plan_s5_gate_split" sourceRef="s5_check_plan" targetRef="s5_gate_split"/>
    <bpmn:parallelGateway id="s5_gate_split"'''


def stage5_with_check(files):
    """The bundled lifecycle with a new user task 'Check the plan' in stage 5, after the JRMP (no layout)."""
    xml = files["stage5_working_together.bpmn"]
    xml = xml.replace(b'<bpmn:sequenceFlow id="Flow_s5_jrmp_s5_gate_split" sourceRef="s5_jrmp" '
                      b'targetRef="s5_gate_split"/>',
                      b'<bpmn:sequenceFlow id="Flow_s5_jrmp_s5_gate_split" sourceRef="s5_jrmp" '
                      b'targetRef="s5_check_plan"/>')
    gate = xml.index(b'<bpmn:parallelGateway id="s5_gate_split"')
    incoming = xml.index(b"<bpmn:incoming>Flow_s5_jrmp_s5_gate_split</bpmn:incoming>", gate)
    xml = (xml[:incoming] + b"<bpmn:incoming>Flow_s5_check_plan_s5_gate_split</bpmn:incoming>"
           + xml[incoming + len(b"<bpmn:incoming>Flow_s5_jrmp_s5_gate_split</bpmn:incoming>"):])
    xml = xml.replace(b'<bpmn:parallelGateway id="s5_gate_split"', CHECK_PLAN, 1)
    xml = xml.replace(b"<bpmn:flowNodeRef>s5_jrmp</bpmn:flowNodeRef>",
                      b"<bpmn:flowNodeRef>s5_jrmp</bpmn:flowNodeRef><bpmn:flowNodeRef>s5_check_plan</bpmn:flowNodeRef>")
    return {**files, "stage5_working_together.bpmn": xml}
