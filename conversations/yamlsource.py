"""Safe YAML loading that remembers where every value came from.

Coordinators read errors as ``FILE:LINE: what is wrong``, so every value we load keeps the line it
started on, addressed by its path from the document root (the same paths jsonschema reports).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]

MAX_SCRIPT_BYTES = 256 * 1024  # a script is a conversation, not a database; bigger is a mistake


@dataclass
class SourceError(Exception):
    line: int
    message: str


@dataclass
class Located:
    """A loaded YAML document plus the line of each value, keyed by its path."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int:
        """The line of the value at ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


def load_located(text: str) -> Located:
    """Parse ``text`` with the safe loader; raise SourceError(line, message) on bad YAML."""
    if len(text.encode("utf-8")) > MAX_SCRIPT_BYTES:
        raise SourceError(1, f"file is larger than {MAX_SCRIPT_BYTES // 1024} KiB; split it into smaller scripts")
    try:
        loader = _ScriptLoader(text)
    except yaml.reader.ReaderError as exc:  # a control character, found before parsing starts
        line = text[: exc.position].count("\n") + 1
        message = f"this line has a character that is not allowed (U+{exc.character:04X}); delete it"
        raise SourceError(line, message) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return Located(None, {(): 1})
        located = Located(None)
        located.data = _construct(loader, node, (), located.lines)
        return located
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise SourceError(line, f"this is not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise SourceError(1, f"this is not valid YAML: {exc}") from None
    finally:
        loader.dispose()


class _ScriptLoader(yaml.SafeLoader):
    """The safe loader, but only true/false are booleans (as in YAML 1.2).

    YAML 1.1 reads yes/no/on/off as booleans, so `means: yes`, `synonyms: {yes: ...}` and
    `cases: {no: ...}` would silently turn into True/False instead of the words the coordinator wrote.
    """


_ScriptLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ScriptLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct(loader: yaml.SafeLoader, node: yaml.Node, path: Path, lines: dict[Path, int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, bool)) or isinstance(key, bool):
                key = str(key)
            if key in result:
                raise SourceError(key_node.start_mark.line + 1, f'"{key}" appears twice here; keep one')
            result[key] = _construct(loader, value_node, (*path, key), lines)
            # The line of the key, not of its value: a block mapping's value starts on the next line.
            lines[(*path, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, item, (*path, index), lines) for index, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
