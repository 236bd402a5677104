"""A set of scripts that run together: the journeys plus the system script."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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
    _later_saves: dict[tuple[str, str], dict[str, frozenset[Any] | None]] = field(default_factory=dict, compare=False)

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

    def later_saves(self, script: str, step: str) -> dict[str, frozenset[Any] | None]:
        """The names later questions save their answers under, each with the values their options offer (None
        for a typed answer): every question the journey can reach from this one (through any option, branch
        or goto), so an answer given early can be used there."""
        key = (script, step)
        if key not in self._later_saves:
            seen: set[tuple[str, str]] = set()
            saves: dict[str, frozenset[Any] | None] = {}
            waiting = list(self._after(script, step))
            while waiting:
                here = waiting.pop()
                found = self.step(*here)
                if here in seen or found is None:
                    continue
                seen.add(here)
                if found.waits_for_input and found.save:
                    offered = None if found.kind == "ask" else frozenset(o.value for o in found.options)
                    before = saves.get(found.save, frozenset())
                    saves[found.save] = None if offered is None or before is None else before | offered
                waiting.extend(self._after(*here))
            self._later_saves[key] = saves
        return self._later_saves[key]

    def _after(self, script: str, step_id: str) -> list[tuple[str, str]]:
        step = self.step(script, step_id)
        if step is None:
            return []
        if step.kind == "goto" and step.target:
            target_script, _, target_step = step.target.partition(".")
            found = self.scripts.get(target_script)
            return [(target_script, target_step or found.start)] if found else []
        targets = [step.next, step.default, *(o.next for o in step.options), *step.cases.values()]
        return [(script, target) for target in targets if target]

    def versions(self) -> dict[str, str]:
        return {name: script.version for name, script in self.scripts.items()}
