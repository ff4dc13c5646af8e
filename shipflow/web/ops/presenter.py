"""Server-rendered SVG line charts: no front-end framework or third-party script, readable
without JavaScript; each chart has a table of the same numbers beside it (`share_rows`)."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from shipflow.delays.performance import Point, Series

PALETTE = ("#1f4e79", "#d1495b", "#2e8b57", "#f2a900", "#6a4c93", "#00798c", "#8d6e63")
WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 150, 12, 28


def share_chart(title: str, series: Series) -> Markup:
    """On-time share (0-100 %) per week, one line per series, legend on the right."""
    weeks = sorted({p.week for points in series.values() for p in points})
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>'
    ]
    if not weeks:
        parts.append(f'<text x="{LEFT}" y="{HEIGHT // 2}">No deliveries yet</text></svg>')
        return Markup("".join(parts))

    def x(week) -> float:
        step = plot_w / max(len(weeks) - 1, 1)
        return LEFT + weeks.index(week) * step

    def y(share: float) -> float:
        return TOP + (1 - share) * plot_h

    for tick in (0, 0.5, 0.9, 1):
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="#ddd"/><text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" '
            f'font-size="11">{tick:.0%}</text>'
        )
    for week in weeks:
        parts.append(
            f'<text x="{x(week):.1f}" y="{HEIGHT - 8}" text-anchor="middle" font-size="11">'
            f"{week:%d %b}</text>"
        )
    for i, (name, points) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        path = " ".join(f"{x(p.week):.1f},{y(p.share):.1f}" for p in points)
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}">'
            f"<title>{escape(name)}</title></polyline>"
        )
        for p in points:
            parts.append(
                f'<circle cx="{x(p.week):.1f}" cy="{y(p.share):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(name)}, week of {p.week:%d %b}: {p.share:.0%} on time "
                f"({p.on_time}/{p.due})</title></circle>"
            )
        legend_y = TOP + 14 + i * 18
        parts.append(
            f'<rect x="{WIDTH - RIGHT + 12}" y="{legend_y - 9}" width="10" height="10" '
            f'fill="{colour}"/><text x="{WIDTH - RIGHT + 28}" y="{legend_y}" font-size="12">'
            f"{escape(name)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def share_rows(series: Series) -> tuple[list[str], list[tuple[str, list[Point | None]]]]:
    """The chart as a table: the weeks (columns) and each series' point per week (None: no
    promise due that week)."""
    weeks = sorted({p.week for points in series.values() for p in points})
    rows = []
    for name, points in series.items():
        by_week = {p.week: p for p in points}
        rows.append((name, [by_week.get(week) for week in weeks]))
    return [f"{week:%d %b}" for week in weeks], rows
