"""The sandbox for what process owners write in diagrams: conditions, timer expressions and scripts.

SpiffWorkflow's own environment runs plain eval/exec (engine notes, section 4), so a diagram could
run any command. Here:
- expressions (gateway conditions, timer and payload expressions, multi-instance collections) are
  evaluated by simpleeval, a whitelist AST evaluator: no dunders, no imports, bounded powers/strings;
- scripts are compiled by RestrictedPython with a policy that also injects a clock check into every
  loop and function body, and guards `*`, `**`, `<<` against memory bombs; iteration is guarded per
  item. Each script has a wall-clock budget; exceeding it raises ScriptTimeout (a BaseException, so a
  script's own `except Exception` cannot swallow it, and it stays raised on every later check).
The engine re-attaches this environment after every load (engine notes P2).
"""

from __future__ import annotations

import ast
import builtins
import contextvars
import copy
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import simpleeval
from RestrictedPython import RestrictingNodeTransformer, compile_restricted_exec
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence
from RestrictedPython.PrintCollector import PrintCollector
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from . import connectors, settings, timers
from .effects import record_effect
from .user_tasks import Effect

DEFAULT_TIME_LIMIT = 1.0  # seconds of wall clock per script
MAX_SEQUENCE = 1_000_000  # items a script may build with `*` or range()
MAX_POWER_BITS = 4_096  # bits of an integer a script may build with ** or <<

BLOCKED_ATTRIBUTES = frozenset({
    "format", "format_map",  # "{0.__class__}".format(x) walks attributes outside the guard
    "ljust", "rjust", "center", "zfill", "expandtabs",  # one call, gigabytes
    "mro", "gi_frame", "gi_code", "f_globals", "f_locals", "f_back", "cr_frame", "ag_frame",
})


class ScriptTimeout(BaseException):
    """A script ran past its time budget. BaseException so that `except Exception` does not catch it.

    args[0] is the script line that was running when the time ran out.
    """


class SandboxViolation(Exception):
    """The script tried something the sandbox does not allow."""


_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("script_deadline", default=None)
_expired_at: contextvars.ContextVar[int] = contextvars.ContextVar("script_expired_at", default=0)


def _tick():
    line = _expired_at.get()
    if not line:
        deadline = _deadline.get()
        if deadline is None or time.monotonic() <= deadline:
            return
        line = sys._getframe(1).f_lineno  # where the script was when its time ran out
        _expired_at.set(line)
    raise ScriptTimeout(line)


class _TickingIterator:
    __slots__ = ("_it",)

    def __init__(self, iterable):
        self._it = iter(iterable)

    def __iter__(self):
        return self

    def __next__(self):
        _tick()
        return next(self._it)


def _getiter(obj):
    return _TickingIterator(obj)


def _getattr(obj, name, default=None):
    if not isinstance(name, str) or name.startswith("_") or name in BLOCKED_ATTRIBUTES:
        raise SandboxViolation(f"access to attribute {name!r} is not allowed")
    return getattr(obj, name, default) if default is not None else getattr(obj, name)


def _getitem(obj, key):
    if isinstance(key, str) and key.startswith("__"):
        raise SandboxViolation(f"access to item {key!r} is not allowed")
    return obj[key]


def _size_of(value) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


def _mul(a, b):
    for seq, n in ((a, b), (b, a)):
        size = _size_of(seq)
        if size is not None and isinstance(n, int) and size * n > MAX_SEQUENCE:
            raise SandboxViolation(f"the result would have {size * n:,} items (limit {MAX_SEQUENCE:,})")
    return a * b


def _pow(a, b, mod=None):
    if isinstance(a, int) and isinstance(b, int) and mod is None and b > 0 and abs(a) > 1:
        if abs(a).bit_length() * b > MAX_POWER_BITS:
            raise SandboxViolation(f"{a} ** {b} is too large to compute")
    return pow(a, b, mod)


def _lshift(a, b):
    if isinstance(a, int) and isinstance(b, int) and b > MAX_POWER_BITS:
        raise SandboxViolation(f"{a} << {b} is too large to compute")
    return a << b


_INPLACE = {
    "+=": lambda a, b: a + b, "-=": lambda a, b: a - b, "*=": _mul, "/=": lambda a, b: a / b,
    "//=": lambda a, b: a // b, "%=": lambda a, b: a % b, "**=": _pow, "<<=": _lshift,
    ">>=": lambda a, b: a >> b, "|=": lambda a, b: a | b, "&=": lambda a, b: a & b, "^=": lambda a, b: a ^ b,
}


def _inplacevar(op, a, b):
    if op not in _INPLACE:
        raise SandboxViolation(f"operator {op} is not allowed")
    return _INPLACE[op](a, b)


def _range(*args):
    r = range(*args)
    if len(r) > MAX_SEQUENCE:
        raise SandboxViolation(f"range of {len(r):,} items (limit {MAX_SEQUENCE:,})")
    return r


def _located(new: ast.AST, source: ast.AST) -> ast.AST:
    """Give a node built by the policy (and its children) the source position of the node it guards."""
    for node in ast.walk(new):
        if "lineno" in node._attributes and not hasattr(node, "lineno"):
            ast.copy_location(node, source)
    return new


def _tick_call(source: ast.AST) -> ast.Expr:
    call = ast.Call(func=ast.Name(id="_tick_", ctx=ast.Load()), args=[], keywords=[])
    return _located(ast.Expr(value=call), source)


class _BudgetPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy plus a clock check in every loop/function body and guarded arithmetic."""

    def visit_While(self, node):
        node = super().visit_While(node)
        node.body.insert(0, _tick_call(node))
        return node

    def visit_FunctionDef(self, node):
        node = super().visit_FunctionDef(node)
        node.body.insert(0, _tick_call(node))
        return node

    _GUARDED_OPS = {ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_"}

    def visit_BinOp(self, node):
        node = super().visit_BinOp(node)
        guard = self._GUARDED_OPS.get(type(node.op))
        if guard is None:
            return node
        call = ast.Call(func=ast.Name(id=guard, ctx=ast.Load()), args=[node.left, node.right], keywords=[])
        return _located(call, node)

    def visit_Import(self, node):
        self.error(node, "imports are not allowed in diagram scripts; use the provided helpers")

    visit_ImportFrom = visit_Import


SAFE_BUILTINS: dict[str, Any] = {
    name: getattr(builtins, name)
    for name in (
        "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "filter", "float", "int", "isinstance",
        "len", "list", "map", "max", "min", "reversed", "round", "set", "sorted", "str", "sum", "tuple",
        "zip", "chr", "ord", "hash", "repr", "frozenset",
        "Exception", "ValueError", "KeyError", "IndexError", "TypeError", "ZeroDivisionError", "ArithmeticError",
        "NameError", "AttributeError", "LookupError",
    )
}
SAFE_BUILTINS.update({"None": None, "True": True, "False": False, "range": _range, "pow": _pow})

SCRIPT_GUARDS: dict[str, Any] = {
    "_getattr_": _getattr, "_getitem_": _getitem, "_getiter_": _getiter, "_write_": full_write_guard,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence, "_unpack_sequence_": guarded_unpack_sequence,
    "_inplacevar_": _inplacevar, "_print_": PrintCollector, "_tick_": _tick, "_mul_": _mul, "_pow_": _pow,
    "_lshift_": _lshift,
}


# Python's own functions a script may never reach (files, eval, introspection): refused wherever they are named,
# unless the script defines the name itself. Other Python builtins the sandbox lacks are refused when called.
FORBIDDEN_NAMES = frozenset({
    "open", "eval", "exec", "compile", "globals", "locals", "vars", "getattr", "setattr", "delattr", "breakpoint",
    "memoryview", "exit", "quit", "super", "classmethod", "staticmethod",
})
_MISSING_BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_")) - set(SAFE_BUILTINS) - {
    "print"}  # print() is collected by the sandbox


def _unavailable_names(tree: ast.AST) -> list[str]:
    """Errors, in RestrictedPython's 'Line N: ...' form, for Python builtins the sandbox does not give scripts."""
    defined = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)}
    defined |= {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.ClassDef)}
    defined |= {arg.arg for node in ast.walk(tree) if isinstance(node, ast.arguments)
                for arg in [*node.posonlyargs, *node.args, *node.kwonlyargs, node.vararg, node.kwarg] if arg}
    errors = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Name) or node.id in defined:
            continue
        if node.id in FORBIDDEN_NAMES and isinstance(node.ctx, ast.Load):
            errors.append((node.lineno, f"Line {node.lineno}: name {node.id!r} is not allowed in diagram scripts"))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _MISSING_BUILTINS
                and node.func.id not in FORBIDDEN_NAMES and node.func.id not in defined):
            errors.append((node.lineno, f"Line {node.lineno}: the function {node.func.id!r} is not available in "
                                        "diagram scripts"))
    return [text for _line, text in sorted(errors, key=lambda e: e[0])]


def compile_script(source: str, filename: str = "<string>"):
    """Compile a diagram script under the sandbox policy. Returns (code, errors); errors name the line.

    Never raises for the text: input too deeply nested to compile, or holding a NUL, is an error of line 1."""
    if "\x00" in source:
        return None, [f"Line {source.count(chr(10), 0, source.index(chr(0))) + 1}: the script holds a NUL character"]
    try:
        result = compile_restricted_exec(source, filename=filename, policy=_BudgetPolicy)
        errors = list(result.errors)
        if not errors:
            errors = _unavailable_names(ast.parse(source))
    except (RecursionError, MemoryError):
        return None, ["Line 1: the script is nested too deeply to read"]
    except (ValueError, TypeError) as exc:
        return None, [f"Line 1: the script cannot be read: {exc}"]
    return (None if errors else result.code), errors


_CONDITION_FUNCTIONS = {
    k: v for k, v in SAFE_BUILTINS.items()
    if callable(v) and not k[0].isupper() and v not in simpleeval.DISALLOW_FUNCTIONS
}

CONDITION_FUNCTION_NAMES = frozenset(_CONDITION_FUNCTIONS)


def _expression_evaluator(names: dict, functions: dict) -> simpleeval.EvalWithCompoundTypes:
    evaluator = simpleeval.EvalWithCompoundTypes(names=names, functions=functions)
    return evaluator


def check_expression(expression: str, functions: frozenset[str] | None = None) -> str | None:
    """Why `expression` cannot run as a condition/timer expression, or None when it can.

    `functions` are the callable names available; a call to any other bare name is refused.
    """
    functions = CONDITION_FUNCTION_NAMES if functions is None else functions
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        return f"syntax error at column {exc.offset}: {exc.msg}"
    evaluator = _expression_evaluator({}, {})
    for node in ast.walk(tree):
        if isinstance(node, ast.expr_context | ast.operator | ast.boolop | ast.cmpop | ast.unaryop
                      | ast.comprehension | ast.keyword | ast.Expression):
            continue
        if type(node) not in evaluator.nodes:
            return f"'{type(node).__name__}' is not allowed in an expression"
        if isinstance(node, ast.Attribute) and (node.attr.startswith("_") or node.attr in BLOCKED_ATTRIBUTES):
            return f"attribute '{node.attr}' is not allowed"
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            return f"name '{node.id}' is not allowed"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in functions:
            return f"function '{node.func.id}' is not available (available: {', '.join(sorted(functions))})"
    return None


class SandboxEnvironment(TaskDataEnvironment):
    """A SpiffWorkflow script environment that never runs plain eval/exec."""

    def __init__(self, helpers: dict[str, Callable] | None = None, time_limit: float = DEFAULT_TIME_LIMIT):
        self.helpers = dict(helpers or {})
        self.time_limit = time_limit
        super().__init__({"__builtins__": SAFE_BUILTINS, **SCRIPT_GUARDS, **self.helpers})
        self._code_cache: dict[str, Any] = {}

    @property
    def function_names(self) -> frozenset[str]:
        """Callable names an expression may use: the safe builtins and the helpers."""
        return CONDITION_FUNCTION_NAMES | frozenset(self.helpers)

    def evaluate(self, expression, context, external_context=None):
        names = dict(context)
        names.update(external_context or {})
        functions = {**_CONDITION_FUNCTIONS, **self.helpers}
        try:
            return _expression_evaluator(names, functions).eval(expression.strip())
        except simpleeval.NameNotDefined as exc:
            raise NameError(f"name '{exc.name}' is not defined") from None
        except simpleeval.FunctionNotDefined as exc:
            raise NameError(f"function '{exc.func_name}' is not available") from None
        except (simpleeval.FeatureNotAvailable, simpleeval.IterableTooLong, simpleeval.NumberTooHigh,
                simpleeval.AttributeDoesNotExist) as exc:
            raise SandboxViolation(str(exc)) from None

    def execute(self, script, context, external_context=None):
        code = self._code_cache.get(script)
        if code is None:
            code, errors = compile_script(script)
            if errors:
                raise SandboxViolation("; ".join(errors))
            self._code_cache[script] = code
        external_context = external_context or {}
        self.check_for_overwrite(context, external_context)
        context.update(copy.copy(self.globals))
        context.update(external_context)
        deadline_token = _deadline.set(time.monotonic() + self.time_limit)
        expired_token = _expired_at.set(0)
        try:
            exec(code, context)
            if _expired_at.get():  # the script caught the timeout and carried on: still a timeout
                raise ScriptTimeout(_expired_at.get())
        finally:
            _deadline.reset(deadline_token)
            _expired_at.reset(expired_token)
            self._remove_globals_and_functions_from_context(context, external_context)
        return True


class SandboxScriptEngine(PythonScriptEngine):
    """PythonScriptEngine whose errors keep Spiff's line numbers and turn ScriptTimeout into a task error."""

    def __init__(self, environment: SandboxEnvironment):
        super().__init__(environment=environment)

    def evaluate(self, task, expression, external_context=None):
        """A timer's ISO literal is that literal (bare `P7D` as modelling tools write it); a service task's parameter
        fails naming the parameter; the rest is evaluated (reading the settings of the task's process)."""
        with settings.running(task):
            return self._evaluate(task, expression, external_context)

    def _evaluate(self, task, expression, external_context=None):
        definition = getattr(task.task_spec, "event_definition", None)
        if expression is not None and expression == getattr(definition, "expression", None):
            literal = timers.literal_of(definition)
            if literal is not None:
                return literal
        parameters = [name for name, p in (getattr(task.task_spec, "operation_params", None) or {}).items()
                      if p.get("value") == expression]
        if parameters:
            try:
                return self.environment.evaluate(expression, task.data, external_context)
            except Exception as exc:
                hint = " (a text is written in quotes: 'like this')" if isinstance(exc, NameError) else ""
                raise WorkflowTaskException(
                    f"the connector {task.task_spec.operation_name!r} could not work out its parameter "
                    f"{' / '.join(map(repr, parameters))} from {expression!r}: {exc}{hint}",
                    task=task, exception=exc) from None
        return super().evaluate(task, expression, external_context)

    def call_service(self, task, operation_name=None, operation_params=None, **_other):
        """A service task: check its connector and evaluated parameters, and record the call (an Effect) for after
        the save. Nothing is called from here. Its result variable gets the connector and the values it took."""
        spec = task.task_spec
        values = {name: param.get("value") for name, param in (operation_params or {}).items()}
        try:
            call = connectors.request(operation_name, values, task_id=str(task.id), bpmn_id=spec.bpmn_id,
                                      task_name=spec.bpmn_name, process_id=task.workflow.spec.name)
        except connectors.ConnectorRefused as exc:
            raise WorkflowTaskException(exc.message, task=task) from None
        record_effect(Effect("connector", name=call.connector, call=call))
        return json.dumps({"connector": call.connector, "parameters": call.params})

    def execute(self, task, script, external_context=None):
        try:
            with settings.running(task):
                return super().execute(task, script, external_context)
        except ScriptTimeout as exc:
            line = exc.args[0] if exc.args else None
            lines = script.splitlines()
            raise WorkflowTaskException(
                f"the script ran longer than its time limit of {self.environment.time_limit:g} s and was stopped",
                task=task, line_number=line,
                error_line=lines[line - 1] if line and line <= len(lines) else None) from None

