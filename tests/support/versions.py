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
