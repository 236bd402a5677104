"""Read a safeguarding data file (YAML) keeping line numbers, so every problem reads `FILE:LINE: ...`.

Only a safe YAML loader is used: the file is composed into nodes (which carry their line) and plain
scalars are built with PyYAML's SafeConstructor. No tags beyond the standard ones are accepted.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

# LibYAML's safe loader when PyYAML was built with it (much faster on big files), else the pure one.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SourceFile:
    """One data file being read; collects problems as `FILE:LINE: message` lines."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.problems: list[str] = []
        self._constructor = SafeConstructor()

    def problem(self, at: yaml.Node | int, message: str) -> None:
        line = at if isinstance(at, int) else at.start_mark.line + 1
        self.problems.append(f"{self.path}:{line}: {message}")

    def compose(self) -> yaml.Node | None:
        """The document's root node, or None (with a problem recorded) when it cannot be read."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.problem(1, "file not found")
            return None
        except UnicodeDecodeError as error:
            self.problem(1, f"not UTF-8 text ({error.reason})")
            return None
        loader = _SafeLoader(text)
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            self.problem(mark.line + 1 if mark else 1, f"invalid YAML: {error.problem or error.context}")
            return None
        except yaml.YAMLError as error:
            self.problem(1, f"invalid YAML: {error}")
            return None
        finally:
            loader.dispose()
        if node is None:
            self.problem(1, "the file is empty")
        return node

    def mapping(self, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        """A mapping's fields by name, each with its key node and value node; duplicates are problems."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{what} must be a mapping of fields")
            return None
        fields: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                self.problem(key_node, f"{what} has a field name that is not text")
            elif key in fields:
                self.problem(key_node, f'duplicate field "{key}" in {what}')
            else:
                fields[key] = (key_node, value_node)
        return fields

    def unknown_fields(self, fields: dict[str, tuple[yaml.Node, yaml.Node]], known: tuple[str, ...], what: str) -> None:
        for name, (key_node, _) in fields.items():
            if name not in known:
                self.problem(key_node, f'unknown field "{name}" in {what} (expected one of: {", ".join(known)})')

    def scalar(self, node: yaml.Node) -> object:
        """A scalar's value as YAML's safe loader would give it; a non-scalar gives the node itself."""
        if not isinstance(node, yaml.ScalarNode):
            return node
        try:
            return self._constructor.construct_object(node, deep=True)
        except ConstructorError:
            return node

    def text(self, node: yaml.Node, what: str) -> str | None:
        value = self.scalar(node)
        if not isinstance(value, str):
            self.problem(node, f"{what} must be text")
            return None
        return value

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node] | None:
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, f"{what} must be a list")
            return None
        return list(node.value)

    def text_list(self, node: yaml.Node, what: str) -> list[tuple[yaml.Node, str]] | None:
        """A list of non-empty texts, each with its node; None (and a problem) when it is not one."""
        items = self.sequence(node, what)
        if items is None:
            return None
        texts = []
        for item in items:
            value = self.scalar(item)
            if not isinstance(value, str) or not value.strip():
                self.problem(item, f"{what} must be a list of non-empty texts")
                return None
            texts.append((item, value))
        return texts
