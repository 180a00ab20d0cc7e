"""What a diagram from another modelling tool is: its processes, and whether it can run here.

Unlike `validate` (which refuses a deploy), `inspect` never refuses a well-formed file: it reports every
process and, for each element that prevents running here, its id, name and line, including in processes
marked non-executable (they are checked as if they were executable, and the marking itself is reported).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from .errors import Problem, ValidationFailed
from .specs import index_elements, parse_xml, validate

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


@dataclass(frozen=True)
class ProcessInfo:
    process_id: str
    name: str | None
    executable: bool
    line: int | None


@dataclass
class InspectionReport:
    file: str
    well_formed: bool
    processes: list[ProcessInfo] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def runnable(self) -> bool:
        return self.well_formed and not any(p.severity == "error" for p in self.problems)


def inspect(name: str, content: bytes, forms: dict[str, bytes] | None = None) -> InspectionReport:
    tree, problems = parse_xml(name, content)
    if tree is None:
        return InspectionReport(name, False, problems=problems)
    report = InspectionReport(name, True)
    for node in tree.iter(f"{{{BPMN_NS}}}process"):
        executable = node.get("isExecutable", "false").lower() == "true"
        info = ProcessInfo(node.get("id"), node.get("name"), executable, node.sourceline)
        report.processes.append(info)
        if not executable:
            report.problems.append(Problem(
                "the process is not marked executable (isExecutable=\"false\")", file=name,
                element_id=info.process_id, element_name=info.name, line=info.line))
    if not report.processes:
        report.problems.append(Problem("the file has no process (only a collaboration or diagram?)", file=name))
        return report
    for node in tree.iter(f"{{{BPMN_NS}}}process"):  # check the rest as if they were meant to run
        node.set("isExecutable", "true")
    as_executable = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    try:
        validate({name: as_executable}, forms or {})
    except ValidationFailed as failed:
        elements = index_elements(name, tree)
        report.problems += [_locate(problem, tree, elements) for problem in failed.problems]
    return report


_NAMED = re.compile(r"with name (?P<name>.+?) has no implementation", re.DOTALL)


def _locate(problem: Problem, tree, elements) -> Problem:
    """Give a line and element to problems SpiffWorkflow reports by name only (e.g. data stores)."""
    if problem.element_id or problem.line:
        return problem
    match = _NAMED.search(problem.message)
    if match:
        wanted = " ".join(match.group("name").split())
        for element in elements.values():
            if element.name and " ".join(element.name.split()) == wanted:
                return Problem(problem.message, file=problem.file, element_id=element.element_id,
                               element_name=element.name, line=element.line, severity=problem.severity)
    return problem
