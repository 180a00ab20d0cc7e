"""Task instructions: written by process owners as a Jinja template over the task's data (the SpiffArena
convention: "Sent back by the SER: {{ comments }}") in Markdown. They are not trusted: the template runs in
Jinja's sandbox, raw HTML is not allowed, and the result is sanitised before it reaches the page."""

from __future__ import annotations

import nh3
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markdown_it import MarkdownIt
from markupsafe import Markup

from workflows.periods import describe_period

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_templates = SandboxedEnvironment(autoescape=False, trim_blocks=True, lstrip_blocks=True)
# for process owners: {{ effectiveness_check_after|period }} -> "3 months", {{ source|words }} -> "internal audit"
_templates.filters["period"] = describe_period
_templates.filters["words"] = lambda value: str(value).replace("_", " ") if value is not None else ""
_TAGS = {"p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote", "h1", "h2", "h3", "h4", "h5",
         "h6", "a", "hr", "table", "thead", "tbody", "tr", "th", "td"}
MAX_LENGTH = 50_000


def render_instructions(text: str | None, data: dict | None = None) -> Markup | None:
    if not text or not text.strip():
        return None
    try:
        text = _templates.from_string(text).render(**_names(data))[:MAX_LENGTH]
    except (TemplateError, TypeError, ValueError, ArithmeticError, AttributeError, LookupError):
        pass  # a broken template is shown as written rather than hiding the instructions
    html = _markdown.render(text)
    clean = nh3.clean(html, tags=_TAGS, attributes={"a": {"href", "title"}},
                      url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")
    return Markup(clean) if clean.strip() else None


def _names(data: dict | None) -> dict:
    return {k: v for k, v in (data or {}).items() if isinstance(k, str) and k.isidentifier()}
