"""Parse, validate and compile a set of diagrams + forms into one immutable, content-hashed version.

Validation collects every problem it can find (not just the first), each located by file, element
id, element name and line, so a process owner can fix a diagram in one pass:
well-formed and safe XML, the BPMN 2.0 + spiff schema, SpiffWorkflow's own parse, an executable
process present, call activities resolving, and a lint pass SpiffWorkflow does not do (engine notes,
section 5): conditions and timer expressions are sandbox-valid, scripts compile under the sandbox
policy, timer literals parse, every user task names a form that exists and is valid JSON Schema.
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
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask as SubWorkflowTaskMixin
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from . import timers
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

    @property
    def content_hash(self) -> str:
        return content_hash(self.files, self.forms)

    @property
    def process_ids(self) -> list[str]:
        return sorted(self.specs)


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


def _lint_spec(spec, elements, form_names: set[str], functions, scripts=None) -> list[Problem]:
    problems: list[Problem] = []
    for task_spec in spec.task_specs.values():
        bpmn_id = getattr(task_spec, "bpmn_id", None)
        if not bpmn_id:
            continue

        def add(message, severity="error", at_line=None, _id=bpmn_id):
            problems.append(_problem_at(message, elements, _id, severity=severity, at_line=at_line))

        for condition, _target in getattr(task_spec, "cond_task_specs", []) or []:
            expression = getattr(condition, "args", [None])[0] if condition is not None else None
            if expression:
                reason = check_expression(expression, functions)
                if reason:
                    add(f"condition {expression!r}: {reason}")
        for attr, what, tag in (("script", "script", "script"), ("prescript", "pre-script", "preScript"),
                                ("postscript", "post-script", "postScript")):
            source = getattr(task_spec, attr, None)
            if source:
                _code, errors = compile_script(source)
                for error in errors:
                    message, file_line = script_error(what, error, (scripts or {}).get((bpmn_id, tag)))
                    add(message, at_line=file_line)
        event_definition = getattr(task_spec, "event_definition", None)
        if isinstance(event_definition, TimerEventDefinition):
            _lint_timer(event_definition, add, functions)
        expression = getattr(event_definition, "expression", None)
        if expression and not isinstance(event_definition, TimerEventDefinition):
            reason = check_expression(expression, functions)
            if reason:
                add(f"payload expression {expression!r}: {reason}")
        if getattr(task_spec, "manual", False):
            properties = task_spec.extensions.get("properties", {}) if hasattr(task_spec, "extensions") else {}
            form = properties.get(FORM_SCHEMA_PROPERTY)
            if not form:
                if type(task_spec).__name__ == "UserTask":  # a plain task or a manual task: a person marks it done
                    add(f"user task has no form: set the property {FORM_SCHEMA_PROPERTY}")
            elif form not in form_names:
                add(f"user task names the form {form!r}, which is not in the forms of this version")
            ui = properties.get(FORM_UI_PROPERTY)
            if ui and ui not in form_names:
                add(f"user task names the UI schema {ui!r}, which is not in the forms of this version")
    return problems


def _lint_timer(event_definition, add, functions) -> None:
    """A timer's text: an ISO literal (quoted or as modelling tools write it, bare) checked for its kind, or an
    expression checked like a condition; ambiguous text is refused with the fix (workflows/timers.py)."""
    kind = timers.kind_of(event_definition)
    read = timers.classify(kind, event_definition.expression)
    if read.refusal:
        add(f"timer ({kind}): {read.refusal}")
    elif read.warning:
        add(f"timer ({kind}): {read.warning}", severity="warning")
    elif read.expression is not None:
        reason = check_expression(read.expression, functions)
        if reason:
            add(f"timer expression {read.expression!r}: {reason}")


def _structural_problems(trees: Mapping[str, object], elements) -> list[Problem]:
    problems = []
    for name, tree in trees.items():
        for node in tree.iter("{*}subProcess"):
            if node.get("triggeredByEvent") == "true":
                problems.append(_problem_at(
                    "event subprocesses are not supported (they mutate shared specs in SpiffWorkflow 3.2); "
                    "use a boundary event on a call activity", elements, node.get("id"), file=name))
    return problems


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
    trees, elements, scripts = {}, {}, {}
    for name, content in sorted(files.items()):
        tree, found = parse_xml(name, content)
        problems += found
        if tree is not None:
            if all_executable:
                for node in tree.iter(f"{{{BPMN_NS}}}process"):
                    node.set("isExecutable", "true")
            trees[name] = tree
            elements.update(index_elements(name, tree))
            scripts.update(script_lines(tree))
    parsed_forms, form_problems = check_forms(forms)
    problems += form_problems

    parser = SpiffBpmnParser(validator=VALIDATOR)
    unreadable = len(files) - len(trees)
    for name, tree in trees.items():
        try:
            parser.add_bpmn_xml(_implicit_splits(copy.deepcopy(tree)), filename=name)
        except ValidationException as exc:
            unreadable += 1
            problems.append(_spiff_problem(exc, elements, None, name))
        except etree.LxmlError as exc:
            unreadable += 1
            problems.append(Problem(f"cannot read the diagram: {clean(_short(str(exc)))}", file=name,
                                    line=getattr(exc, "lineno", None) or 1))
    problems += _structural_problems(trees, elements)

    specs: dict[str, object] = {}
    process_ids = parser.get_process_ids()
    if not unreadable and not process_ids:
        problems.append(Problem("no executable process: set isExecutable=\"true\" on a process",
                                file=next(iter(trees))))
    for process_id in process_ids:
        try:
            specs[process_id] = parser.get_spec(process_id)
        except ValidationException as exc:
            problems.append(_spiff_problem(exc, elements, process_id, None))
    for spec in specs.values():
        for task_spec in spec.task_specs.values():
            if isinstance(task_spec, SubWorkflowTaskMixin) and task_spec.spec not in specs:
                problems.append(_problem_at(
                    f"calls the process {task_spec.spec!r}, which is not in this version "
                    f"(processes: {', '.join(sorted(specs)) or 'none'})", elements, task_spec.bpmn_id))
        problems += _lint_spec(spec, elements, set(parsed_forms), functions, scripts)

    compiled = CompiledVersion(dict(files), dict(forms), specs, elements=elements)
    if not any(p.severity == "error" for p in problems):
        for check in extra_checks:
            problems += check(compiled)
    if any(p.severity == "error" for p in problems):
        raise ValidationFailed(_dedupe(problems))
    compiled.problems = _dedupe(problems)
    return compiled


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
    """The *.bpmn files of one directory and the *.json files of another, by file name."""
    files = {p.name: p.read_bytes() for p in sorted(Path(bpmn_dir).glob("*.bpmn"))}
    forms = {p.name: p.read_bytes() for p in sorted(Path(forms_dir).glob("*.json"))} if forms_dir else {}
    return files, forms
