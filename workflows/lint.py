"""Structural checks of a diagram's flow, as bpmnlint gives Camunda users, read from the XML alone.

They need no SpiffWorkflow parse, so they report even when that parse of a file fails (validation then keeps
the parser's own message only where it says something new: `specs.validate`). One function per rule, each
answering located problems (file, element id, name, line). Errors are what breaks or silently never runs in
this engine (SpiffWorkflow starts a process at its start events only, and an instance whose path stops at an
element other than an end event never completes); warnings are diagrams that run, but not as they read.

Only executable processes are checked (a partner's pool in a collaboration is a picture, not a process), and
each process and sub-process is checked as its own scope: a sub-process's start event begins its own flow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from lxml import etree

from .errors import Problem, element_kind

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_ACTIVITIES = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
               "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess"}
_EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
_GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}
_SPLITS = {"exclusiveGateway", "inclusiveGateway"}  # the gateways that choose their paths by condition
_SCOPES = {"process", "subProcess", "transaction"}  # an ad hoc sub-process's children have no flows by design


def _local(node) -> str:
    return etree.QName(node).localname


def _has(node, definition: str) -> bool:
    return node.find(f"{{{BPMN_NS}}}{definition}") is not None


@dataclass
class Scope:
    """One process or sub-process: its flow nodes, its sequence flows, and what flows in and out of each node."""

    file: str
    node: object
    nodes: dict[str, object] = field(default_factory=dict)
    flows: list = field(default_factory=list)
    incoming: dict[str, list] = field(default_factory=dict)
    outgoing: dict[str, list] = field(default_factory=dict)

    def problem(self, node, message: str, severity: str = "error") -> Problem:
        return Problem(message, file=self.file, element_id=node.get("id"), element_name=node.get("name"),
                       line=node.sourceline, severity=severity)


def scopes(trees: Mapping[str, object]) -> Iterator[Scope]:
    """Every executable process of the trees and every (embedded or event) sub-process inside one."""
    for name, tree in trees.items():
        for process in tree.iter(f"{{{BPMN_NS}}}process"):
            if (process.get("isExecutable") or "").strip().lower() != "true":
                continue
            containers = [process, *(n for n in process.iter() if isinstance(n.tag, str) and n is not process
                                     and _local(n) in _SCOPES)]
            for container in containers:
                yield _scope(name, container)


def _scope(file: str, container) -> Scope:
    scope = Scope(file, container)
    for child in container:
        if not isinstance(child.tag, str):
            continue
        kind = _local(child)
        if kind == "sequenceFlow":
            scope.flows.append(child)
        elif child.get("id") and kind in _ACTIVITIES | _EVENTS | _GATEWAYS:
            scope.nodes[child.get("id")] = child
    for flow in scope.flows:
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        if source in scope.nodes:
            scope.outgoing.setdefault(source, []).append(flow)
        if target in scope.nodes:
            scope.incoming.setdefault(target, []).append(flow)
    return scope


# ------------------------------------------------------------------------------------------ what may lack flows
def _is_event_subprocess(node) -> bool:
    return _local(node) == "subProcess" and (node.get("triggeredByEvent") or "").strip() == "true"


def _is_compensation(node) -> bool:
    """A compensation handler (joined by an association, never by flows) or the boundary event calling it."""
    return (node.get("isForCompensation") or "").strip() == "true" or (
        _local(node) == "boundaryEvent" and _has(node, "compensateEventDefinition"))


def _may_lack_incoming(node) -> bool:
    kind = _local(node)
    return (kind in ("startEvent", "boundaryEvent") or _is_event_subprocess(node) or _is_compensation(node)
            or (kind == "intermediateCatchEvent" and _has(node, "linkEventDefinition")))


def _may_lack_outgoing(node) -> bool:
    kind = _local(node)
    return (kind == "endEvent" or _is_event_subprocess(node) or _is_compensation(node)
            or (kind == "intermediateThrowEvent" and _has(node, "linkEventDefinition")))


# ------------------------------------------------------------------------------------------------------- rules
def not_connected(scope: Scope) -> list[Problem]:
    """An element with no flow in or out at all never runs (error); a start or end event alone does nothing, which
    is harmless at run time (warning)."""
    problems = []
    for element_id, node in scope.nodes.items():
        if scope.incoming.get(element_id) or scope.outgoing.get(element_id):
            continue
        kind = element_kind(_local(node))
        if _local(node) in ("startEvent", "endEvent") and not _is_event_subprocess(scope.node):
            problems.append(scope.problem(node, f"this {kind} is not connected, so it does nothing: connect it to the "
                                                "flow, or delete it", severity="warning"))
        elif not (_may_lack_incoming(node) or _may_lack_outgoing(node)):
            problems.append(scope.problem(node, f"this {kind} is not connected: no sequence flow leads to it or from "
                                                "it, so it never runs: draw a flow to it and one from it, or delete it"))
    return problems


def no_incoming(scope: Scope) -> list[Problem]:
    """An element other than a start event with no flow in never runs: only start events begin a process (error)."""
    return [scope.problem(node, f"no sequence flow leads to this {element_kind(_local(node))}, so it never runs "
                                "(a process begins at its start events only): draw a flow to it, or delete it")
            for element_id, node in scope.nodes.items()
            if not scope.incoming.get(element_id) and scope.outgoing.get(element_id) and not _may_lack_incoming(node)]


def no_outgoing(scope: Scope) -> list[Problem]:
    """A path that stops at an element other than an end event (BPMN's implicit end), a boundary event's too,
    never completes here: the instance waits forever (error)."""
    return [scope.problem(node, f"no sequence flow leaves this {element_kind(_local(node))}: a path that reaches it "
                                "would stop there and the process would wait forever, because here a path ends only "
                                "at an end event: draw a flow from it to the next step or to an end event")
            for element_id, node in scope.nodes.items()
            if not scope.outgoing.get(element_id) and not _may_lack_outgoing(node)
            and (scope.incoming.get(element_id) or _local(node) == "boundaryEvent")]


def unreachable(scope: Scope) -> list[Problem]:
    """An element with flows in, none of which can be reached from a start event, never runs (error).

    Elements the other rules already report (no flow in) count as reached, so their successors are not reported
    again; a boundary event is reached with the activity it is attached to."""
    reached = {i for i, node in scope.nodes.items()
               if _local(node) != "boundaryEvent" and (_may_lack_incoming(node) or not scope.incoming.get(i))}
    attached: dict[str, list[str]] = {}
    for element_id, node in scope.nodes.items():
        if _local(node) == "boundaryEvent" and node.get("attachedToRef"):
            attached.setdefault(node.get("attachedToRef"), []).append(element_id)

    def reach(start: list[str]) -> None:
        pending = list(start)
        while pending:
            element_id = pending.pop()
            following = [f.get("targetRef") for f in scope.outgoing.get(element_id, [])] + attached.get(element_id, [])
            for target in following:
                if target in scope.nodes and target not in reached:
                    reached.add(target)
                    pending.append(target)

    reach(list(reached))
    problems = []
    for element_id, node in scope.nodes.items():  # file order: one problem per unreachable island, at its first
        if element_id in reached:
            continue
        problems.append(scope.problem(node, f"this {element_kind(_local(node))} cannot be reached from a start "
                                            "event, so it never runs: connect it to the flow that begins at a start "
                                            "event, or delete it"))
        reached.add(element_id)
        reach([element_id])
    return problems


def gateway_with_one_path(scope: Scope) -> list[Problem]:
    """A gateway with one flow in and one out decides and joins nothing (warning)."""
    return [scope.problem(node, f"this {element_kind(_local(node))} has one flow in and one flow out, so it neither "
                                "chooses nor joins anything: remove it, or add the paths it should choose between",
                          severity="warning")
            for element_id, node in scope.nodes.items()
            if _local(node) in _GATEWAYS and len(scope.incoming.get(element_id, [])) == 1
            and len(scope.outgoing.get(element_id, [])) == 1]


def condition_missing_on_split(scope: Scope) -> list[Problem]:
    """A flow out of an exclusive or inclusive split that is neither conditional nor the default cannot be
    chosen; the engine refuses the diagram (error)."""
    problems = []
    for element_id, node in scope.nodes.items():
        outgoing = scope.outgoing.get(element_id, [])
        if _local(node) not in _SPLITS or len(outgoing) < 2:
            continue
        split = _label(node)
        for flow in outgoing:
            if flow.get("id") != node.get("default") and not _condition(flow):
                problems.append(scope.problem(
                    flow, f"this sequence flow leaves the split {split} without a condition and is not its default "
                          "flow, so it could never be taken: give it a condition, or make it the split's default"))
    return problems


def condition_out_of_parallel_gateway(scope: Scope) -> list[Problem]:
    """A parallel gateway takes every path: a condition on a flow out of it is ignored at run time (warning)."""
    return [scope.problem(flow, f"this sequence flow leaves the parallel gateway {_label(node)}, which takes every "
                                "path, so its condition is ignored: remove the condition, or make the gateway "
                                "exclusive or inclusive to choose", severity="warning")
            for element_id, node in scope.nodes.items() if _local(node) == "parallelGateway"
            for flow in scope.outgoing.get(element_id, []) if _condition(flow)]


RULES: list[Callable[[Scope], list[Problem]]] = [
    not_connected, no_incoming, no_outgoing, unreachable, gateway_with_one_path, condition_missing_on_split,
    condition_out_of_parallel_gateway]


def _condition(flow) -> str:
    condition = flow.find(f"{{{BPMN_NS}}}conditionExpression")
    return (condition.text or "").strip() if condition is not None else ""


def _label(node) -> str:
    name = " ".join((node.get("name") or "").split())
    return repr(name) if name else repr(node.get("id"))


def lint(trees: Mapping[str, object]) -> list[Problem]:
    """Every structural problem of the executable processes of `trees` ({file name: lxml tree}), in file order."""
    return [problem for scope in scopes(trees) for rule in RULES for problem in rule(scope)]
