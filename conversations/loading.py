"""Loading the scripts the bot runs: only a set that passes validation is ever used."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from conversations.catalog import Catalog
from conversations.script import BUILTIN_SCRIPTS_DIR
from conversations.validate import check_paths


class ScriptsInvalid(Exception):
    def __init__(self, problems: Sequence[object]) -> None:
        self.problems = [str(problem) for problem in problems]
        super().__init__("the conversation scripts are not valid:\n" + "\n".join(self.problems))


def load_catalog(directory: Path = BUILTIN_SCRIPTS_DIR) -> Catalog:
    result = check_paths([directory])
    if result.errors:
        raise ScriptsInvalid(result.errors)
    return Catalog(dict(result.scripts))
