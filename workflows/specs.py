"""Parse, validate and compile a set of diagrams + forms into one immutable, content-hashed version.

Validation reports every problem of every file in one pass, each located by file, element id, element name and
line, so a process owner fixes a diagram in one go. First what the XML says, which needs no SpiffWorkflow parse
and so is found even in a file that parse then refuses: well-formed and safe XML; the structural checks of
`lint` (unconnected, unreachable and dead-end elements, gateways with one path, splits missing conditions);
each element's conditions and timers sandbox-valid (a bare ISO timer value is a warning, `timers`), scripts
compiling under the sandbox policy, service tasks naming a connector with its parameters (`connectors`), user
tasks showing a form of this version, call activities calling a process of this version, event sub-processes of
a kind SpiffWorkflow 3.2 runs (`_structural_problems`). Then the BPMN 2.0 + spiff schema and SpiffWorkflow's own
parse, whose first error per file is kept only where it says something new, and never its follow-ons (a call to
a process that could not be parsed is not a problem of its own). Decision tables (`.dmn` files) are diagrams of
the version too: checked by `decisions`, each business rule task calling one the version defines.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jsonschema
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask as SubWorkflowTaskMixin
from SpiffWorkflow.spiff.parser import VALIDATOR

from . import connectors, event_subprocesses, lint, settings, timers
from . import decisions as dmn
from .errors import Problem, ValidationFailed, clean, parser_message
from .helpers import FUNCTION_NAMES
from .scripting import check_expression, compile_script

MAX_FILE_BYTES = 5 * 1024 * 1024
FORM_SCHEMA_PROPERTY = "formJsonSchemaFilename"
FORM_UI_PROPERTY = "formUiSchemaFilename"

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_SAFE_XML = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_pis=True)


@dataclass(frozen=True)
class Element:
    file: str
    element_id: str
    name: str | None
    line: int | None
    tag: str


@dataclass
class CompiledVersion:
    """What a deploy produces: the files, their hash, and the parsed specs of every executable process."""

    files: dict[str, bytes]
    forms: dict[str, bytes]
    specs: dict[str, object]  # process id -> BpmnProcessSpec
    problems: list[Problem] = field(default_factory=list)  # warnings only (errors raise)
    elements: dict[str, Element] = field(default_factory=dict)
    decisions: dict[str, dmn.Decision] = field(default_factory=dict)  # decision id -> its table (.dmn files)

    @property
    def content_hash(self) -> str:
        return content_hash(self.files, self.forms)

    @property
    def process_ids(self) -> list[str]:
        """The processes of the version (not the specs of their embedded and event sub-processes)."""
        return sorted(set(self.specs) - embedded_ids(self.specs))


def embedded_ids(specs: Mapping[str, object]) -> set[str]:
    """The ids of the specs that are embedded sub-processes (event sub-processes too) of another spec: SpiffWorkflow
    parses each into a process spec of its own, which the engine needs but which is not a process one starts."""
    return {task_spec.spec for spec in specs.values() for task_spec in spec.task_specs.values()
            if isinstance(task_spec, SubWorkflowTaskMixin) and not isinstance(task_spec, CallActivity)}


def content_hash(files: Mapping[str, bytes], forms: Mapping[str, bytes]) -> str:
    """sha256 over the sorted (kind, name, bytes) triples: the same content always hashes the same."""
    digest = hashlib.sha256()
    for kind, group in (("bpmn", files), ("form", forms)):
        for name in sorted(group):
            digest.update(f"{kind}\0{name}\0{len(group[name])}\0".encode())
            digest.update(group[name])
    return digest.hexdigest()


def parse_xml(name: str, content: bytes) -> tuple[etree._ElementTree | None, list[Problem]]:
    """Parse untrusted XML safely: no DTDs, no entities, no network, bounded size."""
    if len(content) > MAX_FILE_BYTES:
        return None, [Problem(f"file is {len(content):,} bytes; the limit is {MAX_FILE_BYTES:,}", file=name)]
    try:
        tree = etree.fromstring(content, etree.XMLParser(**_SAFE_XML)).getroottree()
    except etree.XMLSyntaxError as exc:
        return None, [Problem(f"not well-formed XML: {exc.msg}", file=name, line=exc.lineno)]
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        return None, [Problem("DOCTYPE declarations are not allowed in diagrams", file=name, line=1)]
    return tree, []


def index_elements(name: str, tree) -> dict[str, Element]:
    elements = {}
    for node in tree.iter():
        if not isinstance(node.tag, str):
            continue
        element_id = node.get("id")
        if element_id:
            elements[element_id] = Element(name, element_id, node.get("name"), node.sourceline,
                                           etree.QName(node).localname)
    return elements


def _problem_at(message: str, elements: Mapping[str, Element], element_id: str | None,
                file: str | None = None, line: int | None = None, severity="error", at_line: int | None = None):
    """A problem located at an element (its file, name and line; `at_line` for a line inside it, e.g. of a script)."""
    element = elements.get(element_id or "")
    if element is not None:
        return Problem(message, file=element.file, element_id=element_id, element_name=element.name,
                       line=at_line or element.line, severity=severity)
    return Problem(message, file=file, element_id=element_id, line=line, severity=severity)


def check_forms(forms: Mapping[str, bytes]) -> tuple[dict[str, dict], list[Problem]]:
    """Every form file is JSON; every *.schema.json is a valid JSON Schema."""
    parsed, problems = {}, []
    for name, content in sorted(forms.items()):
        try:
            parsed[name] = json.loads(content)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(Problem(f"not valid JSON: {getattr(exc, 'msg', exc)}", file=name,
                                    line=getattr(exc, "lineno", None)))
            continue
        if name.endswith(".schema.json"):
            refusal = _schema_refusal(bytes(content))
            if refusal is not None:
                problems.append(Problem(refusal, file=name))
    return parsed, problems


@lru_cache(maxsize=2048)
def _schema_refusal(content: bytes) -> str | None:
    """Why a JSON Schema is not valid, or None. Checking a schema against its meta-schema is most of a deploy's
    cost and its answer depends on the bytes alone, so an unchanged form is checked once per process."""
    schema = json.loads(content)
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        path = "/".join(map(str, exc.absolute_path)) or "(root)"
        return f"not a valid JSON Schema at {path}: {exc.message}"
    return None


def script_lines(tree) -> dict[tuple[str, str], int]:
    """{(element id, 'script' | 'preScript' | 'postScript'): the file line its text starts on}."""
    found = {}
    for node in tree.iter("{*}script", "{*}preScript", "{*}postScript"):
        owner = node.getparent()
        while owner is not None and not owner.get("id"):
            owner = owner.getparent()
        if owner is not None:
            found[(owner.get("id"), etree.QName(node).localname)] = node.sourceline
    return found


_SCRIPT_ERROR = re.compile(r"^Line (?P<line>\d+): (?:SyntaxError: )?(?P<text>.*)$", re.DOTALL)


def script_error(what: str, error: str, first_line: int | None) -> tuple[str, int | None]:
    """A sandbox compile error in our words, counted like the engine counts at run time: 'line N of the
    script', line 1 being the script text's first line (on the line of its opening tag). Also the file line."""
    match = _SCRIPT_ERROR.match(error)
    if not match:
        return f"{what}: {error}", None
    line = int(match.group("line"))
    file_line = first_line + line - 1 if first_line else None
    return f"line {line} of the {what}: {match.group('text')}", file_line


def _executable_processes(trees: Mapping[str, object]) -> Iterable[tuple[str, object]]:
    """(file name, process node) of every process marked executable: those SpiffWorkflow parses and runs."""
    for name, tree in trees.items():
        for process in tree.iter(f"{{{BPMN_NS}}}process"):
            if (process.get("isExecutable") or "").strip().lower() == "true":
                yield name, process


_MANUAL = {f"{{{BPMN_NS}}}{kind}" for kind in ("userTask", "manualTask", "task")}  # a person marks them done
_TIMES = [f"{{{BPMN_NS}}}{kind}" for kind in ("timeDate", "timeDuration", "timeCycle")]  # SpiffWorkflow's order


def _element_problems(trees: Mapping[str, object], elements, form_names: set[str], functions,
                      scripts=None) -> list[Problem]:
    """What each element of an executable process says, read from the XML (so it is checked even when
    SpiffWorkflow cannot parse the file): conditions and timers are sandbox-valid, scripts compile, service tasks
    name a connector with its parameters, user tasks show a form of this version."""
    problems: list[Problem] = []
    scripts = scripts or {}

    def at(node):
        element_id = node.get("id")

        def add(message, severity="error", at_line=None):
            problems.append(_problem_at(message, elements, element_id, severity=severity, at_line=at_line))
        return add

    for _name, process in _executable_processes(trees):
        for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
            _lint_condition(flow, problems, elements, functions)
        for script in process.iter(f"{{{BPMN_NS}}}script", f"{{{SPIFF_NS}}}preScript", f"{{{SPIFF_NS}}}postScript"):
            owner = script.getparent() if script.tag == f"{{{BPMN_NS}}}script" else script.getparent().getparent()
            if owner is not None and owner.get("id") and script.text:
                tag = etree.QName(script).localname
                _lint_script(script.text, _SCRIPT_WORDS[tag], at(owner), scripts.get((owner.get("id"), tag)))
        for task in process.iter(f"{{{BPMN_NS}}}serviceTask"):
            _lint_service_task(*_operator(task), at(task), functions)
        for definition in process.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
            if definition.getparent().get("id"):
                _lint_timer(definition, at(definition.getparent()), functions)
        for task in process.iter(*_MANUAL):
            _lint_form(task, at(task), form_names)
    return problems


_SCRIPT_WORDS = {"script": "script", "preScript": "pre-script", "postScript": "post-script"}


def _lint_condition(flow, problems, elements, functions) -> None:
    """A condition is a sandbox-valid expression (located at the element the flow leaves, like the engine's
    errors); a parallel gateway's are ignored (lint reports them)."""
    condition = flow.find(f"{{{BPMN_NS}}}conditionExpression")
    expression = (condition.text or "").strip() if condition is not None else ""
    source = elements.get(flow.get("sourceRef") or "")
    if not expression or (source is not None and source.tag == "parallelGateway"):
        return
    reason = check_expression(expression, functions)
    if reason:
        problems.append(_problem_at(f"condition {expression!r}: {reason}", elements, flow.get("sourceRef")))


def _lint_script(source: str, what: str, add, first_line: int | None) -> None:
    """A script task's script, or any element's pre- or post-script, compiles under the sandbox policy."""
    for error in _script_errors(source):
        message, file_line = script_error(what, error, first_line)
        add(message, at_line=file_line)


@lru_cache(maxsize=4096)
def _script_errors(source: str) -> tuple[str, ...]:
    """The sandbox's compile errors for a script. They depend on its text alone, and compiling is most of what
    validating an unchanged diagram costs, so each script is compiled once per process (like `_schema_refusal`)."""
    return tuple(compile_script(source)[1])


def _lint_form(node, add, form_names: set[str]) -> None:
    """A user task shows a form of this version (a plain or manual task may show one); its UI schema exists."""
    properties = {prop.get("name"): prop.get("value") for prop in node.iterfind(
        f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}properties//{{{SPIFF_NS}}}property")}
    form, ui = properties.get(FORM_SCHEMA_PROPERTY), properties.get(FORM_UI_PROPERTY)
    if not form:
        if node.tag == f"{{{BPMN_NS}}}userTask":
            add("this user task has no form: choose the form this task shows (Form in its properties)")
    elif form not in form_names:
        add(f"user task names the form {form!r}, which is not in the forms of this version: choose one of them")
    if ui and ui not in form_names:
        add(f"user task names the form layout {ui!r}, which is not in the forms of this version: choose one of them")


def _lint_payloads(spec, elements, functions) -> list[Problem]:
    """Signal, message and escalation payload expressions are sandbox-valid (as SpiffWorkflow read them)."""
    problems = []
    for task_spec in spec.task_specs.values():
        event_definition = getattr(task_spec, "event_definition", None)
        expression = getattr(event_definition, "expression", None)
        if getattr(task_spec, "bpmn_id", None) and expression and not isinstance(event_definition,
                                                                                 TimerEventDefinition):
            reason = check_expression(expression, functions)
            if reason:
                problems.append(_problem_at(f"payload expression {expression!r}: {reason}", elements,
                                            task_spec.bpmn_id))
    return problems


def _lint_timer(definition, add, functions) -> None:
    """A timer's text: an ISO literal (quoted or as modelling tools write it, bare) checked for its kind, or an
    expression checked like a condition; ambiguous text is refused with the fix (workflows/timers.py)."""
    found = next((child for tag in _TIMES for child in definition.iter(tag)), None)
    if found is None:
        add("the timer has no time: give it a duration (timeDuration, e.g. P7D), a date (timeDate) or a cycle "
            "(timeCycle, e.g. R6/P1D)")
        return
    kind = etree.QName(found).localname
    read = timers.classify(kind, found.text)
    if read.refusal:
        add(f"timer ({kind}): {read.refusal}")
    elif read.warning:
        add(f"timer ({kind}){' ' if read.warning.startswith('is ') else ': '}{read.warning}", severity="warning")
    elif read.expression is not None:
        reason = check_expression(read.expression, functions)
        if reason:
            add(f"timer ({kind}): {timers.expression_refusal(kind, read.expression, reason)}")


_EVENT_KINDS = {"signalEventDefinition": "signal", "messageEventDefinition": "message",
                "timerEventDefinition": "timer", "errorEventDefinition": "error",
                "escalationEventDefinition": "escalation", "conditionalEventDefinition": "conditional",
                "compensateEventDefinition": "compensation"}


def _structural_problems(trees: Mapping[str, object], elements) -> list[Problem]:
    """Event sub-processes of a kind SpiffWorkflow 3.2 cannot run correctly (engine notes P4; the tests in
    tests/workflows/test_event_subprocesses.py show each). Runs: non-interrupting ones started by a signal or a
    message, directly in a process that is not called by another, and by a duration or date timer."""
    called = {node.get("calledElement"): node.get("id") for tree in trees.values()
              for node in tree.iter(f"{{{BPMN_NS}}}callActivity") if node.get("calledElement")}
    problems = []
    for name, tree in trees.items():
        for node in tree.iter(f"{{{BPMN_NS}}}subProcess"):
            if node.get("triggeredByEvent") != "true":
                continue
            reason = _event_subprocess_refusal(node, called)
            if reason:
                problems.append(_problem_at(f"this event sub-process cannot run here: {reason}", elements,
                                            node.get("id"), file=name, line=node.sourceline))
    return problems


def _event_subprocess_refusal(node, called: Mapping[str, str]) -> str | None:
    starts = node.findall(f"{{{BPMN_NS}}}startEvent")
    if len(starts) != 1:
        return None  # SpiffWorkflow's parser says so, in our words
    start = starts[0]
    kinds = [_EVENT_KINDS.get(etree.QName(child).localname, etree.QName(child).localname)
             for child in start if etree.QName(child).localname.endswith("EventDefinition")]
    runs = "non-interrupting ones started by a signal, a message or a timer (a duration or a date) run here"
    if not kinds:
        return f"its start event waits for no event (it would start with the process); {runs}"
    if len(kinds) > 1 or kinds[0] not in ("signal", "message", "timer"):
        return f"it is started by {' or '.join(kinds)} events, which SpiffWorkflow 3.2 does not run; {runs}"
    if (start.get("isInterrupting") or "true").strip() != "false":
        return ("it is interrupting (isInterrupting is true, the BPMN default), and SpiffWorkflow 3.2 would run it "
                "beside the rest of the process without interrupting anything: make its start event "
                "non-interrupting, or model the interruption as an interrupting boundary event on a call activity")
    if kinds[0] == "timer":
        definition = next(child for child in start if etree.QName(child).localname == "timerEventDefinition")
        if definition.find(f"{{{BPMN_NS}}}timeCycle") is not None:
            return ("it is started by a cycle timer (timeCycle), which SpiffWorkflow 3.2 never starts; give it a "
                    "duration (timeDuration) or a date (timeDate), or use a non-interrupting cycle boundary timer")
        return None
    parent = node.getparent()
    if etree.QName(parent).localname != "process":
        return (f"it is started by a {kinds[0]} and sits inside the sub-process {parent.get('id')!r}; SpiffWorkflow "
                f"3.2 starts one only when it sits directly in a process: move it to the process")
    if parent.get("id") in called:
        return (f"it is started by a {kinds[0]}, and its process {parent.get('id')!r} is called by the call "
                f"activity {called[parent.get('id')]!r}; SpiffWorkflow 3.2 starts one only in a process that runs "
                "on its own: move it to the calling process, or use a boundary event on the call activity")
    return None


def validate(files: Mapping[str, bytes], forms: Mapping[str, bytes],
             extra_checks: Iterable[Callable[[CompiledVersion], list[Problem]]] = (),
             functions: frozenset[str] | None = None, *, all_executable: bool = False) -> CompiledVersion:
    """Validate and compile; raises ValidationFailed with every located error, else returns the version.

    `functions`: the callable names expressions may use (default: helpers.FUNCTION_NAMES, what the engine runs
    with); `all_executable`: check every process as if it were marked executable (inspect).
    """
    functions = FUNCTION_NAMES if functions is None else functions
    problems: list[Problem] = []
    if not files:
        raise ValidationFailed([Problem("no diagrams given")])
    trees, decision_trees, elements, scripts = {}, {}, {}, {}
    for name, content in sorted(files.items()):
        tree, found = parse_xml(name, content)
        problems += found
        if tree is not None and dmn.is_decision_file(name):
            decision_trees[name] = tree
        elif tree is not None:
            if all_executable:
                for node in tree.iter(f"{{{BPMN_NS}}}process"):
                    node.set("isExecutable", "true")
            trees[name] = tree
            elements.update(index_elements(name, tree))
            scripts.update(script_lines(tree))
    parsed_forms, form_problems = check_forms(forms)
    problems += form_problems

    parser = dmn.Parser(validator=VALIDATOR)
    decisions, decision_problems, refused = dmn.add_decisions(parser, decision_trees, functions)
    problems += decision_problems
    unread = sorted(n for n in files if dmn.is_decision_file(n) and n not in decision_trees)
    problems += dmn.check_calls(trees, decisions, lambda message, element_id, file: _problem_at(
        message, elements, element_id, file=file), refused, unread)
    unreadable = len(files) - len(trees) - len(decision_trees)
    # what the XML says needs no parse: found for every file, even one SpiffWorkflow then cannot read
    problems += lint.lint(trees) + _structural_problems(trees, elements) + _service_task_problems(trees, elements)
    problems += _element_problems(trees, elements, set(parsed_forms), functions, scripts)
    parse_problems, unparsed = [], set()  # the processes SpiffWorkflow could not parse (their files' too)
    for name, tree in trees.items():
        try:
            parser.add_bpmn_xml(_service_operators(_implicit_splits(copy.deepcopy(tree))), filename=name)
        except ValidationException as exc:
            unreadable += 1
            unparsed |= _process_ids(tree)
            parse_problems.append(_spiff_problem(exc, elements, None, name))
        except etree.LxmlError as exc:
            unreadable += 1
            unparsed |= _process_ids(tree)
            parse_problems.append(Problem(f"cannot read the diagram: {clean(_short(str(exc)))}", file=name,
                                          line=getattr(exc, "lineno", None) or 1))

    specs: dict[str, object] = {}
    process_ids = parser.get_process_ids()
    if not unreadable and not process_ids:
        problems.append(Problem("no executable process, so nothing here can run: mark the process executable "
                                "(isExecutable=\"true\" in its XML)",
                                file=next(iter(trees or decision_trees))))
    tried: set[str] = set()
    while pending := [i for i in parser.get_process_ids() if i not in tried]:
        # parsing a process adds its embedded sub-processes (event sub-processes too) as processes of their own
        for process_id in pending:
            tried.add(process_id)
            try:
                specs[process_id] = parser.get_spec(process_id)
            except ValidationException as exc:
                unparsed.add(process_id)
                parse_problems.append(_spiff_problem(exc, elements, process_id, None))
    problems += _new_words(parse_problems, problems, trees)
    problems += _call_problems(trees, elements, unparsed)
    event_subprocesses.wire(specs.values())
    settings.attach(specs, trees)
    problems += settings.problems(trees)
    for spec in specs.values():
        problems += _lint_payloads(spec, elements, functions)

    compiled = CompiledVersion(dict(files), dict(forms), specs, elements=elements, decisions=decisions)
    if not any(p.severity == "error" for p in problems):
        for check in extra_checks:
            problems += check(compiled)
    if any(p.severity == "error" for p in problems):
        raise ValidationFailed(_dedupe(problems))
    compiled.problems = _dedupe(problems)
    return compiled


def _process_ids(tree) -> set[str]:
    return {node.get("id") for node in tree.iter(f"{{{BPMN_NS}}}process") if node.get("id")}


def _new_words(parse_problems: list[Problem], found: list[Problem], trees) -> list[Problem]:
    """SpiffWorkflow's parse stops at a file's first error, which the XML checks have usually found already: its
    problem is kept only where it says something new, i.e. no error is reported yet at its element (or, for a
    sequence flow, at the element the flow leaves or enters)."""
    flows = {node.get("id"): (node.get("sourceRef"), node.get("targetRef")) for tree in trees.values()
             for node in tree.iter(f"{{{BPMN_NS}}}sequenceFlow")}
    said = set()
    for problem in found:
        if problem.severity == "error" and problem.element_id:
            said |= {problem.element_id, *flows.get(problem.element_id, ())}
    return [p for p in parse_problems if not (p.element_id and p.element_id in said)]


def _call_problems(trees: Mapping[str, object], elements, unparsed: set[str]) -> list[Problem]:
    """Every call activity of an executable process calls an executable process of this version. A call to a
    process SpiffWorkflow could not parse is no problem of its own: that process's problems are reported."""
    declared = {process.get("id") for _name, process in _executable_processes(trees)}
    known = ", ".join(sorted(declared)) or "none"
    problems = []
    for name, process in _executable_processes(trees):
        for node in process.iter(f"{{{BPMN_NS}}}callActivity"):
            called = (node.get("calledElement") or "").strip()
            if called and called not in declared and called not in unparsed:
                problems.append(_problem_at(f"calls the process {called!r}, which is not in this version "
                                            f"(processes: {known}): choose one of them", elements,
                                            node.get("id"), file=name, line=node.sourceline))
    return problems


_NAMESPACES = {"{http://www.omg.org/spec/BPMN/20100524/MODEL}": "bpmn:",
               "{http://spiffworkflow.org/bpmn/schema/1.0/core}": "spiffworkflow:"}


def _spiff_problem(exc: ValidationException, elements, fallback_id: str | None, file: str | None) -> Problem:
    """A SpiffWorkflow ValidationException as a located problem in our words (errors.parser_message)."""
    raw = ". ".join(str(part) for part in [exc.args[0] if exc.args else "", *getattr(exc, "notes", [])] if part)
    element_id = exc.id or _element_named(raw, elements) or fallback_id
    element = elements.get(element_id or "")
    tag = getattr(exc, "tag", None) or (f"bpmn:{element.tag}" if element else None)
    return _problem_at(parser_message(_short(raw), tag), elements, element_id, file=exc.file_name or file,
                       line=exc.line_number or None)


_NAMED = re.compile(r"with name (?P<name>.+?) has no implementation", re.DOTALL)


def _element_named(message: str, elements) -> str | None:
    """The id of the element SpiffWorkflow names by its name only (data stores), if exactly one has it."""
    match = _NAMED.search(message)
    if not match:
        return None
    wanted = " ".join(match.group("name").split())
    found = [e.element_id for e in elements.values() if e.name and " ".join(e.name.split()) == wanted]
    return found[0] if found else None


_ACTIVITIES = {f"{{{BPMN_NS}}}{kind}" for kind in (
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask", "businessRuleTask",
    "callActivity", "subProcess")}
_FLOW, _OUT, _IN = f"{{{BPMN_NS}}}sequenceFlow", f"{{{BPMN_NS}}}outgoing", f"{{{BPMN_NS}}}incoming"


def _implicit_splits(tree):
    """BPMN: an activity with several outgoing flows and no conditions on them starts them all at once (an
    implicit parallel split). SpiffWorkflow 3.2 refuses such an activity, so what the engine reads gets an explicit
    parallel gateway after it; the stored diagram stays as its author drew it. Conditional flows out of an
    activity are left alone (validation then asks for a gateway)."""
    for container in [*tree.iter(f"{{{BPMN_NS}}}process"), *tree.iter(f"{{{BPMN_NS}}}subProcess")]:
        flows: dict[str, list] = {}
        for flow in container.findall(_FLOW):
            flows.setdefault(flow.get("sourceRef"), []).append(flow)
        for node in list(container):
            outgoing = flows.get(node.get("id"), [])
            if node.tag not in _ACTIVITIES or len(outgoing) < 2 or any(
                    f.find(f"{{{BPMN_NS}}}conditionExpression") is not None for f in outgoing):
                continue
            split_id, link_id = f"{node.get('id')}__split", f"{node.get('id')}__to_split"
            gateway = etree.SubElement(container, f"{{{BPMN_NS}}}parallelGateway", id=split_id)
            etree.SubElement(gateway, _IN).text = link_id
            for flow in outgoing:
                flow.set("sourceRef", split_id)
                etree.SubElement(gateway, _OUT).text = flow.get("id")
            for ref in node.findall(_OUT):
                node.remove(ref)
            etree.SubElement(node, _OUT).text = link_id
            etree.SubElement(container, _FLOW, id=link_id, sourceRef=node.get("id"), targetRef=split_id)
    return tree


SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_OPERATOR, _PARAMETERS, _PARAMETER = (f"{{{SPIFF_NS}}}serviceTaskOperator", f"{{{SPIFF_NS}}}parameters",
                                      f"{{{SPIFF_NS}}}parameter")


def _service_operators(tree):
    """What the engine reads of a service task's connector (`workflows.connectors`), made readable to SpiffWorkflow
    3.2, which fails on a parameter without `type` or an operator without `id`: `name=` is read as `id=`, `type`
    defaults to any, a parameter without a name or value is left out, and a service task naming no connector gets an
    empty one, so the rest of its process is still checked. What is missing is reported by _service_task_problems."""
    for task in tree.iter(f"{{{BPMN_NS}}}serviceTask"):
        operator = task.find(f"{{{BPMN_NS}}}extensionElements/{_OPERATOR}")
        if operator is None:
            extensions = task.find(f"{{{BPMN_NS}}}extensionElements")
            if extensions is None:
                extensions = etree.Element(f"{{{BPMN_NS}}}extensionElements")
                documented = len(task.findall(f"{{{BPMN_NS}}}documentation"))
                task.insert(documented, extensions)
            operator = etree.SubElement(extensions, _OPERATOR)
        operator.set("id", operator.get("id") or "")
        parameters = operator.find(_PARAMETERS)
        if parameters is None:
            parameters = etree.Element(_PARAMETERS)
            operator.insert(0, parameters)
        for parameter in list(operator.iter(_PARAMETER)):
            name = parameter.get("id") or parameter.get("name")
            if not name or parameter.get("value") is None:
                parameter.getparent().remove(parameter)
                continue
            parameter.attrib.pop("name", None)
            parameter.set("id", name)
            parameter.set("type", parameter.get("type") or "any")
    return tree


def _service_task_problems(trees: Mapping[str, object], elements) -> list[Problem]:
    """A service task names one of the product's connectors, and each parameter has a name and a value."""
    problems = []
    for name, tree in trees.items():
        for task in tree.iter(f"{{{BPMN_NS}}}serviceTask"):
            def add(message, _task=task, _file=name):
                problems.append(_problem_at(message, elements, _task.get("id"), file=_file, line=_task.sourceline))

            operator = task.find(f"{{{BPMN_NS}}}extensionElements/{_OPERATOR}")
            if operator is None or not (operator.get("id") or "").strip():
                add(f"this service task names no connector: choose the connector it runs, one of the product's "
                    f"connectors: {connectors.listing()}")
                continue
            for parameter in operator.iter(_PARAMETER):
                parameter_name = parameter.get("id") or parameter.get("name")
                if not parameter_name:
                    add(f"a parameter of the connector {operator.get('id')!r} has no name (id)")
                elif parameter.get("value") is None:
                    add(f"the parameter {parameter_name!r} of the connector {operator.get('id')!r} has no value: give "
                        "it an expression (a text in quotes, or the name of a data field)")
    return problems


def _operator(task) -> tuple[str, dict[str, str]]:
    """The connector a service task names and its parameters {name: expression}, as the engine reads them
    (`_service_operators`: `name=` is read as `id=`; a parameter without a name or value is left out)."""
    operator = task.find(f"{{{BPMN_NS}}}extensionElements/{_OPERATOR}")
    if operator is None:
        return "", {}
    params = {}
    for parameter in operator.iter(_PARAMETER):
        name = parameter.get("id") or parameter.get("name")
        if name and parameter.get("value") is not None:
            params[name] = parameter.get("value")
    return (operator.get("id") or "").strip(), params


def _lint_service_task(operation: str, params: dict[str, str], add, functions) -> None:
    """The connector a service task names exists, and its parameters are the connector's, each a valid expression
    (and, when it is a literal, of the kind the connector takes)."""
    if not operation:
        return  # reported by _service_task_problems
    connector = connectors.CONNECTORS.get(operation)
    if connector is None:
        add(f"the service task names the connector {operation!r}, which this product does not have; connectors: "
            f"{connectors.listing()}")
        return
    for message in connector.declared_problems(params):
        add(message)
    for name, expression in params.items():
        if connector.parameter(name) is None:
            continue
        reason = check_expression(expression, functions) if expression.strip() else "it is empty"
        if reason:
            add(f"the parameter {name!r} of the connector {operation!r}, {expression!r}: {reason}")
            continue
        reason = connectors.literal_problem(connector, name, expression)
        if reason:
            add(f"the connector {operation!r}: {reason}")


def _short(message: str) -> str:
    """Spell namespaces as their usual prefixes, so messages read like the file does."""
    for uri, prefix in _NAMESPACES.items():
        message = message.replace(uri, prefix)
    return message.rstrip(". ")


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen, unique = set(), []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            unique.append(problem)
    return unique


def read_directory(bpmn_dir, forms_dir) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The *.bpmn and *.dmn files of one directory and the *.json files of another, by file name."""
    files = {p.name: p.read_bytes() for p in sorted([*Path(bpmn_dir).glob("*.bpmn"), *Path(bpmn_dir).glob("*.dmn")])}
    forms = {p.name: p.read_bytes() for p in sorted(Path(forms_dir).glob("*.json"))} if forms_dir else {}
    return files, forms
