"""What a diagram from another modelling tool is: its processes, and whether it can run here.

Unlike `validate` (which refuses a deploy), `inspect` never refuses a well-formed file: it reports every
process and, for each element that prevents running here, its id, name and line, including in processes
marked non-executable (they are checked as if they were executable, and the marking itself is reported).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from .errors import Problem, ValidationFailed
from .specs import BPMN_NS, CompiledVersion, parse_xml, validate


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
    lanes: list[str] = field(default_factory=list)  # every lane's name, in file order, once

    @property
    def runnable(self) -> bool:
        return self.well_formed and not any(p.severity == "error" for p in self.problems)


def inspect(name: str, content: bytes, forms: dict[str, bytes] | None = None, *,
            functions: frozenset[str] | None = None,
            extra_checks: Iterable[Callable[[CompiledVersion], list[Problem]]] = (),
            decisions: Mapping[str, bytes] | None = None) -> InspectionReport:
    """The verdict for one file: the same checks as validate and deploy (same `functions`, same `extra_checks`),
    with every process checked as if it were executable. `decisions` are the decision tables (.dmn files) its
    business rule tasks may call, as a deploy beside them would have; only this file's problems are reported.
    Use WorkflowEngine.inspect for the engine's functions."""
    tree, problems = parse_xml(name, content)
    if tree is None:
        return InspectionReport(name, False, problems=problems)
    report = InspectionReport(name, True)
    for lane in tree.iter(f"{{{BPMN_NS}}}lane"):
        lane_name = " ".join((lane.get("name") or "").split())
        if lane_name and lane_name not in report.lanes:
            report.lanes.append(lane_name)
    for node in tree.iter(f"{{{BPMN_NS}}}process"):
        executable = node.get("isExecutable", "false").lower() == "true"
        info = ProcessInfo(node.get("id"), node.get("name"), executable, node.sourceline)
        report.processes.append(info)
        if not executable:
            report.problems.append(Problem(
                "the process is not marked executable (isExecutable=\"false\"): mark it executable to run it",
                file=name, element_id=info.process_id, element_name=info.name, line=info.line))
    if not report.processes:
        root = tree.getroot()
        report.problems.append(Problem("the file has no process (only a collaboration or diagram?)", file=name,
                                       element_id=root.get("id"), line=root.sourceline))
        return report
    files = {**{k: v for k, v in (decisions or {}).items() if k != name}, name: content}
    try:
        compiled = validate(files, forms or {}, extra_checks, functions=functions, all_executable=True)
    except ValidationFailed as failed:
        found = failed.problems
    else:
        found = compiled.problems
    report.problems += [p for p in found if p.file in (None, name)]
    return report
