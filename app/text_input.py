"""The one rule for text that comes in: no NUL character and no lone surrogate, anywhere.

PostgreSQL cannot store a NUL in text, and a lone surrogate (`"\\ud800"` in JSON) cannot be encoded as UTF-8, so
either would fail deep inside a service as a 500. The edge (app/pages.py) asks `first_bad_text` of every form
field, query argument and JSON body (keys and values, at any depth) before a view runs. No Flask here.
"""

from __future__ import annotations

import re

_BAD = re.compile("[\x00\ud800-\udfff]")
MAX_DEPTH = 64  # JSON bodies are already limited to 32 levels by the API; this only bounds the walk


def problem_of(text: str) -> str | None:
    """What is wrong with one string, in words, or None."""
    found = _BAD.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "holds a NUL character (\\u0000), which text may not contain"
    return "holds a lone surrogate (an unpaired \\ud800-\\udfff), which is not valid Unicode text"


def first_bad_text(value, path: str = "") -> tuple[str, str] | None:
    """(field path, problem) of the first string in `value` (str, dict, list, nested) that holds a NUL or a lone
    surrogate, keys included; paths read `data.items.2.name`. None when all is well."""
    stack = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            problem = problem_of(item)
            if problem:
                return where or "(body)", problem
        elif depth < MAX_DEPTH and isinstance(item, dict):
            for key, inner in reversed(list(item.items())):
                name = f"{where}.{key}" if where else str(key)
                if isinstance(key, str) and problem_of(key):
                    return _printable(name), "the field's name " + problem_of(key)
                stack.append((inner, name, depth + 1))
        elif depth < MAX_DEPTH and isinstance(item, list | tuple):
            for index in reversed(range(len(item))):
                stack.append((item[index], f"{where}.{index}" if where else str(index), depth + 1))
    return None


def _printable(name: str) -> str:
    return _BAD.sub(lambda m: f"\\u{ord(m.group()):04x}", name)
