"""The connectors a service task may name: what the product does for a diagram beyond its own data.

A service task names one with SpiffWorkflow's extension, as SpiffArena writes it:

    <bpmn:serviceTask id="tell_sers" name="Tell the SERs">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="send_notification">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="to_role" type="str" value="'ser'" />
            <spiffworkflow:parameter id="subject" type="str" value="'Review ' + partner" />
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>

Each value is an expression evaluated in the sandbox against the task's data (a text is written in quotes);
`name=` is read as `id=` and `type` may be left out. Validation refuses a service task naming no connector or one
this product does not have (with the list), unknown or missing parameters, and literal values of the wrong kind;
at run time the engine checks the evaluated values again and records the call (`ServiceCall`): the engine starts
a nonconformity itself, the app sends notifications and writes register entries in the same transaction.
Nothing here calls another system.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .effects import json_data
from .errors import InvalidData, WorkflowError
from .user_tasks import ServiceCall

NONCONFORMITY_PROCESS = "nonconformity"  # the process raise_nonconformity starts


class ConnectorRefused(WorkflowError):
    """A service task's connector or its parameters are not what the connector takes."""

    code = "connector_refused"


@dataclass(frozen=True)
class Parameter:
    name: str
    title: str
    kind: str  # text | texts (one text, comma-separated, or a list of texts) | object | boolean | choice
    required: bool = False
    choices: tuple[str, ...] = ()
    max_length: int = 300
    description: str = ""

    def check(self, value):
        """The value as the connector uses it; raises ValueError saying what is wrong."""
        if self.kind == "text" or self.kind == "choice":
            if isinstance(value, int | float) and not isinstance(value, bool) and self.kind == "text":
                value = str(value)
            if not isinstance(value, str):
                raise ValueError(f"expected a text, got {_kind_of(value)}")
            value = value.strip()
            if len(value) > self.max_length:
                raise ValueError(f"{len(value):,} characters; at most {self.max_length:,}")
            if self.kind == "choice" and value not in self.choices:
                raise ValueError(f"{value!r} is not one of {', '.join(self.choices)}")
            return value
        if self.kind == "texts":
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
                raise ValueError(f"expected a text or a list of texts, got {_kind_of(value)}")
            return [i.strip() for i in items if i.strip()]
        if self.kind == "object":
            if not isinstance(value, dict):
                raise ValueError(f"expected an object of fields (a dict), got {_kind_of(value)}")
            try:
                json_data(value, self.name)
            except InvalidData as exc:
                raise ValueError(exc.message) from None
            return dict(value)
        if self.kind == "boolean":
            if not isinstance(value, bool):
                raise ValueError(f"expected True or False, got {_kind_of(value)}")
            return value
        raise AssertionError(self.kind)


def _kind_of(value) -> str:
    return {str: "a text", bool: "True or False", int: "a number", float: "a number", dict: "an object",
            list: "a list", tuple: "a list", type(None): "nothing (None)"}.get(type(value), type(value).__name__)


def _empty(value) -> bool:
    return value is None or (isinstance(value, str | list | tuple | dict) and not value)


@dataclass(frozen=True)
class Connector:
    id: str
    title: str
    description: str
    parameters: tuple[Parameter, ...]
    one_of: tuple[str, ...] = ()  # at least one of these parameters must be given

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    @property
    def names(self) -> str:
        return ", ".join(p.name for p in self.parameters)

    def declared_problems(self, names: Iterable[str]) -> list[str]:
        """What is wrong with the parameter names a diagram gives (validation)."""
        names = set(names)
        problems = [f"the connector {self.id!r} has no parameter {n!r} (its parameters: {self.names})"
                    for n in sorted(names) if self.parameter(n) is None]
        problems += [f"the connector {self.id!r} needs the parameter {p.name!r} ({p.title.lower()})"
                     for p in self.parameters if p.required and p.name not in names]
        if self.one_of and not names & set(self.one_of):
            problems.append(f"the connector {self.id!r} needs {' or '.join(map(repr, self.one_of))}")
        return problems

    def checked(self, values: Mapping[str, object]) -> dict:
        """The evaluated parameter values as the connector uses them (empty optional ones left out). Raises
        ConnectorRefused naming each parameter that is wrong."""
        problems, result = self.declared_problems(values), {}
        for name, value in values.items():
            parameter = self.parameter(name)
            if parameter is None:
                continue
            if _empty(value):
                if parameter.required:
                    problems.append(f"the parameter {name!r} gave nothing ({_kind_of(value)}); it is required")
                continue
            try:
                result[name] = parameter.check(value)
            except ValueError as exc:
                problems.append(f"the parameter {name!r}: {exc}")
        if any(n in values for n in self.one_of) and not any(n in result for n in self.one_of):
            problems.append(f"{' and '.join(map(repr, self.one_of))} gave nothing; one of them is needed")
        if problems:
            raise ConnectorRefused(f"the connector {self.id!r}: " + "; ".join(problems), connector=self.id)
        return result


SEND_NOTIFICATION = Connector(
    "send_notification", "Send an e-mail notification",
    "Tells people something: a notification in collabflow and, when mail is on, an e-mail through the outbox. "
    "To everyone with a role (a role such as 'ser' or a lane such as 'SER' or 'Partner SER'), to named users, "
    "or both.",
    (Parameter("to_role", "Role or lane", "text", max_length=80,
               description="a role (staff, ser, jmt, top_management, ...) or a lane (SER, Partner SER, ...)"),
     Parameter("to_users", "Users", "texts", description="user names, comma-separated or a list"),
     Parameter("subject", "Subject", "text", required=True),
     Parameter("body", "Message", "text", max_length=20_000)),
    one_of=("to_role", "to_users"))
CREATE_REGISTER_ENTRY = Connector(
    "create_register_entry", "Create a register entry",
    "Adds an entry to a register of the relationship (or of the management system) the instance belongs to; an "
    "entry of the same name is updated, as a task's register data is.",
    (Parameter("register", "Register", "text", required=True, max_length=40,
               description="risks, opportunities, value, knowledge, exit-triggers, actions, ..."),
     Parameter("entry", "Entry", "object", required=True, description="the entry's fields, e.g. {'risk': ...}"),
     Parameter("joint", "Shared with the partner", "boolean")))
RAISE_NONCONFORMITY = Connector(
    "raise_nonconformity", "Raise a nonconformity",
    f"Starts the '{NONCONFORMITY_PROCESS}' process (correction, root cause, corrective action, effectiveness "
    "check) with these details.",
    (Parameter("title", "Title", "text", required=True),
     Parameter("description", "Description", "text", required=True, max_length=20_000),
     Parameter("severity", "Severity", "choice", required=True, choices=("major", "minor")),
     Parameter("requirement", "Requirement", "text", max_length=30, description="a requirement id such as M10.1"),
     Parameter("source", "Source", "text", max_length=40, description="where it was found (default: process)"),
     Parameter("area", "Area", "text"),
     Parameter("relationship", "Relationship", "text", description="the relationship concerned, if any")))

CONNECTORS: dict[str, Connector] = {c.id: c for c in (SEND_NOTIFICATION, CREATE_REGISTER_ENTRY, RAISE_NONCONFORMITY)}


def listing() -> str:
    """The connectors as a problem message lists them."""
    return "; ".join(f"{c.id} ({c.title.lower()})" for c in CONNECTORS.values())


def literal_problem(connector: Connector, name: str, expression: str) -> str | None:
    """When a parameter's expression is a literal (a quoted text, a number, a dict, ...), why the connector cannot
    take it; None when it can or when only the data at run time will tell."""
    parameter = connector.parameter(name)
    if parameter is None:
        return None
    try:
        value = ast.literal_eval(expression.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if _empty(value):
        return f"the parameter {name!r} is empty" + ("; it is required" if parameter.required else "")
    try:
        parameter.check(value)
    except ValueError as exc:
        return f"the parameter {name!r}: {exc}"
    return None


def request(connector_id: str | None, values: Mapping[str, object], *, task_id: str, bpmn_id: str,
            task_name: str | None, process_id: str) -> ServiceCall:
    """The call a service task makes, its values checked. Raises ConnectorRefused."""
    connector = CONNECTORS.get(connector_id or "")
    if connector is None:
        raise ConnectorRefused(f"there is no connector {connector_id!r}; connectors: {listing()}",
                               connector=connector_id)
    params = connector.checked(values)
    if connector is RAISE_NONCONFORMITY:
        params.setdefault("source", "process")
    return ServiceCall(connector.id, params, task_id, bpmn_id, task_name, process_id)
