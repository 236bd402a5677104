"""A set of scripts that run together: the journeys plus the system script."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from conversations.matching import phrases
from conversations.script import ENTRY_SCRIPT, SYSTEM_SCRIPT, Script, Step, Text


@dataclass(frozen=True)
class Catalog:
    scripts: Mapping[str, Script]
    _command_phrases: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        system = self.system
        for name, words in system.commands.items():
            self._command_phrases[name] = phrases(*words.values())

    @property
    def system(self) -> Script:
        return self.scripts[SYSTEM_SCRIPT]

    @property
    def entry(self) -> Script:
        return self.scripts[ENTRY_SCRIPT]

    def step(self, script: str, step: str) -> Step | None:
        found = self.scripts.get(script)
        return found.steps.get(step) if found else None

    def system_text(self, name: str) -> Text:
        return self.system.texts[name]

    def command_for(self, folded: str) -> str | None:
        """The command a whole reply is ("help", "stop", "cymraeg"...), or None."""
        for name, words in self._command_phrases.items():
            if folded in words:
                return name
        return None

    def synonyms(self, meaning: str) -> tuple[str, ...]:
        return phrases(*self.system.synonyms.get(meaning, {}).values())

    def versions(self) -> dict[str, str]:
        return {name: script.version for name, script in self.scripts.items()}
