"""A diagram of one script: its steps as boxes, the ways between them as arrows, drawn as SVG on the server.

Steps are laid out in rows by how many answers away from the start they are; an arrow going back up
(a step that asks again) curves round the right-hand side. Each box links to its line in the YAML editor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from conversations.script import ENTRY_SCRIPT, SYSTEM_SCRIPT, Script, Step
from conversations.vocabulary import EFFECTS, MENU_STEP, SYSTEM_STEPS

BOX_WIDTH = 200
BOX_HEIGHT = 58
COLUMN = BOX_WIDTH + 40
ROW = BOX_HEIGHT + 70
MARGIN = 24
LABEL_CHARS = 22
# How each kind of step looks, as (fill, border): calm colours that print well.
COLOURS = {
    "say": ("#eef4fb", "#4a78a8"),
    "choose": ("#fff6e0", "#b07d12"),
    "ask": ("#fff6e0", "#b07d12"),
    "do": ("#eef7ee", "#3d7d3d"),
    "branch": ("#f4eefa", "#70529a"),
    "goto": ("#f2f2f2", "#666666"),
    "end": ("#fbeeee", "#9a4a4a"),
    "return": ("#f2f2f2", "#666666"),
}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str


def what_it_does(step: Step) -> str:
    """A step's job in a few plain words."""
    if step.kind == "say":
        return "sends a message"
    if step.kind == "choose":
        return "asks, with options" + (" (and times found)" if step.options_from else "")
    if step.kind == "ask":
        return f"asks for {step.answer_type or 'text'}"
    if step.kind == "do":
        effect = EFFECTS.get(step.effect or "")
        return f"records: {step.effect}" if effect is None else f"does: {step.effect}"
    if step.kind == "goto":
        return f"carries on in {step.target}"
    if step.kind == "branch":
        return f"goes by {step.variable}"
    if step.kind == "return":
        return "goes back to where they were"
    return "ends the conversation"


def edges(script: Script) -> list[Edge]:
    """The arrows between steps of this script; several options to the same step make one arrow."""
    found: list[Edge] = []
    for step in script.steps.values():
        by_target: dict[str, list[str]] = {}
        for option in step.options:
            target = option.next or step.next
            if target:
                by_target.setdefault(target, []).append(option.label.en)
        if step.options_from and step.next:
            by_target.setdefault(step.next, []).insert(0, f"one of the {step.options_from}")
        for value, target in step.cases.items():
            by_target.setdefault(target, []).append(f"{step.variable} is {value}")
        if step.default:
            by_target.setdefault(step.default, []).append("otherwise")
        if step.next and step.kind in ("say", "ask", "do", "choose"):
            by_target.setdefault(step.next, [])
        for target, labels in by_target.items():
            if target in script.steps:
                found.append(Edge(step.id, target, _label(labels)))
    return found


def _bezier(t: float, *points: tuple[float, float]) -> tuple[float, float]:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points
    weights = ((1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3)
    return (
        sum(w * x for w, x in zip(weights, (x0, x1, x2, x3), strict=True)),
        sum(w * y for w, y in zip(weights, (y0, y1, y2, y3), strict=True)),
    )


def _label(labels: list[str]) -> str:
    if len(labels) > 2:
        return f"{len(labels)} options"
    return " / ".join(_short(label, LABEL_CHARS) for label in labels)


def _short(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def layout(script: Script) -> dict[str, tuple[int, int]]:
    """(row, column) of every step: rows by distance from the start, unreached steps in the last row."""
    following: dict[str, list[str]] = {step_id: [] for step_id in script.steps}
    for edge in edges(script):
        following[edge.source].append(edge.target)
    roots = [script.start]
    if script.name == ENTRY_SCRIPT and MENU_STEP in script.steps:
        roots.append(MENU_STEP)
    if script.name == SYSTEM_SCRIPT:
        roots.extend(step for step in SYSTEM_STEPS if step in script.steps)
    row_of: dict[str, int] = {}
    frontier = [root for root in dict.fromkeys(roots) if root in script.steps]
    row = 0
    while frontier:
        for step_id in frontier:
            row_of.setdefault(step_id, row)
        next_frontier = [t for s in frontier for t in following[s] if t not in row_of]
        frontier = list(dict.fromkeys(next_frontier))
        row += 1
    for step_id in script.steps:
        row_of.setdefault(step_id, row)
    place: dict[str, tuple[int, int]] = {}
    used: dict[int, int] = {}
    for step_id in sorted(script.steps, key=lambda s: (row_of[s], list(row_of).index(s))):
        place[step_id] = (row_of[step_id], used.get(row_of[step_id], 0))
        used[row_of[step_id]] = used.get(row_of[step_id], 0) + 1
    return place


def render_svg(script: Script, link: Callable[[Step], str]) -> str:
    """The diagram as an SVG element; ``link(step)`` is where a click on a step goes."""
    place = layout(script)
    rows = max((r for r, _ in place.values()), default=0) + 1
    columns = max((c for _, c in place.values()), default=0) + 1
    width = MARGIN * 2 + columns * COLUMN + 80
    height = MARGIN * 2 + rows * ROW

    def box(step_id: str) -> tuple[int, int]:
        row, column = place[step_id]
        return MARGIN + column * COLUMN, MARGIN + row * ROW

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="diagram-title">',
        f'<title id="diagram-title">Diagram of the script "{escape(script.name)}"</title>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
    ]
    labels: list[str] = []
    for n, edge in enumerate(edges(script)):
        (sx, sy), (tx, ty) = box(edge.source), box(edge.target)
        source_row, target_row = place[edge.source][0], place[edge.target][0]
        if target_row > source_row:  # down: from the bottom of one box to the top of the other
            start = (sx + BOX_WIDTH / 2, sy + BOX_HEIGHT)
            end = (tx + BOX_WIDTH / 2, ty)
            bend = (end[1] - start[1]) / 2
            control = ((start[0], start[1] + bend), (end[0], end[1] - bend))
            at = 0.65  # labels nearer the step they lead to, so a fan of options stays readable
        elif target_row == source_row and edge.source != edge.target:  # across: dip under the row
            start = (sx + BOX_WIDTH / 2 + 20, sy + BOX_HEIGHT)
            end = (tx + BOX_WIDTH / 2 - 20, ty + BOX_HEIGHT)
            control = ((start[0], start[1] + 45), (end[0], end[1] + 45))
            at = 0.5
        else:  # back up (a step that asks again): round the right-hand side
            start = (sx + BOX_WIDTH, sy + BOX_HEIGHT / 2)
            end = (tx + BOX_WIDTH, ty + BOX_HEIGHT / 2 + (8 if edge.source == edge.target else 0))
            reach = 50 + 12 * (n % 4)
            control = ((start[0] + reach, start[1]), (end[0] + reach, end[1]))
            at = 0.12  # beside the step it leaves, clear of the boxes it passes
        parts.append(
            f'<path d="M {start[0]:.0f} {start[1]:.0f} C {control[0][0]:.0f} {control[0][1]:.0f}, '
            f'{control[1][0]:.0f} {control[1][1]:.0f}, {end[0]:.0f} {end[1]:.0f}" fill="none" stroke="#555" '
            f'stroke-width="1.4" marker-end="url(#arrow)"/>'
        )
        if edge.label:
            mid_x, mid_y = _bezier(at, start, *control, end)
            label_width = 7 * len(edge.label) + 8
            labels.append(
                f'<rect x="{mid_x - label_width / 2:.0f}" y="{mid_y - 9:.0f}" width="{label_width}" height="16" '
                f'rx="3" fill="#ffffff" fill-opacity="0.92"/>'
                f'<text x="{mid_x:.0f}" y="{mid_y + 3:.0f}" text-anchor="middle" font-size="11" '
                f'fill="#333">{escape(edge.label)}</text>'
            )
    for step_id, step in script.steps.items():
        x, y = box(step_id)
        fill, border = COLOURS.get(step.kind, ("#ffffff", "#333333"))
        text = _short(step.text.en, 30) if step.text else ""
        start_mark = " (start)" if step_id == script.start else ""
        parts.append(
            f'<a href="{escape(link(step))}" class="step"><title>{escape(step_id)}: {escape(what_it_does(step))}'
            f"{escape(': ' + step.text.en if step.text else '')}</title>"
            f'<rect x="{x}" y="{y}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="8" fill="{fill}" '
            f'stroke="{border}" stroke-width="{2.5 if start_mark else 1.5}"/>'
            f'<text x="{x + 10}" y="{y + 18}" font-size="13" font-weight="bold" fill="#222">'
            f"{escape(_short(step_id, 24))}{start_mark}</text>"
            f'<text x="{x + 10}" y="{y + 34}" font-size="11" fill="#444">'
            f"{escape(_short(what_it_does(step), 30))}</text>"
            f'<text x="{x + 10}" y="{y + 49}" font-size="11" fill="#666">{escape(text)}</text></a>'
        )
    parts.extend(labels)
    parts.append("</svg>")
    return "".join(parts)
