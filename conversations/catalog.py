"""A set of scripts that run together: the journeys plus the system script."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from conversations.matching import Choice, phrases
from conversations.script import ENTRY_SCRIPT, SYSTEM_SCRIPT, Option, Script, Step, Text


@dataclass(frozen=True)
class Catalog:
    scripts: Mapping[str, Script]
    # Folded words, computed once: folding every option's words on every message was most of the time.
    _command_phrases: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    _synonym_phrases: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    _option_choices: dict[int, Choice] = field(default_factory=dict, compare=False)
    _welsh_markers: list[str] = field(default_factory=list, compare=False)

    def __post_init__(self) -> None:
        system = self.system
        for name, words in system.commands.items():
            self._command_phrases[name] = phrases(*words.values())
        for meaning, words in system.synonyms.items():
            self._synonym_phrases[meaning] = phrases(*words.values())
        self._welsh_markers.extend(phrases(system.welsh_markers))

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
        return self._synonym_phrases.get(meaning, ())

    @property
    def welsh_markers(self) -> tuple[str, ...]:
        return tuple(self._welsh_markers)

    def option_choice(self, option: Option) -> Choice:
        """How to recognise a written option: its labels and other words in both languages, and its synonyms."""
        choice = self._option_choices.get(id(option))
        if choice is None:
            words = [option.label.en, option.label.cy, *option.also.get("en", ()), *option.also.get("cy", ())]
            choice = Choice(phrases(words, self.synonyms(option.means) if option.means else ()))
            self._option_choices[id(option)] = choice
        return choice

    def versions(self) -> dict[str, str]:
        return {name: script.version for name, script in self.scripts.items()}
