"""Charts drawn as SVG on the server, so they print and need no JavaScript.

Every chart is an `<svg role="img">` with a `<title>` and a `<desc>` that says the figures in words, and every
bar carries its numbers in `data-*` attributes (what tests and screen readers' users can rely on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from markupsafe import Markup, escape

from ..management import charts as management_charts
from ..registers import heatmap

BAR_COLOUR, WORST_COLOUR, GRID = "#2f6db3", "#c0392b", "#d8dee8"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str = ""  # the value as shown beside the bar (defaults to the number)
    data: dict = field(default_factory=dict)  # more data-* attributes


def duration_text(value: timedelta | None) -> str:
    """3 d 4 h, 5 h 10 min, 40 min; an em dash when there is nothing."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def _attrs(data: dict) -> str:
    return "".join(f' data-{escape(k)}="{escape(v)}"' for k, v in data.items() if v is not None)


def bar_chart(bars: list[Bar], *, title: str, chart_id: str, label_width: int = 190, width: int = 560,
              bar_height: int = 22, unit: str = "") -> Markup:
    """A horizontal bar chart: one row per bar, its label left, the bar, its value right."""
    top, gap = 6, 8
    height = top + len(bars) * (bar_height + gap) + 4
    plot = width - label_width - 70
    biggest = max((b.value for b in bars), default=0) or 1
    summary = "; ".join(f"{b.label}: {b.text or _number(b.value)}{unit}" for b in bars) or "no data"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" role="img" '
             f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" '
             f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc">'
             f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
             f'<desc id="{escape(chart_id)}-desc">{escape(summary)}</desc>']
    for i, bar in enumerate(bars):
        y = top + i * (bar_height + gap)
        length = round(plot * bar.value / biggest, 1) if bar.value > 0 else 0
        shown = bar.text or f"{_number(bar.value)}{unit}"
        parts.append(
            f'<g class="bar" data-label="{escape(bar.label)}" data-value="{escape(_number(bar.value))}"'
            f'{_attrs(bar.data)}><title>{escape(bar.label)}: {escape(shown)}</title>'
            f'<text x="{label_width - 8}" y="{y + bar_height * 0.7:.0f}" text-anchor="end" font-size="13">'
            f'{escape(bar.label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{plot}" height="{bar_height}" fill="{GRID}" opacity=".35"/>'
            f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar_height}" rx="3" fill="{BAR_COLOUR}"/>'
            f'<text x="{label_width + length + 6}" y="{y + bar_height * 0.7:.0f}" font-size="13" '
            f'font-weight="600">{escape(shown)}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def stages_chart(by_stage: dict, names: dict[int, str]) -> Markup:
    """Relationships per stage (1-8, then not started), each bar with `data-stage` and `data-count`."""
    bars = [Bar(f"{n} · {names[n]}", by_stage.get(n, 0), data={"stage": n, "count": by_stage.get(n, 0)})
            for n in names]
    bars.append(Bar("Not started", by_stage.get(None, 0), data={"stage": "none", "count": by_stage.get(None, 0)}))
    return bar_chart(bars, title="Relationships by stage", chart_id="chart-stages")


def status_chart(by_status: dict[str, int]) -> Markup:
    bars = [Bar(status.capitalize(), count, data={"status": status, "count": count})
            for status, count in by_status.items()]
    return bar_chart(bars, title="Relationships by status", chart_id="chart-status", label_width=120, width=420)


def durations_chart(rows: list[tuple[str, str, timedelta | None, timedelta | None]], *, title: str,
                    chart_id: str, label_width: int = 230, width: int = 640) -> Markup:
    """Median and worst per row (key, label, median, worst): two bars each, on one scale in hours.
    Each row carries `data-key`, `data-median-hours` and `data-worst-hours`."""
    bar_height, gap, top = 12, 12, 6
    height = top + len(rows) * (2 * bar_height + 2 + gap) + 24
    plot = width - label_width - 90
    hours = [(m.total_seconds() / 3600 if m else 0, w.total_seconds() / 3600 if w else 0) for _k, _l, m, w in rows]
    biggest = max((w for _m, w in hours), default=0) or 1
    summary = "; ".join(f"{label}: median {duration_text(m)}, worst {duration_text(w)}" for _k, label, m, w in rows)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" role="img" '
             f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" '
             f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc">'
             f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
             f'<desc id="{escape(chart_id)}-desc">{escape(summary or "no data")}</desc>']
    for i, ((key, label, median, worst), (m_hours, w_hours)) in enumerate(zip(rows, hours, strict=True)):
        y = top + i * (2 * bar_height + 2 + gap)
        parts.append(
            f'<g class="durations" data-key="{escape(key)}" data-label="{escape(label)}"'
            f'{_attrs({"median-hours": round(m_hours, 2) if median else None})}'
            f'{_attrs({"worst-hours": round(w_hours, 2) if worst else None})}>'
            f'<title>{escape(label)}: median {duration_text(median)}, worst {duration_text(worst)}</title>'
            f'<text x="{label_width - 8}" y="{y + bar_height + 5}" text-anchor="end" font-size="13">'
            f'{escape(label)}</text>')
        for j, (value, amount, colour, name) in enumerate(((median, m_hours, BAR_COLOUR, "median"),
                                                           (worst, w_hours, WORST_COLOUR, "worst"))):
            by = y + j * (bar_height + 2)
            length = round(plot * amount / biggest, 1) if amount > 0 else 0
            parts.append(f'<rect class="{name}" x="{label_width}" y="{by}" width="{length}" height="{bar_height}" '
                         f'rx="2" fill="{colour}"/><text x="{label_width + length + 5}" y="{by + bar_height - 2}" '
                         f'font-size="11">{escape(duration_text(value))}</text>')
        parts.append("</g>")
    legend_y = height - 10
    parts.append(f'<rect x="{label_width}" y="{legend_y - 9}" width="10" height="10" fill="{BAR_COLOUR}"/>'
                 f'<text x="{label_width + 14}" y="{legend_y}" font-size="12">median</text>'
                 f'<rect x="{label_width + 80}" y="{legend_y - 9}" width="10" height="10" fill="{WORST_COLOUR}"/>'
                 f'<text x="{label_width + 94}" y="{legend_y}" font-size="12">worst</text></svg>')
    return Markup("".join(parts))


def issues_chart(by_level: dict[str, int]) -> Markup:
    bars = [Bar(level, count, data={"level": level, "count": count}) for level, count in by_level.items()]
    return bar_chart(bars, title="Open issues by escalation level", chart_id="chart-issues", label_width=130,
                     width=440)


def value_chart(rows: list[tuple[int, str, float]]) -> Markup:
    bars = [Bar(title, value, data={"relationship-id": rid, "realised": _number(value)}) for rid, title, value in rows]
    return bar_chart(bars, title="Value realised by relationship", chart_id="chart-value", label_width=230)


def heat_map(grid: list[list[int]]) -> Markup:
    """The risk heat map of the registers (one drawing for both pages)."""
    return heatmap.svg(grid, title="Risks across all running relationships by likelihood and impact")


def maturity_chart(points) -> Markup:
    """The organisation's maturity trend (one drawing for the dashboard and the Management system page): each
    point carries `data-score` and `data-at`."""
    return management_charts.maturity_chart(points)


def nonconformities_chart(items) -> Markup:
    """Open nonconformities per step they wait at, each bar with `data-step` and `data-count`."""
    counts: dict[str, int] = {}
    for item in items:
        step = item.step or "Waiting"
        counts[step] = counts.get(step, 0) + 1
    bars = [Bar(step, count, data={"step": step, "count": count}) for step, count in counts.items()]
    return bar_chart(bars, title="Open nonconformities by the step they wait at", chart_id="chart-nonconformities",
                     label_width=300, width=620)
