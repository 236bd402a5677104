"""Charts drawn on the server as SVG: no script, nothing fetched, the same on a phone, on paper and offline.

Each chart is an ``<svg role="img">`` whose title and description say every number in words, for screen
readers; colours are presentation attributes and classes (the pages' CSP allows no inline style), and the
bars carry their numbers, so a chart printed in black and white still reads. A hidden count (1 to 4) is drawn
as no bar and labelled "<5".
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Drawn for a phone's width (a label on its own line above its bars), so that the text stays at 13 px there
# and a little larger in the wider page's two columns and on A4.
WIDTH = 360
NUMBER_ROOM = 36  # right of the longest bar, for its number
ROW_HEIGHT = 18
BAR_GAP = 3
LABEL_HEIGHT = 18
SERIES_CLASSES = ("bar-1", "bar-2", "bar-3")
HIDDEN = "<5"

_ids = itertools.count(1)


@dataclass(frozen=True)
class Row:
    label: str
    values: Sequence[int | None]  # one per series; None: hidden


def _shown(value: int | None) -> str:
    return HIDDEN if value is None else str(value)


def _describe(series: Sequence[str], rows: Sequence[Row]) -> str:
    if not rows:
        return "Nothing to show for this period."
    parts = []
    for row in rows:
        values = ", ".join(f"{name} {_shown(value)}" for name, value in zip(series, row.values, strict=True))
        parts.append(f"{row.label}: {values}")
    return "; ".join(parts) + "."


def _frame(title: str, description: str, height: int, body: list[str], series: Sequence[str]) -> Markup:
    number = next(_ids)
    legend = []
    if len(series) > 1:
        x = 0
        for name, css in zip(series, SERIES_CLASSES, strict=False):
            legend.append(f'<rect class="{css}" x="{x}" y="4" width="12" height="12"/>')
            legend.append(f'<text x="{x + 16}" y="14">{escape(name)}</text>')
            x += 24 + 8 * len(name)
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" aria-labelledby="chart{number}-title chart{number}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart{number}-title">{escape(title)}</title>'
        f'<desc id="chart{number}-desc">{escape(description)}</desc>' + "".join(legend) + "".join(body) + "</svg>"
    )


def bars(title: str, series: Sequence[str], rows: Sequence[Row]) -> Markup:
    """Horizontal bars: each row's label, then one bar per series, scaled to the largest number."""
    largest = max((value or 0 for row in rows for value in row.values), default=0) or 1
    plot = WIDTH - NUMBER_ROOM
    y = 24 if len(series) > 1 else 0
    body: list[str] = []
    for row in rows:
        body.append(f'<text x="0" y="{y + 13}">{escape(row.label)}</text>')
        y += LABEL_HEIGHT
        for index, value in enumerate(row.values):
            length = round(plot * (value or 0) / largest)
            css = SERIES_CLASSES[index % len(SERIES_CLASSES)]
            body.append(f'<rect class="{css}" x="0" y="{y}" width="{length}" height="{ROW_HEIGHT - BAR_GAP}"/>')
            body.append(f'<text x="{length + 4}" y="{y + ROW_HEIGHT - 6}">{_shown(value)}</text>')
            y += ROW_HEIGHT
        y += 6
    if not rows:
        body.append(f'<text x="0" y="{y + 14}">Nothing to show for this period.</text>')
        y += ROW_HEIGHT
    return _frame(title, _describe(series, rows), y + 4, body, series)


def compliance(title: str, weeks: Sequence[tuple[str, int | None, int | None]]) -> Markup:
    """Columns per week: interviews held, and of those held within 72 hours, with the share in time above."""
    series = ("held", "held within 72 hours")
    height, bottom, left = 200, 164, 0
    largest = max((held or 0 for _, held, _ in weeks), default=0) or 1
    slot = (WIDTH - left) / max(len(weeks), 1)
    column = max(1.0, min(24.0, slot / 2 - 2))
    labelled_every = max(1, -(-len(weeks) // 6))  # at most six dates under the axis
    body = [f'<line class="axis" x1="{left}" y1="{bottom}" x2="{WIDTH}" y2="{bottom}"/>']
    for index, (label, held, within) in enumerate(weeks):
        x = left + index * slot + 1
        for offset, value, css in ((0, held, "bar-1"), (column + 1, within, "bar-2")):
            tall = round((bottom - 52) * (value or 0) / largest)
            body.append(f'<rect class="{css}" x="{x + offset:.1f}" y="{bottom - tall}" width="{column:.1f}" '
                        f'height="{tall}"/>')  # fmt: skip
            if len(weeks) <= 12:
                body.append(f'<text x="{x + offset:.1f}" y="{bottom - tall - 3}">{_shown(value)}</text>')
        if held and within is not None and len(weeks) <= 12:
            body.append(f'<text class="share" x="{x:.1f}" y="40">{round(100 * within / held)}%</text>')
        if index % labelled_every == 0:
            body.append(f'<text x="{x:.1f}" y="{bottom + 16}">{escape(label)}</text>')
    description = _describe(series, [Row(f"week of {label}", (held, within)) for label, held, within in weeks])
    return _frame(title, description, height, body, series)
