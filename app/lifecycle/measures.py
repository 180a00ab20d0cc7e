"""Each agreed performance measure's actual values over time (R.PM, S5.16), as the relationship page charts them:
one point per performance review, its status derived by the rule the review itself uses (workflows.measures), never
read from a typed field."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.measures import HIGHER, measure_status

from ..processes.models import HumanTask, ProcessInstance

MEASURES_TASK = "pr_performance_measures"
COLOURS = {"on_track": "#2e7d32", "at_risk": "#c77700", "off_track": "#c62828", None: "#2f6db3"}


@dataclass(frozen=True)
class Point:
    at: datetime
    actual: float
    status: str | None


@dataclass
class Series:
    objective: str
    measure: str
    target: str
    target_value: float | None
    direction: str
    points: list[Point] = field(default_factory=list)

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None


def series(session: Session, relationship_id: int) -> list[Series]:
    """Every numeric measure the relationship's performance reviews recorded, oldest point first."""
    found: dict[tuple[str, str], Series] = {}
    rows = session.execute(
        select(HumanTask.submitted, HumanTask.completed_at).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(ProcessInstance.root_id == relationship_id, HumanTask.bpmn_id == MEASURES_TASK,
               HumanTask.state == "completed").order_by(HumanTask.completed_at, HumanTask.id))
    for submitted, completed_at in rows:
        for row in (submitted or {}).get("measure_results") or []:
            if not isinstance(row, dict) or not isinstance(row.get("actual_value"), int | float):
                continue
            key = (str(row.get("objective", "")), str(row.get("measure", "")))
            target_value = row.get("target_value") if isinstance(row.get("target_value"), int | float) else None
            direction = row.get("direction") or HIGHER
            entry = found.setdefault(key, Series(key[0], key[1], str(row.get("target", "")), target_value, direction))
            entry.target_value, entry.direction = target_value, direction  # the latest agreement counts
            amber = row.get("amber_percent")
            entry.points.append(Point(completed_at, float(row["actual_value"]), measure_status(
                row["actual_value"], target_value, direction, 10 if amber is None else amber)))
    return list(found.values())


WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 360, 150, 44, 16, 12, 30


def chart(entry: Series, index: int) -> Markup:
    """One measure's actuals as a line (each point coloured by its status) with its target as a dashed line."""
    values = [p.actual for p in entry.points] + ([entry.target_value] if entry.target_value is not None else [])
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.1
    low, high = low - pad, high + pad
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(entry.points) - 1, 1)

    def xy(i, value):
        x = LEFT + (i * step if len(entry.points) > 1 else plot_w / 2)
        return x, TOP + plot_h * (high - value) / (high - low)

    words = "; ".join(f"{p.at:%d %b %Y}: {p.actual:g} ({(p.status or 'no target').replace('_', ' ')})"
                      for p in entry.points)
    ident = f"measure-{index}"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart measure-chart" id="{ident}" role="img" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" style="max-width:{WIDTH}px" data-measure="{escape(entry.measure)}" '
             f'aria-labelledby="{ident}-title {ident}-desc"><title id="{ident}-title">{escape(entry.measure)} '
             f'(target {escape(entry.target)})</title><desc id="{ident}-desc">{escape(words)}</desc>',
             f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="#d8dee8"/>',
             f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" font-size="10">{high:.3g}</text>'
             f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end" font-size="10">{low:.3g}</text>']
    if entry.target_value is not None:
        _, y = xy(0, entry.target_value)
        parts.append(f'<line class="target" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#555" stroke-dasharray="4 3"/><text x="{WIDTH - RIGHT}" y="{y - 3:.1f}" '
                     f'text-anchor="end" font-size="10">target {entry.target_value:g}</text>')
    coords = [xy(i, p.actual) for i, p in enumerate(entry.points)]
    if len(coords) > 1:
        parts.append('<polyline fill="none" stroke="#2f6db3" stroke-width="2" points="'
                     + " ".join(f"{x:.1f},{y:.1f}" for x, y in coords) + '"/>')
    last = len(coords) - 1
    for i, ((x, y), p) in enumerate(zip(coords, entry.points, strict=True)):
        parts.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{COLOURS.get(p.status)}" '
                     f'data-actual="{p.actual:g}" data-status="{p.status or ""}" data-at="{p.at:%Y-%m-%d}">'
                     f'<title>{p.at:%d %b %Y}: {p.actual:g}</title></circle>')
        if i in (0, last):
            anchor = "start" if i == 0 and last else "end" if i == last and last else "middle"
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 10}" text-anchor="{anchor}" font-size="10">'
                         f'{p.at:%b %Y}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
