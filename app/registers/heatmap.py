"""The risk heat map: likelihood x impact counts drawn as an SVG on the server (prints, needs no JS)."""

from __future__ import annotations

from markupsafe import Markup, escape

CELL, PAD = 56, 34
# green to red by likelihood x impact score (1..25)
_COLOURS = ((4, "#cfe8cf"), (9, "#f7eeb0"), (14, "#f8cf8f"), (25, "#f2a39a"))


def colour(likelihood: int, impact: int) -> str:
    score = likelihood * impact
    return next(c for limit, c in _COLOURS if score <= limit)


def svg(grid: list[list[int]], *, title: str = "Risk heat map", link=None) -> Markup:
    """`grid[row][col]`: row 0 is impact 5, column 0 is likelihood 1 (as `services.heat_map` makes it).
    Each cell carries its count as text and `data-likelihood`/`data-impact`/`data-count` attributes;
    `link(likelihood, impact)` may give each non-empty cell a URL."""
    size = PAD + 5 * CELL + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" role="img" viewBox="0 0 {size} {size + 20}" '
             f'width="{size}" height="{size + 20}" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for row in range(5):
        impact = 5 - row
        parts.append(f'<text x="{PAD - 10}" y="{row * CELL + CELL // 2 + 5}" text-anchor="end" '
                     f'font-size="12">{impact}</text>')
        for col in range(5):
            likelihood, count = col + 1, grid[row][col]
            x, y = PAD + col * CELL, row * CELL
            cell = (f'<g class="cell" data-likelihood="{likelihood}" data-impact="{impact}" data-count="{count}">'
                    f'<rect x="{x}" y="{y}" width="{CELL - 2}" height="{CELL - 2}" rx="4" '
                    f'fill="{colour(likelihood, impact)}"/>'
                    f'<text x="{x + CELL // 2 - 1}" y="{y + CELL // 2 + 6}" text-anchor="middle" font-size="18" '
                    f'font-weight="{"700" if count else "400"}" fill="{"#222" if count else "#999"}">{count}</text>'
                    f'<title>likelihood {likelihood}, impact {impact}: {count} risk{"" if count == 1 else "s"}</title>'
                    f'</g>')
            if link and count:
                cell = f'<a href="{escape(link(likelihood, impact))}">{cell}</a>'
            parts.append(cell)
    for col in range(5):
        parts.append(f'<text x="{PAD + col * CELL + CELL // 2 - 1}" y="{5 * CELL + 14}" text-anchor="middle" '
                     f'font-size="12">{col + 1}</text>')
    parts.append(f'<text x="{PAD + 5 * CELL // 2}" y="{5 * CELL + 32}" text-anchor="middle" font-size="12">'
                 f'Likelihood</text>')
    parts.append(f'<text x="10" y="{5 * CELL // 2}" font-size="12" transform="rotate(-90 10 {5 * CELL // 2})" '
                 f'text-anchor="middle">Impact</text></svg>')
    return Markup("".join(parts))
