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
    """The scripts in ``directory``; any journey it does not have comes from the built-in scripts."""
    result = check_paths([directory])
    if result.errors:
        raise ScriptsInvalid(result.errors)
    scripts = dict(result.scripts)
    if Path(directory).resolve() != BUILTIN_SCRIPTS_DIR.resolve():
        builtin = check_paths([BUILTIN_SCRIPTS_DIR])
        scripts = {**builtin.scripts, **scripts}
    return Catalog(scripts)
