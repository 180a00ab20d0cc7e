"""The maturity trend as an SVG line of the scored self-assessments (one point per run of stage 3)."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT, LEFT, TOP, BOTTOM = 560, 200, 40, 16, 34
LABEL_WIDTH = 60  # room a date label ("Sep 2026") needs at font size 11


def maturity_chart(points) -> Markup:
    """Mean maturity level (1-5) per assessment, oldest left; every point carries its figures as data-*."""
    if not points:
        return Markup('<p class="muted" id="maturity-empty">No maturity self-assessment yet: it is scored in the '
                      "organisation's internal assessment (stage 3) and repeated on its cycle.</p>")
    plot_w, plot_h = WIDTH - LEFT - 16, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points) - 1, 1)

    def xy(index, score):
        return LEFT + (index * step if len(points) > 1 else plot_w / 2), TOP + plot_h * (5 - score) / 4

    words = "; ".join(f"{p.at:%d %b %Y}: {p.score:g}" for p in points)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="maturity-chart" role="img" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" style="max-width:{WIDTH}px" '
             f'aria-labelledby="maturity-title maturity-desc"><title id="maturity-title">Collaborative maturity '
             f'(mean level, 1 to 5)</title><desc id="maturity-desc">{escape(words)}</desc>']
    for level in range(1, 6):
        _, y = xy(0, level)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - 16}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d8dee8"/>'
                     f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{level}</text>')
    coords = [xy(i, p.score) for i, p in enumerate(points)]
    if len(coords) > 1:
        parts.append('<polyline fill="none" stroke="#2f6db3" stroke-width="2" points="'
                     + " ".join(f"{x:.1f},{y:.1f}" for x, y in coords) + '"/>')
    every = max(1, round(LABEL_WIDTH / step)) if len(points) > 1 else 1  # date labels never overlap
    last = len(points) - 1
    for i, ((x, y), p) in enumerate(zip(coords, points, strict=True)):
        parts.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#2f6db3" '
                     f'data-score="{p.score:g}" data-at="{p.at:%Y-%m-%d}"><title>{p.at:%d %b %Y}: {p.score:g}'
                     f'</title></circle>')
        if (last - i) % every == 0:  # the newest always labelled; ends anchored inside the chart
            anchor = "end" if i == last and last else "start" if i == 0 and last else "middle"
            parts.append(f'<text class="date" x="{x:.1f}" y="{HEIGHT - 12}" text-anchor="{anchor}" font-size="11">'
                         f'{p.at:%b %Y}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def portfolio_matrix(entries) -> Markup:
    """Value (up) against risk (right): one circle per relationship or opportunity, larger for a better strategic
    fit, numbered by its rank; every circle carries its scores as data-*."""
    if not entries:
        return Markup('<p class="muted" id="portfolio-empty">No portfolio yet: it is listed and scored in the '
                      "management system's set-up (stage 1).</p>")
    size, left, top = 300, 44, 12
    cell = size / 5

    def centre(value, risk):
        return left + (risk - 0.5) * cell, top + (5.5 - value) * cell

    words = "; ".join(f"{e.rank}. {e.name}: value {e.value}, risk {e.risk}, score {e.score:g}" for e in entries)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="portfolio-matrix" role="img" '
             f'viewBox="0 0 {left + size + 16} {top + size + 40}" width="100%" style="max-width:{left + size + 16}px" '
             f'aria-labelledby="portfolio-title portfolio-desc"><title id="portfolio-title">Relationship portfolio: '
             f'value against risk</title><desc id="portfolio-desc">{escape(words)}</desc>',
             f'<rect x="{left}" y="{top}" width="{size / 2}" height="{size / 2}" fill="#e8f4ea"/>'
             f'<rect x="{left + size / 2}" y="{top + size / 2}" width="{size / 2}" height="{size / 2}" fill="#fbeaea"/>']
    for n in range(6):
        parts.append(f'<line x1="{left}" x2="{left + size}" y1="{top + n * cell}" y2="{top + n * cell}" '
                     f'stroke="#d8dee8"/><line y1="{top}" y2="{top + size}" x1="{left + n * cell}" '
                     f'x2="{left + n * cell}" stroke="#d8dee8"/>')
    for n in range(1, 6):
        x, y = centre(n, n)
        parts.append(f'<text x="{left - 8}" y="{y + 4:.0f}" text-anchor="end" font-size="11">{n}</text>'
                     f'<text x="{x:.0f}" y="{top + size + 14}" text-anchor="middle" font-size="11">{n}</text>')
    parts.append(f'<text x="{left + size / 2}" y="{top + size + 32}" text-anchor="middle" font-size="12">risk</text>'
                 f'<text x="12" y="{top + size / 2}" font-size="12" transform="rotate(-90 12 {top + size / 2})" '
                 f'text-anchor="middle">value</text>')
    for e in entries:
        x, y = centre(e.value, e.risk)
        radius = 7 + 2 * e.strategic_fit
        parts.append(f'<g class="entry" data-name="{escape(e.name)}" data-rank="{e.rank}" data-score="{e.score:g}" '
                     f'data-value="{e.value}" data-risk="{e.risk}"><circle cx="{x:.0f}" cy="{y:.0f}" r="{radius}" '
                     f'fill="#2f6db3" fill-opacity=".55"><title>{escape(e.name)}: score {e.score:g}</title></circle>'
                     f'<text x="{x:.0f}" y="{y + 4:.0f}" text-anchor="middle" font-size="11" fill="#fff">{e.rank}'
                     f'</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))
