"""The check behind the modeller's script editors: a script, pre-script or post-script as validation and the engine
see it (scripting.compile_script, the sandbox's names), its problems located by the line of the script."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .scripting import compile_script
from .specs import script_error

MAX_SCRIPT_CHARS = 50_000
WHAT = {"script": "script", "preScript": "pre-script", "postScript": "post-script"}
_ECHO = re.compile(r" at statement: (?P<statement>.*)$", re.DOTALL)


@dataclass(frozen=True)
class ScriptProblem:
    """One problem of a script: the line of the script (1 = its first line) and what is wrong, in plain words."""

    line: int | None
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "message": self.message}


def check_script(source: str, kind: str = "script") -> list[ScriptProblem]:
    """The problems validation would report for this script text; [] when it compiles under the sandbox.

    Raises ValueError for an unknown `kind`; never raises for the text (too long is a problem of its own)."""
    what = WHAT.get(kind)
    if what is None:
        raise ValueError(f"unknown kind of script {kind!r} (one of {', '.join(WHAT)})")
    if len(source) > MAX_SCRIPT_CHARS:
        return [ScriptProblem(None, f"the {what} is {len(source):,} characters long; the limit is "
                                    f"{MAX_SCRIPT_CHARS:,}: move the work into several tasks")]
    if not source.strip():
        return []
    _code, errors = compile_script(source)
    problems = []
    for error in errors:
        message, _file_line = script_error(what, _short_echo(error), 1)
        match = re.match(r"line (\d+) of the", message)
        problems.append(ScriptProblem(int(match.group(1)) if match else None, message))
    return problems


def _short_echo(error: str) -> str:
    """RestrictedPython repeats the whole statement after a syntax error; a long one is cut to its start."""
    match = _ECHO.search(error)
    if not match or len(match.group("statement")) <= 80:
        return error
    return error[:match.start("statement")] + match.group("statement")[:77] + "...'"
