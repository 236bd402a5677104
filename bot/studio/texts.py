"""The "texts" view of a script: every message and option label, English and Welsh side by side.

Changes made in the table are written back into the YAML text itself, touching only the values that
changed, so the coordinator's comments, order and layout stay as they were. Also: how complete each
language is, and how long each message is by SMS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import yaml

from conversations import sms
from conversations.script import LANGUAGES, Script
from conversations.validate import _as_sent, _messages, _texts_of


class TextsUnavailable(Exception):
    """The file cannot be read as a script yet (broken YAML): fix it in the YAML editor first."""


@dataclass(frozen=True)
class TextField:
    key: str  # stable id for a form field: "steps.age.choose", "steps.age.options.1.label", "texts.stopped"
    where: str  # for people: 'Step "age": the message'
    message: str  # key of the message this text is sent in (a label is sent with its question)
    role: str  # "message", "option" or "retry"
    en: str
    cy: str
    reviewed: bool
    line: int
    numbered: bool = False  # an option label: shown as "1. label" under its question on SMS


@dataclass(frozen=True)
class _Located:
    field: TextField
    mapping: yaml.MappingNode
    nodes: dict[str, tuple[yaml.ScalarNode, yaml.ScalarNode]]  # "en", "cy", "cy_reviewed" -> (key, value)


def text_fields(source: str) -> list[TextField]:
    """Every text of a script file, in the order they appear."""
    return [located.field for located in _locate(source)]


def apply_text_edits(source: str, edits: Mapping[str, tuple[str, str, bool]]) -> str:
    """The file with the given texts changed: ``edits`` maps a field key to (English, Welsh, reviewed)."""
    changes: list[tuple[int, int, str]] = []  # (start, end, replacement), applied from the end backwards
    for located in _locate(source):
        if located.field.key not in edits:
            continue
        en, cy, reviewed = edits[located.field.key]
        for language, value in (("en", en), ("cy", cy)):
            key_node, value_node = located.nodes[language]
            if value != getattr(located.field, language):
                changes.append(_replace_scalar(source, located.mapping, key_node, value_node, value))
        if reviewed != located.field.reviewed:
            changes.append(_set_reviewed(source, located, reviewed))
    for start, end, replacement in sorted(changes, reverse=True):
        source = source[:start] + replacement + source[end:]
    return source


@dataclass(frozen=True)
class TextChanges:
    """What a save really changed, text by text: found by reading the file before and after, not the form."""

    english: int  # texts whose English changed
    welsh: int  # texts whose Welsh changed
    texts: int  # texts changed in either language
    checked: int  # Welsh texts newly marked as checked by a fluent speaker

    def describe(self) -> str:
        """For the person saving and the change log: "3 texts changed (2 in English, 2 in Welsh)"."""
        parts = []
        if self.texts:
            languages = [
                f"{count} in {language}"
                for count, language in ((self.english, "English"), (self.welsh, "Welsh"))
                if count
            ]
            parts.append(f"{_count(self.texts, 'text')} changed ({', '.join(languages)})")
        if self.checked:
            parts.append(f"{_count(self.checked, 'Welsh text')} marked as checked")
        return "; ".join(parts) or "nothing changed"


def text_changes(before: str, after: str) -> TextChanges:
    """How the texts of ``after`` differ from those of ``before`` (the same script file, saved)."""
    old = {field.key: field for field in text_fields(before)}
    new = {field.key: field for field in text_fields(after)}
    common = [key for key in new if key in old]
    english = {key for key in common if new[key].en != old[key].en}
    welsh = {key for key in common if new[key].cy != old[key].cy}
    checked = sum(new[key].reviewed and not old[key].reviewed for key in common)
    return TextChanges(len(english), len(welsh), len(english | welsh), checked)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _locate(source: str) -> list[_Located]:
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise TextsUnavailable(str(exc)) from None
    found: list[_Located] = []
    if not isinstance(root, yaml.MappingNode):
        return found
    top = _mapping(root)
    steps = top.get("steps")
    if isinstance(steps, yaml.MappingNode):
        for step_key, step in steps.value:
            if isinstance(step, yaml.MappingNode):
                found.extend(_step_texts(str(step_key.value), step))
    texts = top.get("texts")
    if isinstance(texts, yaml.MappingNode):
        for name_node, text in texts.value:
            name = str(name_node.value)
            located = _text(f"texts.{name}", f'Text "{name}"', f"texts.{name}", "message", text)
            if located:
                found.append(located)
    return found


def _step_texts(step_id: str, step: yaml.MappingNode) -> Iterator[_Located]:
    fields = _mapping(step)
    base = f"steps.{step_id}"
    for kind in ("say", "choose", "ask", "end"):
        if kind in fields:
            where = f'Step "{step_id}": the question' if kind in ("choose", "ask") else f'Step "{step_id}": the message'
            located = _text(f"{base}.{kind}", where, f"{base}.{kind}", "message", fields[kind])
            if located:
                yield located
            message = f"{base}.{kind}"
            break
    else:
        message = base
    if "retry" in fields:
        where = f'Step "{step_id}": said when the answer is not understood'
        located = _text(f"{base}.retry", where, f"{base}.retry", "retry", fields["retry"])
        if located:
            yield located
    options = fields.get("options")
    if isinstance(options, yaml.SequenceNode):
        for n, option in enumerate(options.value):
            label = _mapping(option).get("label") if isinstance(option, yaml.MappingNode) else None
            where = f'Step "{step_id}": option {n + 1}'
            located = _text(f"{base}.options.{n}.label", where, message, "option", label, numbered=True)
            if located:
                yield located


def _text(
    key: str, where: str, message: str, role: str, node: yaml.Node | None, *, numbered: bool = False
) -> _Located | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    nodes = {str(k.value): (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    if not all(language in nodes and isinstance(nodes[language][1], yaml.ScalarNode) for language in LANGUAGES):
        return None
    reviewed_node = nodes.get("cy_reviewed", (None, None))[1]
    reviewed = isinstance(reviewed_node, yaml.ScalarNode) and reviewed_node.value in ("true", "True", "TRUE")
    field = TextField(
        key=key,
        where=where,
        message=message,
        role=role,
        en=_value(nodes["en"][1]),
        cy=_value(nodes["cy"][1]),
        reviewed=reviewed,
        line=node.start_mark.line + 1,
        numbered=numbered,
    )
    return _Located(field, node, nodes)


def _mapping(node: yaml.MappingNode) -> dict[str, yaml.Node]:
    return {str(key.value): value for key, value in node.value if isinstance(key, yaml.ScalarNode)}


def _value(node: yaml.ScalarNode) -> str:
    return str(node.value)  # the text after YAML's quoting and escapes are undone


# --- writing values back -----------------------------------------------------------------------------


def _replace_scalar(
    source: str, mapping: yaml.MappingNode, key: yaml.ScalarNode, node: yaml.ScalarNode, value: str
) -> tuple[int, int, str]:
    start = node.start_mark.index
    end = node.end_mark.index
    if node.style in ("|", ">"):  # a block scalar runs on over blank lines after it: keep those
        end = start + len(source[start:end].rstrip())
    return start, end, _scalar(value, flow=bool(mapping.flow_style), indent=key.start_mark.column + 2)


def _scalar(value: str, *, flow: bool, indent: int) -> str:
    """``value`` written as YAML: plain when that reads back the same, a literal block for several lines
    outside { }, else double-quoted (JSON's escapes are YAML's too)."""
    if "\n" not in value and value == value.strip() and value:
        wrapped = "{k: " + value + "}" if flow else "k: " + value
        try:
            if yaml.safe_load(wrapped) == {"k": value}:
                return value
        except yaml.YAMLError:
            pass
    lines = value.split("\n")
    if not flow and len(lines) > 1 and not value.startswith((" ", "\t")) and not value.endswith("\n"):
        return "|-" + "".join("\n" + (" " * indent + line if line else "") for line in lines)
    return json.dumps(value, ensure_ascii=False)


def _set_reviewed(source: str, located: _Located, reviewed: bool) -> tuple[int, int, str]:
    word = "true" if reviewed else "false"
    if "cy_reviewed" in located.nodes:
        node = located.nodes["cy_reviewed"][1]
        return node.start_mark.index, node.end_mark.index, word
    mapping = located.mapping
    if mapping.flow_style:
        close = mapping.end_mark.index - 1  # the "}"
        return close, close, f", cy_reviewed: {word}"
    last = mapping.value[-1][1]
    end = last.start_mark.index + len(source[last.start_mark.index : last.end_mark.index].rstrip())
    column = mapping.value[0][0].start_mark.column
    return end, end, "\n" + " " * column + f"cy_reviewed: {word}"


# --- completeness and length ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScriptStats:
    texts: int
    translated: dict[str, int]  # language -> per cent of texts written in it
    reviewed: int  # per cent of texts whose Welsh a fluent speaker checked
    longest_sms: dict[str, int]  # language -> SMS parts of the longest message
    longest_where: dict[str, str]


def script_stats(script: Script) -> ScriptStats:
    texts = [text for _, _, text in _texts_of(script)]
    total = len(texts)

    def per_cent(count: int) -> int:
        return round(100 * count / total) if total else 100

    translated = {
        language: per_cent(sum(bool(text.in_language(language).strip()) for text in texts)) for language in LANGUAGES
    }
    reviewed = per_cent(sum(text.cy_reviewed and bool(text.cy.strip()) for text in texts))
    longest: dict[str, int] = {}
    where: dict[str, str] = {}
    for message in _messages(script):
        for language in LANGUAGES:
            parts = sms.count(_as_sent(message.body(language))).parts
            if parts > longest.get(language, 0):
                longest[language], where[language] = parts, message.where
    return ScriptStats(total, translated, reviewed, longest, where)
