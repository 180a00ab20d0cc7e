"""Decision tables (DMN files) deployed beside the diagrams, and the business rule tasks that call them.

A `.dmn` file holds one decision with one decision table (SpiffWorkflow reads no more). It is checked like a
diagram, every problem located by file, element id and line: a namespace SpiffWorkflow reads (DMN 1.3, 1.2 or
1.1), its XML Schema, one decision per file and each decision id once per version, a hit policy the engine
implements, and every cell compiling as a sandbox expression the way the engine will evaluate it. Cells are
evaluated at run time by the same sandbox as conditions (`scripting.SandboxEnvironment.evaluate`), so a table
can read task data and the helpers, never files, the network or a shell. Each business rule task must call a
decision the version defines; the decision table is copied into the task's spec at deploy, so an instance keeps
the table of its own version.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.specs.model import DecisionTable
from SpiffWorkflow.spiff.parser import SpiffBpmnParser

from .errors import Problem, clean
from .scripting import check_expression

SUFFIX = ".dmn"
DMN_NAMESPACES = {
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "DMN 1.3",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": "DMN 1.2",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": "DMN 1.1",
}
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
# SpiffWorkflow returns the first matching rule for every hit policy but COLLECT (all of them, aggregation ignored)
HIT_POLICIES = ("UNIQUE", "FIRST", "ANY", "COLLECT")
_INPUT_NAME = "dmninputexpr"  # what SpiffWorkflow puts for '?' in an input cell
_QUESTION_MARK = re.compile(r'(\?)(?=(?:[^\'"]|[\'"][^\'"]*[\'"])*$)')  # DMNEngine.evaluate's own pattern


def is_decision_file(name: str) -> bool:
    return name.lower().endswith(SUFFIX)


@dataclass(frozen=True)
class Decision:
    """A decision a version defines: where it is, and its table's columns (for the workbench and tests)."""

    decision_id: str
    name: str | None
    file: str
    line: int | None
    hit_policy: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


class Parser(SpiffBpmnParser):
    """SpiffWorkflow's parser, which reads DMN beside BPMN. A business rule task calling a decision the version
    does not define gets an empty table here instead of an exception, so the other problems of its process are
    still found; `check_calls` reports it, in our words, and the version is refused."""

    def get_engine(self, decision_ref, node):
        if decision_ref not in self.dmn_parsers:
            return DMNEngine(DecisionTable(decision_ref or "missing", "", "UNIQUE"))
        return super().get_engine(decision_ref, node)


def add_decisions(parser: SpiffBpmnParser, trees: Mapping[str, etree._ElementTree], functions: frozenset[str]
                  ) -> tuple[dict[str, Decision], list[Problem], set[str]]:
    """Check each DMN file and add those that can run to the parser; `functions` are the callable names a cell may
    use (the engine's). Returns ({decision id: Decision}, problems, ids of the decisions refused)."""
    decisions: dict[str, Decision] = {}
    problems: list[Problem] = []
    refused: set[str] = set()
    for name, tree in sorted(trees.items()):
        root = tree.getroot()
        namespace = etree.QName(root).namespace
        if namespace not in DMN_NAMESPACES or etree.QName(root).localname != "definitions":
            problems.append(Problem(
                "not a DMN decision file: its root must be a DMN definitions element in the DMN 1.3 namespace "
                f"({next(iter(DMN_NAMESPACES))})", file=name, line=root.sourceline))
            continue
        found = root.findall(f"{{{namespace}}}decision")
        if len(found) != 1:
            at = found[1] if found[1:] else root
            problems.append(Problem(
                "the file defines no decision: add one with a decision table" if not found else
                f"the file defines {len(found)} decisions; the engine reads one decision per file: put each in a "
                ".dmn file of its own", file=name, element_id=at.get("id"), element_name=at.get("name"),
                line=at.sourceline))
            refused.update(d.get("id") for d in found)
            continue
        decision = found[0]
        table = decision.find(f"{{{namespace}}}decisionTable")
        decision_id = decision.get("id")
        here = dict(file=name, element_id=decision_id, element_name=decision.get("name"), line=decision.sourceline)
        if table is None:
            problems.append(Problem("the decision has no decision table (literal expressions and other decision "
                                    "logic cannot run here): give it a decision table", **here))
            refused.add(decision_id)
            continue
        if decision_id in decisions:
            problems.append(Problem(f"the decision id {decision_id!r} is also defined in "
                                    f"{decisions[decision_id].file}: give each decision its own id", **here))
            continue
        table_problems = _check_table(name, namespace, table, functions)
        try:
            parser.add_dmn_xml(root, filename=name)
        except ValidationException as exc:
            problems.append(_schema_problem(exc, name))
            refused.add(decision_id)
            continue
        try:
            parser.dmn_parsers[decision_id].parse()
        except ValidationException as exc:  # a cell SpiffWorkflow cannot parse: ours say which and why
            problems += table_problems or [Problem(f"the decision table cannot be read: {clean(exc.args[0])}",
                                                   **here)]
        except (KeyError, IndexError, AttributeError, TypeError):  # what SpiffWorkflow's DMN parser assumes
            problems.append(Problem("the decision table cannot be read: every input, output and rule needs an id, "
                                    "and every rule one cell per input and output column", **here))
        else:
            problems += table_problems
            decisions[decision_id] = Decision(
                decision_id, decision.get("name"), name, decision.sourceline,
                (table.get("hitPolicy") or "UNIQUE").upper(), _columns(table, namespace, "input"),
                _columns(table, namespace, "output"))
            continue
        parser.dmn_parsers.pop(decision_id, None)
        refused.add(decision_id)
    return decisions, problems, refused


def declared(content: bytes) -> list[tuple[str, str | None]]:
    """(id, name) of the decisions a DMN file declares, for pickers; [] when it cannot be read (validation says
    why). Parsed without DTDs, entities or the network, like every diagram."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError:
        return []
    namespace = etree.QName(root).namespace
    if namespace not in DMN_NAMESPACES:
        return []
    return [(d.get("id"), d.get("name")) for d in root.findall(f"{{{namespace}}}decision") if d.get("id")]


def _columns(table, ns: str, tag: str) -> tuple[str, ...]:
    return tuple(c.get("label") or c.get("name") or c.get("id") for c in table.findall(f"{{{ns}}}{tag}"))


def _schema_problem(exc: ValidationException, name: str) -> Problem:
    text = str(exc.args[0]) if exc.args else "the file cannot be read"
    for uri in DMN_NAMESPACES:
        text = text.replace(f"{{{uri}}}", "dmn:")
    text = re.sub(r"^Element '([^']+)'", r"the element \1", text)
    return Problem(f"the decision file does not follow the DMN schema: {clean(text)}", file=name,
                   element_id=getattr(exc, "id", None) or None, line=getattr(exc, "line_number", None) or None)


def _check_table(name: str, ns: str, table, functions: frozenset[str]) -> list[Problem]:
    """Hit policy and every cell of one decision table, each problem at the cell's element and line."""
    problems = []

    def add(message, node):
        problems.append(Problem(message, file=name, element_id=node.get("id"), line=node.sourceline))

    policy = (table.get("hitPolicy") or "UNIQUE").upper()
    if policy not in HIT_POLICIES:
        add(f"the hit policy {policy} is not supported here: use FIRST (the first matching rule decides), UNIQUE "
            "or COLLECT (every matching rule, as lists)", table)
    elif table.get("aggregation"):
        add(f"COLLECT with the aggregation {table.get('aggregation')} is not supported here: leave the aggregation "
            "out (the outputs are lists) and sum or count them in a script", table)
    inputs = []
    for column in table.findall(f"{{{ns}}}input"):
        label = column.get("label") or column.get("id")
        text_node = column.find(f"{{{ns}}}inputExpression/{{{ns}}}text")
        expression = (text_node.text or "").strip() if text_node is not None else ""
        if not expression:
            add(f"the input column {label!r} has no expression: say what it reads from the task data "
                "(e.g. criterion.category)", column)
        else:
            reason = check_expression(expression, functions)
            if reason:
                add(f"the input column {label!r}: {expression!r}: {reason}", column)
        inputs.append((label, expression))
    outputs = [column.get("label") or column.get("name") or column.get("id")
               for column in table.findall(f"{{{ns}}}output")]
    for column in table.findall(f"{{{ns}}}output"):
        if not column.get("name"):
            add(f"the output column {column.get('label') or column.get('id')!r} has no name: name the task data "
                "field it sets", column)
    for row, rule in enumerate(table.findall(f"{{{ns}}}rule"), start=1):
        for (label, expression), entry in zip(inputs, rule.findall(f"{{{ns}}}inputEntry"), strict=False):
            reason = _input_entry_refusal(expression or "x", _cell(entry, ns), functions)
            if reason:
                add(f"rule {row}, input {label!r}: {reason}", entry)
        for label, entry in zip(outputs, rule.findall(f"{{{ns}}}outputEntry"), strict=False):
            text = _cell(entry, ns)
            reason = check_expression(text, functions) if text else None
            if reason and reason.startswith("syntax error"):
                add(f"rule {row}, output {label!r}: {text!r} is not an expression the engine can evaluate: write a "
                    "value (\"gold\", 5) or an expression over the task data (amount * 2)", entry)
            elif reason:
                add(f"rule {row}, output {label!r}: {text!r}: {reason}", entry)
    return problems


def _cell(entry, ns) -> str:
    node = entry.find(f"{{{ns}}}text")
    return (node.text or "").strip() if node is not None and node.text else ""


def _input_entry_refusal(input_expression: str, text: str, functions: frozenset[str]) -> str | None:
    """Why an input cell cannot run, building the expression DMNEngine.evaluate builds: `-` or empty matches
    anything; `?` stands for the input; a value is compared with ==; an operator (`> 5`) follows the input."""
    if not text or text == "-":
        return None
    if _QUESTION_MARK.search(text):
        expression = _QUESTION_MARK.sub(_INPUT_NAME, text)
    else:
        try:
            parsed = ast.parse(text, mode="eval")
            expression = f"({input_expression}) == ({text})"
        except SyntaxError:
            expression = f"{input_expression} {text}"
        else:
            if isinstance(parsed.body, ast.Tuple):  # FEEL's "a", "b" (any of): here a tuple, which nothing equals
                return (f"{text!r} would compare the input with a tuple and never match: for any of several values "
                        f"write ? in ({text}), or one rule per value")
    reason = check_expression(expression, functions)
    if reason and reason.startswith("syntax error"):
        return (f"{text!r} is not an expression the engine can evaluate: write a value (\"gold\", 5), a "
                "comparison (> 5, != \"gold\") or a test with ? for the input (3 <= ? <= 7), or - for any")
    return f"{text!r}: {reason}" if reason else None




def check_calls(trees: Mapping[str, etree._ElementTree], decisions: Mapping[str, Decision], located,
                refused: set[str] = frozenset(), unreadable: list[str] = ()) -> list[Problem]:
    """Every business rule task names a decision the version defines (one in `refused` is reported at its file
    already; `unreadable` are decision files that are not even XML, whose decisions are unknown).
    `located(message, element_id, file)` makes the problem at the task (its file, name and line)."""
    problems = []
    known = ", ".join(sorted(decisions)) or "none"
    if unreadable:
        known += f"; {', '.join(unreadable)} cannot be read: see {'its' if len(unreadable) == 1 else 'their'} problems"
    for name, tree in trees.items():
        for node in tree.iter(f"{{{BPMN_NS}}}businessRuleTask"):
            called = node.find(f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}calledDecisionId")
            decision_id = (called.text or "").strip() if called is not None and called.text else ""
            if not decision_id:
                problems.append(located(
                    "the business rule task names no decision: choose the decision table it calls, one of this "
                    f"version's (decisions: {known})",
                    node.get("id"), name))
            elif decision_id not in decisions and decision_id not in refused:
                problems.append(located(
                    f"the business rule task calls the decision {decision_id!r}, which no decision table (.dmn file) "
                    f"of this version defines (decisions: {known})", node.get("id"), name))
    return problems
