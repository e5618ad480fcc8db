"""Bar charts as inline SVG markup, drawn on the server: no JavaScript, no chart library.

Every value is escaped; the charts carry a <title> and aria-label so they read without sight.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH = 640
ROW = 22
LABEL = 200


def ranked_bars(rows: Sequence[tuple[str, int]], title: str) -> Markup:
    """Horizontal bars, largest first: one row per (label, count)."""
    top = max((n for _, n in rows), default=0) or 1
    height = ROW * max(len(rows), 1) + 8
    parts = [_open(title, height)]
    for i, (label, count) in enumerate(rows):
        y = 4 + i * ROW
        length = round((WIDTH - LABEL - 60) * count / top)
        parts.append(
            f'<text x="{LABEL - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="bar" x="{LABEL}" y="{y + 3}" width="{max(length, 1)}" '
            f'height="{ROW - 6}">'
            f"<title>{escape(label)}: {count}</title></rect>"
            f'<text x="{LABEL + length + 6}" y="{y + 15}">{count}</text>'
        )
    if not rows:
        parts.append('<text x="8" y="18">no data</text>')
    return Markup("".join(parts) + "</svg>")  # noqa: S704 - every value above is escaped


def bars_over_time(rows: Sequence[tuple[str, int]], title: str) -> Markup:
    """Vertical bars, one per period in order, the first and last period labelled."""
    height, base = 180, 150
    top = max((n for _, n in rows), default=0) or 1
    step = (WIDTH - 40) / max(len(rows), 1)
    parts = [_open(title, height)]
    for i, (period, count) in enumerate(rows):
        tall = round((base - 10) * count / top)
        x = 20 + i * step
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{base - tall}" width="{max(step - 2, 1):.1f}" '
            f'height="{tall}"><title>{escape(period)}: {count}</title></rect>'
        )
    if rows:
        parts.append(f'<text x="20" y="{base + 18}">{escape(rows[0][0])}</text>')
        parts.append(
            f'<text x="{WIDTH - 20}" y="{base + 18}" text-anchor="end">{escape(rows[-1][0])}</text>'
        )
    else:
        parts.append('<text x="8" y="18">no data</text>')
    parts.append(f'<line x1="16" y1="{base}" x2="{WIDTH - 16}" y2="{base}" class="axis"/>')
    return Markup("".join(parts) + "</svg>")  # noqa: S704 - every value above is escaped


def _open(title: str, height: int) -> str:
    name = escape(title)
    return (
        f'<svg class="chart" role="img" aria-label="{name}" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{name}</title>"
    )
