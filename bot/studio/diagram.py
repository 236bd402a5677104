"""A diagram of one script: its steps as boxes in plain words, the ways between them as arrows.

This module says WHAT is drawn (``graph``); WHERE each box and arrow goes is worked out in the browser by
ELK, the Eclipse Layout Kernel's layered (Sugiyama) layout, vendored in webhooks/studio/static/vendor/. A
layout engine that orders layers to cut crossings and routes arrows round boxes is a research-sized problem
that a well-kept library already solves; the studio's hand-written layout drew tangles and 4,000-pixel rows.
Each box links to its line in the YAML editor.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conversations.script import Script, Step
from conversations.vocabulary import EFFECTS

LABEL_CHARS = 28  # an arrow's label: its options' words, cut short
BOX_CHARS = 30  # a box's words wrap at this many characters a line...
BOX_LINES = 3  # ...over at most this many lines
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
    """A step's job in a few plain words (what a box says when the step has no text of its own)."""
    if step.kind == "say":
        return "sends a message"
    if step.kind == "choose":
        return "asks, with options" + (" (and times found)" if step.options_from else "")
    if step.kind == "ask":
        return f"asks for {step.answer_type or 'text'}"
    if step.kind == "do":
        effect = EFFECTS.get(step.effect or "")
        return effect.description if effect else f"records {_words(step.effect or '')}"
    if step.kind == "goto":
        return f"carries on in the {_words((step.target or '').split('.')[0])} conversation"
    if step.kind == "branch":
        return f"goes one way or another by {_words(step.variable or '')}"
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
            by_target.setdefault(target, []).append(f"{_words(step.variable or '')} is {_words(str(value))}")
        if step.default:
            by_target.setdefault(step.default, []).append("otherwise")
        if step.next and step.kind in ("say", "ask", "do", "choose"):
            by_target.setdefault(step.next, [])
        for target, labels in by_target.items():
            if target in script.steps:
                found.append(Edge(step.id, target, _label(labels)))
    return found


def _label(labels: list[str]) -> str:
    if len(labels) > 2:
        return f"{len(labels)} options"
    return " / ".join(_short(label, LABEL_CHARS - 4) for label in labels)


def _short(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def headline(step: Step) -> str:
    """What a box says, in plain words rather than the step's id: the start of what the bot says or asks,
    or what the step does."""
    if step.text is not None and step.text.en.strip():
        verb = {"choose": "Asks", "ask": "Asks", "end": "Ends"}.get(step.kind, "Says")
        return f"{verb}: “{' '.join(step.text.en.split())}”"
    return _sentence(what_it_does(step))


def graph(script: Script, link: Callable[[Step], str]) -> dict[str, Any]:
    """The diagram as plain data for the page to lay out with ELK: boxes (with their words already wrapped)
    and arrows (with their labels). ``link(step)`` is where a click on a box goes."""
    nodes = []
    for step in script.steps.values():
        lines = textwrap.wrap(headline(step), BOX_CHARS, break_long_words=True)
        if len(lines) > BOX_LINES:
            lines = [*lines[: BOX_LINES - 1], _short(" ".join(lines[BOX_LINES - 1 :]), BOX_CHARS)]
        nodes.append(
            {
                "id": step.id,
                "kind": step.kind,
                "lines": lines,
                "start": step.id == script.start,
                "link": link(step),
                "title": f"{step.id}: {what_it_does(step)}",
                "colours": COLOURS.get(step.kind, ("#ffffff", "#333333")),
            }
        )
    arrows = [
        {"id": f"e{n}", "source": edge.source, "target": edge.target, "lines": textwrap.wrap(edge.label, LABEL_CHARS)}
        for n, edge in enumerate(edges(script))
    ]
    return {"name": script.name, "nodes": nodes, "edges": arrows}


def _words(name: str) -> str:
    return name.replace("_", " ").strip()


def _sentence(text: str) -> str:
    text = text.split(";")[0].split(" (")[0].strip()
    return text[:1].upper() + text[1:]
