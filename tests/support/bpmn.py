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


def parallel_rework_loop(branches: int, process_id: str = "joint", after_join: str | None = None) -> bytes:
    """start -> merge -> split into `branches` user tasks -> join -> gateway (again? back to the merge : end):
    a joint decision that can be sent back for another round, like stage 5's gate. `after_join`: the source of a
    script task between the join and the gateway (a record-gate script)."""
    names = [f"b{i}" for i in range(branches)]
    form = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
            'name="formJsonSchemaFilename" value="loop.schema.json" /></spiffworkflow:properties>'
            '</bpmn:extensionElements>')
    tasks = "".join(f'''
    <bpmn:userTask id="{n}" name="Decide {n}">{form}<bpmn:incoming>s_{n}</bpmn:incoming><bpmn:outgoing>{n}_j</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="s_{n}" sourceRef="split" targetRef="{n}" />
    <bpmn:sequenceFlow id="{n}_j" sourceRef="{n}" targetRef="join" />''' for n in names)
    record = '\n    <bpmn:sequenceFlow id="f3" sourceRef="join" targetRef="gw" />' if after_join is None else f'''
    <bpmn:scriptTask id="record" name="Record"><bpmn:incoming>f_join</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>{escape(after_join)}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f_join" sourceRef="join" targetRef="record" />
    <bpmn:sequenceFlow id="f3" sourceRef="record" targetRef="gw" />'''
    return (HEAD + f'''  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="merge"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f_again</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:parallelGateway id="split"><bpmn:incoming>f2</bpmn:incoming>{"".join(f'<bpmn:outgoing>s_{n}</bpmn:outgoing>' for n in names)}</bpmn:parallelGateway>{tasks}
    <bpmn:parallelGateway id="join">{"".join(f'<bpmn:incoming>{n}_j</bpmn:incoming>' for n in names)}<bpmn:outgoing>{"f3" if after_join is None else "f_join"}</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:exclusiveGateway id="gw" name="Again?" default="f_done">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f_again</bpmn:outgoing><bpmn:outgoing>f_done</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="end"><bpmn:incoming>f_done</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="merge" />
    <bpmn:sequenceFlow id="f2" sourceRef="merge" targetRef="split" />{record}
    <bpmn:sequenceFlow id="f_again" sourceRef="gw" targetRef="merge">
      <bpmn:conditionExpression>again</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_done" sourceRef="gw" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>''').encode()


def event_started(definition: str, process_id: str = "weekly", name: str = "Weekly check") -> bytes:
    """A process started by its start event's `definition` (a timerEventDefinition or messageEventDefinition
    element, as written) -> one user task -> end; the message, if any, is declared as `news`."""
    message = '  <bpmn:message id="news" name="news" />\n' if "messageEventDefinition" in definition else ""
    return (HEAD + message + f'''  <bpmn:process id="{process_id}" name="{name}" isExecutable="true">
    <bpmn:startEvent id="started"><bpmn:outgoing>f1</bpmn:outgoing>{definition}</bpmn:startEvent>
    <bpmn:userTask id="check" name="Check it">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="loop.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="started" targetRef="check" />
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>''').encode()


def step_then_deadline(process_id: str = "deadline") -> bytes:
    """start -> user task `Draft` -> user task `Review` with an interrupting one-day timer -> `Chase` -> end."""
    form = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
            'name="formJsonSchemaFilename" value="loop.schema.json" /></spiffworkflow:properties>'
            '</bpmn:extensionElements>')
    return (HEAD + f'''  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="draft" name="Draft">{form}<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="review" name="Review">{form}<bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:boundaryEvent id="late" name="A day late" attachedToRef="review" cancelActivity="true">
      <bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:userTask id="chase" name="Chase">{form}<bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_chased"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="draft" />
    <bpmn:sequenceFlow id="f2" sourceRef="draft" targetRef="review" />
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="end" />
    <bpmn:sequenceFlow id="f4" sourceRef="late" targetRef="chase" />
    <bpmn:sequenceFlow id="f5" sourceRef="chase" targetRef="end_chased" />
  </bpmn:process>
</bpmn:definitions>''').encode()


def timer_start(kind: str, value: str) -> str:
    return f"<bpmn:timerEventDefinition><bpmn:{kind}>{value}</bpmn:{kind}></bpmn:timerEventDefinition>"


MESSAGE_START = '<bpmn:messageEventDefinition messageRef="news" />'


LOOP_FORM = (b'{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", '
             b'"properties": {"again": {"type": "boolean"}, "i": {"type": "integer"}, '
             b'"form": {"type": "object"}}}')


FORM_PROPERTY = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
                 'name="formJsonSchemaFilename" value="loop.schema.json" /></spiffworkflow:properties>'
                 '</bpmn:extensionElements>')
SIGNAL_PING = '<bpmn:signalEventDefinition signalRef="sig_ping" />'  # (see `definitions`)
MESSAGE_PING = '<bpmn:messageEventDefinition messageRef="msg_ping" />'


def event_subprocess(start: str, *, interrupting: bool = False, element_id: str = "esp",
                     handler: str = "user") -> str:
    """A bpmn:subProcess triggeredByEvent="true": its start event (`start`: an event definition, '' for none), then
    a user task 'Handle it' (handler 'user') or a script setting `handled = True` (handler 'script'), then its end."""
    e = element_id
    task = (f'<bpmn:userTask id="{e}_task" name="Handle it">{FORM_PROPERTY}<bpmn:incoming>{e}_f1</bpmn:incoming>'
            f'<bpmn:outgoing>{e}_f2</bpmn:outgoing></bpmn:userTask>' if handler == "user" else
            f'<bpmn:scriptTask id="{e}_task" name="Handle it"><bpmn:incoming>{e}_f1</bpmn:incoming>'
            f'<bpmn:outgoing>{e}_f2</bpmn:outgoing><bpmn:script>handled = True</bpmn:script></bpmn:scriptTask>')
    return f'''
    <bpmn:subProcess id="{e}" name="On the event" triggeredByEvent="true">
      <bpmn:startEvent id="{e}_start" isInterrupting="{str(interrupting).lower()}"><bpmn:outgoing>{e}_f1</bpmn:outgoing>{start}</bpmn:startEvent>
      {task}
      <bpmn:endEvent id="{e}_end"><bpmn:incoming>{e}_f2</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="{e}_f1" sourceRef="{e}_start" targetRef="{e}_task" />
      <bpmn:sequenceFlow id="{e}_f2" sourceRef="{e}_task" targetRef="{e}_end" />
    </bpmn:subProcess>'''


def work_process(process_id: str = "main", inside: str = "", *, work: str | None = None) -> str:
    """A bpmn:process: start -> `work` (default: a user task 'Do the work', id `<process_id>_work`) -> end, with
    `inside` (e.g. an event sub-process) beside the flow."""
    w = f"{process_id}_work"
    work = work or (f'<bpmn:userTask id="{w}" name="Do the work">{FORM_PROPERTY}<bpmn:incoming>{process_id}_f1'
                    f'</bpmn:incoming><bpmn:outgoing>{process_id}_f2</bpmn:outgoing></bpmn:userTask>')
    return f'''  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:startEvent id="{process_id}_start"><bpmn:outgoing>{process_id}_f1</bpmn:outgoing></bpmn:startEvent>
    {work}
    <bpmn:endEvent id="{process_id}_end"><bpmn:incoming>{process_id}_f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="{process_id}_f1" sourceRef="{process_id}_start" targetRef="{w}" />
    <bpmn:sequenceFlow id="{process_id}_f2" sourceRef="{w}" targetRef="{process_id}_end" />{inside}
  </bpmn:process>
'''


def call_work(process_id: str, called: str) -> str:
    """The work of `work_process(process_id)` as a call activity to `called`."""
    return (f'<bpmn:callActivity id="{process_id}_work" name="Call {called}" calledElement="{called}">'
            f'<bpmn:incoming>{process_id}_f1</bpmn:incoming><bpmn:outgoing>{process_id}_f2</bpmn:outgoing>'
            '</bpmn:callActivity>')


def definitions(*processes: str) -> bytes:
    """A BPMN document with the signal `ping` (sig_ping) and the message `ping` (msg_ping) and these processes."""
    return (HEAD + '  <bpmn:signal id="sig_ping" name="ping" />\n  <bpmn:message id="msg_ping" name="ping" />\n'
            + "".join(processes) + "</bpmn:definitions>").encode()


def service_task(element_id: str, connector: str | None, params: dict[str, str], name: str = "Call it", *,
                 attribute: str = "id") -> str:
    """A bpmn:serviceTask naming `connector` (None: no operator) with parameters {name: expression}; `attribute`:
    how a parameter is named (SpiffArena writes `id`)."""
    parameters = "".join(f'<spiffworkflow:parameter {attribute}="{escape(k)}" type="any" value="{escape(v, {chr(34): "&quot;"})}" />'
                         for k, v in params.items())
    operator = ("" if connector is None else
                f'<bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="{connector}">'
                f'<spiffworkflow:parameters>{parameters}</spiffworkflow:parameters>'
                '</spiffworkflow:serviceTaskOperator></bpmn:extensionElements>')
    return f'<bpmn:serviceTask id="{element_id}" name="{escape(name)}">{operator}</bpmn:serviceTask>'


def chain_process(process_id: str, *elements: str, lanes: str = "") -> bytes:
    """start -> each element in turn (their flows are added here) -> end."""
    import re

    ids = [re.search(r'id="([^"]+)"', e).group(1) for e in elements]
    nodes = ["start", *ids, "end"]
    flows = [(f"f{i}", a, b) for i, (a, b) in enumerate(zip(nodes, nodes[1:], strict=False))]
    body = []
    for element, element_id in zip(elements, ids, strict=True):
        incoming = "".join(f"<bpmn:incoming>{f}</bpmn:incoming>" for f, _a, b in flows if b == element_id)
        outgoing = "".join(f"<bpmn:outgoing>{f}</bpmn:outgoing>" for f, a, _b in flows if a == element_id)
        closing = element.rindex("</")
        body.append(element[:closing] + incoming + outgoing + element[closing:])
    return (HEAD + f'''  <bpmn:process id="{process_id}" isExecutable="true">{lanes}
    <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
    {"".join(body)}
    <bpmn:endEvent id="end"><bpmn:incoming>{flows[-1][0]}</bpmn:incoming></bpmn:endEvent>
    {"".join(f'<bpmn:sequenceFlow id="{f}" sourceRef="{a}" targetRef="{b}" />' for f, a, b in flows)}
  </bpmn:process>
</bpmn:definitions>''').encode()


DMN_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="rules" name="Rules" '
            'namespace="http://collabflow.test/dmn">\n')


def decision_table(rows: list[tuple[str, str]], decision_id: str = "approval_level", hit_policy: str = "FIRST",
                   input_expression: str = "amount", output: str = "level") -> bytes:
    """One decision with one input column (`input_expression`) and one output column (`output`): a rule per
    (input cell, output cell) row."""
    rules = "".join(f'''
      <rule id="r{i}">
        <inputEntry id="r{i}_in"><text>{escape(cell)}</text></inputEntry>
        <outputEntry id="r{i}_out"><text>{escape(result)}</text></outputEntry>
      </rule>''' for i, (cell, result) in enumerate(rows, start=1))
    return (DMN_HEAD + f'''  <decision id="{decision_id}" name="Approval level">
    <decisionTable id="{decision_id}_table" hitPolicy="{hit_policy}">
      <input id="in" label="Amount">
        <inputExpression id="in_expression" typeRef="number"><text>{escape(input_expression)}</text></inputExpression>
      </input>
      <output id="out" label="Level" name="{output}" typeRef="string"/>{rules}
    </decisionTable>
  </decision>
</definitions>
''').encode()


def business_rule_process(decision_id: str | None = "approval_level", process_id: str = "rules",
                          ask_first: bool = False) -> bytes:
    """start -> [user task 'ask' (the form loop.schema.json)] -> business rule task 'decide' calling
    `decision_id` -> end."""
    called = (f"<bpmn:extensionElements><spiffworkflow:calledDecisionId>{decision_id}"
              "</spiffworkflow:calledDecisionId></bpmn:extensionElements>") if decision_id else ""
    ask = ('''<bpmn:userTask id="ask" name="Give the amount">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="loop.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="ask" />''' if ask_first else "")
    return (HEAD + f'''  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>{"f0" if ask_first else "f1"}</bpmn:outgoing></bpmn:startEvent>
    {ask}
    <bpmn:businessRuleTask id="decide" name="Decide the approval level">{called}
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="{"ask" if ask_first else "start"}" targetRef="decide" />
    <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>''').encode()
