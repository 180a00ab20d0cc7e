"""The maturity trend as an SVG line of the scored self-assessments (one point per run of stage 3)."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT, LEFT, TOP, BOTTOM = 560, 200, 40, 16, 34


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
    for (x, y), p in zip(coords, points, strict=True):
        parts.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#2f6db3" '
                     f'data-score="{p.score:g}" data-at="{p.at:%Y-%m-%d}"><title>{p.at:%d %b %Y}: {p.score:g}'
                     f'</title></circle><text x="{x:.1f}" y="{HEIGHT - 12}" text-anchor="middle" font-size="11">'
                     f'{p.at:%b %Y}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
