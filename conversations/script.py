"""The in-memory form of a conversation script, built from YAML that has passed the schema."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from conversations.yamlsource import Located

Language = Literal["en", "cy"]
LANGUAGES: tuple[Language, ...] = ("en", "cy")
STEP_KINDS = ("say", "choose", "ask", "do", "goto", "branch", "end", "return")
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
SYSTEM_SCRIPT = "system"
ENTRY_SCRIPT = "welcome"

BUILTIN_SCRIPTS_DIR = Path(__file__).parent / "scripts"


@dataclass(frozen=True)
class Text:
    """One message in both languages. Welsh stays marked unreviewed until a fluent speaker checks it."""

    en: str
    cy: str
    cy_reviewed: bool = False
    line: int = 0

    def in_language(self, language: str) -> str:
        return self.cy if language == "cy" else self.en

    def placeholders(self) -> set[str]:
        return set(PLACEHOLDER.findall(self.en)) | set(PLACEHOLDER.findall(self.cy))


@dataclass(frozen=True)
class Option:
    label: Text
    value: Any = None
    also: dict[str, tuple[str, ...]] = field(default_factory=dict)
    means: str | None = None
    set: dict[str, Any] = field(default_factory=dict)
    next: str | None = None
    line: int = 0


@dataclass(frozen=True)
class Step:
    id: str
    kind: str
    line: int
    text: Text | None = None
    next: str | None = None
    options: tuple[Option, ...] = ()
    options_from: str | None = None
    save: str | None = None
    set: dict[str, Any] = field(default_factory=dict)
    answer_type: str | None = None  # for ask: the type; for choose: the or_ask type
    # or_time, on a list of times: where a day or time typed in words ("tuesday evening") goes, kept as time_words
    time_step: str | None = None
    retry: Text | None = None
    effect: str | None = None
    target: str | None = None  # goto: "script" or "script.step"
    variable: str | None = None  # branch
    cases: dict[str, str] = field(default_factory=dict)
    default: str | None = None  # branch "else"

    @property
    def waits_for_input(self) -> bool:
        return self.kind in ("choose", "ask")

    def texts(self) -> list[tuple[str, Text]]:
        """Every text of this step with a short description of where it is."""
        found: list[tuple[str, Text]] = []
        if self.text is not None:
            found.append((self.kind, self.text))
        if self.retry is not None:
            found.append(("retry", self.retry))
        found.extend((f"option {n}", option.label) for n, option in enumerate(self.options, 1))
        return found


@dataclass(frozen=True)
class Script:
    name: str
    start: str
    steps: dict[str, Step]
    version: str
    path: Path | None = None
    description: str = ""
    commands: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    synonyms: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    welsh_markers: tuple[str, ...] = ()
    texts: dict[str, Text] = field(default_factory=dict)


def script_version(source: str) -> str:
    """A short content hash: the same text is the same version, wherever it is loaded."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]


def build_script(located: Located, source: str, path: Path | None = None) -> Script:
    """Turn schema-valid YAML into a Script. Call only after the schema check has passed."""
    data = located.data
    steps = {step_id: _build_step(step_id, raw, located, ("steps", step_id)) for step_id, raw in data["steps"].items()}
    texts = {name: _text(raw, located, ("texts", name)) for name, raw in (data.get("texts") or {}).items()}
    return Script(
        name=data["script"],
        start=data["start"],
        steps=steps,
        version=script_version(source),
        path=path,
        description=data.get("description", ""),
        commands={name: _words(raw) for name, raw in (data.get("commands") or {}).items()},
        synonyms={name: _words(raw) for name, raw in (data.get("synonyms") or {}).items()},
        welsh_markers=tuple(data.get("welsh_markers") or ()),
        texts=texts,
    )


def _text(raw: dict[str, Any], located: Located, path: tuple) -> Text:
    return Text(en=raw["en"], cy=raw["cy"], cy_reviewed=bool(raw.get("cy_reviewed", False)), line=located.line_of(path))


def _words(raw: dict[str, list[str]] | None) -> dict[str, tuple[str, ...]]:
    return {language: tuple(words) for language, words in (raw or {}).items()}


def _build_step(step_id: str, raw: dict[str, Any], located: Located, path: tuple) -> Step:
    kind = next(k for k in STEP_KINDS if k in raw)
    text_raw = raw.get(kind) if kind in ("say", "choose", "ask", "end") else None
    options = tuple(
        Option(
            label=_text(option["label"], located, (*path, "options", n, "label")),
            value=option.get("value"),
            also=_words(option.get("also")),
            means=option.get("means"),
            set=dict(option.get("set") or {}),
            next=option.get("next"),
            line=located.line_of((*path, "options", n)),
        )
        for n, option in enumerate(raw.get("options") or ())
    )
    return Step(
        id=step_id,
        kind=kind,
        line=located.line_of(path),
        text=_text(text_raw, located, (*path, kind)) if text_raw else None,
        next=raw.get("next"),
        options=options,
        options_from=raw.get("options_from"),
        save=raw.get("save"),
        set=dict(raw.get("set") or {}),
        answer_type=raw.get("type") or raw.get("or_ask"),
        time_step=raw.get("or_time"),
        retry=_text(raw["retry"], located, (*path, "retry")) if raw.get("retry") else None,
        effect=raw.get("do"),
        target=raw.get("goto"),
        variable=raw.get("branch"),
        cases={str(k): v for k, v in (raw.get("cases") or {}).items()},
        default=raw.get("else"),
    )
