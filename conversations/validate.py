"""Check conversation scripts and tell a coordinator exactly what is wrong, as ``FILE:LINE: message``.

Each file goes through three gates in order: it must be YAML, it must fit the schema
(``script.schema.json``), and then it must make sense: steps that lead somewhere, texts in both languages,
placeholders that something fills in, messages that are kind to a phone's lock screen and to SMS costs.
The meaning is only checked once the schema passes, so a coordinator fixes the shape first.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

from jsonschema import Draft202012Validator, ValidationError

from conversations import sms
from conversations.script import (
    BUILTIN_SCRIPTS_DIR,
    ENTRY_SCRIPT,
    LANGUAGES,
    PLACEHOLDER,
    STEP_KINDS,
    SYSTEM_SCRIPT,
    Option,
    Script,
    Step,
    Text,
    build_script,
)
from conversations.vocabulary import (
    ANSWER_TYPES,
    COMMANDS,
    EFFECTS,
    RUNTIME_VARIABLES,
    SYSTEM_STEPS,
    SYSTEM_TEXTS,
)
from conversations.yamlsource import Located, SourceError, load_located

Level = Literal["error", "warning"]

SCHEMA_PATH = Path(__file__).parent / "script.schema.json"

# A message longer than this many SMS parts gets a warning: each part costs money and patience.
MAX_SMS_SEGMENTS = 2
# A placeholder's value is unknown until the conversation runs; count it as this many characters.
PLACEHOLDER_NOMINAL_LENGTH = 20

# Words that must not be in the first line of a message: that line shows on a locked, maybe shared, phone.
PREVIEW_ALARM_WORDS: dict[str, tuple[str, ...]] = {
    "en": (
        "missing", "police", "abuse", "abused", "rape", "suicide", "kill", "die", "exploitation",
        "runaway", "ran away", "danger", "crime",
    ),
    "cy": ("ar goll", "heddlu", "cam-drin", "hunanladdiad", "lladd", "marw", "camfanteisio", "perygl"),
}  # fmt: skip

# Words a phone carrier (or Twilio, in front of it) treats as "unsubscribe me" when a text is only that word:
# Twilio's default opt-out keywords. A young person who types one because an option or a text invited it is
# unsubscribed, and the bot never hears what they meant ("Cancel it" in the change menu: the booking stayed).
# The Welsh forms are not on Twilio's default list, nor, as far as we know, any UK network's; they are here
# because Twilio's Advanced Opt-Out lets a service add keywords in its own languages, a Welsh service is the
# one to add these, and a warning costs little. Welsh words change their first letter after some words
# (canslo: ei chanslo, i ganslo; diwedd: y diwedd, ei ddiwedd), so those forms are listed as well.
CARRIER_OPT_OUT_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("stop", "stopall", "unsubscribe", "cancel", "end", "quit"),
    "cy": ("stopio", "canslo", "ganslo", "chanslo", "nghanslo", "diwedd", "ddiwedd", "niwedd"),
}
# STOP is what every first message tells people to send to stop: suggesting it means exactly what carriers do.
SUGGESTED_TO_STOP = frozenset({"stop", "stopio"})
# A reply a text suggests is written in capitals, like "message CHANGE" or "anfona NEWID".
_SUGGESTED_REPLY = re.compile(r"(?<![\w'])[A-ZÂÊÎÔÛŴŶ]{2,}(?:[ '][A-ZÂÊÎÔÛŴŶ]{2,})*(?![\w'])")

# English left inside a Welsh text ("Helo, the Return Home service sydd yma"). The rule is kept simple enough to
# explain: a Welsh text warns when it has the service's English name, or one of these common English words, which
# are not Welsh words. Not counted: words in capitals (a reply the text suggests, such as ENGLISH or HELP), the
# {placeholders}, and a line that names English (the offer of the chat in English, which must stay English).
# Its limits: English made only of other words ("Sent!", a helpline's English name) is not seen, and a name such
# as "The Hub" in a Welsh text warns (say it in Welsh, or ignore the warning).
ENGLISH_SERVICE_NAME = "return home"
ENGLISH_ONLY_WORDS = frozenset(
    {"the", "and", "you", "your", "you're", "we", "we'll", "this", "that", "with", "please", "will", "what", "when",
     "where", "have", "are", "our", "chat", "thanks"}
)  # fmt: skip
_WORD = re.compile(r"[A-Za-zÀ-ÿŴŵŶŷ']+")

LANGUAGE_NAMES = {"en": "English (en)", "cy": "Welsh (cy)"}

# Keys each kind of step uses besides its own; any other key would be ignored by the bot.
STEP_KEYS: dict[str, frozenset[str]] = {
    "say": frozenset({"next", "set"}),
    "choose": frozenset({"options", "options_from", "save", "or_ask", "or_time", "next", "retry", "set"}),
    "ask": frozenset({"type", "save", "next", "retry", "set"}),
    "do": frozenset({"next", "set"}),
    "goto": frozenset({"set"}),
    "branch": frozenset({"cases", "else", "set"}),
    "end": frozenset({"set"}),
    "return": frozenset({"set"}),
}
FINISHING_KINDS = frozenset({"end", "goto", "return"})
SYSTEM_ONLY_KEYS = ("commands", "synonyms", "welsh_markers", "texts")

_SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
_DEFS = _SCHEMA["$defs"]
_VALIDATOR = Draft202012Validator(_SCHEMA)
_NAME_RULE = "small letters, digits and _, starting with a letter"
_TEXT_KEYS = {"say": "text", "choose": "text", "ask": "text", "end": "text", "retry": "retry text", "label": "label"}
_MALFORMED_PLACEHOLDER = re.compile(r"\{[^{}\n]{0,40}\}")
# What the YAML parser's words usually mean for someone writing a script.
_YAML_HINTS = {
    "mapping values are not allowed here": 'if a text has a colon (:) in it, put the whole text in "quotes"',
    "found character '\\t' that cannot start any token": "indent with spaces, not tabs",
    "could not find expected ':'": "a key needs a colon after it (next: bye)",
    "did not find expected key": "check this line lines up with the keys above it",
    "expected <block end>, but found": "check this line lines up with the keys above it",
    "found unexpected end of stream": "a quote was opened and never closed",
    "expected ',' or '}', but got '?'": 'inside { }, a text with a question mark needs quotes: {en: "Ready?", ...}',
    "expected ',' or ']', but got '?'": 'inside [ ], a word with a question mark needs quotes: [ok, "eh?"]',
    "expected ',' or ']'": "a [ was opened and never closed, or a word has a comma or colon that needs quotes",
    "expected ',' or '}'": "a { was opened and never closed, or a text has a colon or comma that needs quotes",
}


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int  # 0 when the problem is about a whole file or folder
    message: str
    level: Level = "error"

    def __str__(self) -> str:
        where = f"{_shown(self.file)}:{self.line}" if self.line else _shown(self.file)
        return f"{where}: warning: {self.message}" if self.level == "warning" else f"{where}: {self.message}"


@dataclass
class ValidationResult:
    problems: list[Problem]
    scripts: dict[str, Script]  # every checked script that passed the schema, by name

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.level == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


def check_paths(paths: Sequence[Path], *, builtin_dir: Path | None = BUILTIN_SCRIPTS_DIR) -> ValidationResult:
    """Check script files, and folders of ``*.yaml`` scripts.

    References to scripts not given are resolved against ``builtin_dir``, so one edited file can be checked
    on its own. When ``builtin_dir`` itself is given, it must hold the welcome and system scripts.
    """
    problems: list[Problem] = []
    sources: dict[Path, str] = {}
    unreadable: set[str] = set()
    complete_folders: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files = sorted(path.glob("*.yaml"))
            if not files:
                problems.append(Problem(path, 0, "there are no .yaml scripts in this folder"))
            if builtin_dir is not None and path.resolve() == builtin_dir.resolve():
                complete_folders.append(path)
        elif path.is_file():
            files = [path]
        else:
            problems.append(Problem(path, 0, "there is no such file or folder"))
            continue
        for file in files:
            if any(file.resolve() == seen.resolve() for seen in sources):
                continue
            try:
                sources[file] = file.read_bytes().decode("utf-8")
            except UnicodeDecodeError as exc:
                line = file.read_bytes()[: exc.start].count(b"\n") + 1
                problems.append(Problem(file, line, "this file is not UTF-8 text; save it again as UTF-8"))
                unreadable.add(file.stem)
            except OSError as exc:
                problems.append(Problem(file, 0, f"this file cannot be read ({exc.strerror})"))
                unreadable.add(file.stem)
    checker = _Checker(sources, builtin_dir, known_names=unreadable)
    for folder in complete_folders:
        checker.require_entry_scripts(folder)
    return checker.result(problems)


def check_sources(sources: dict[Path, str], *, builtin_dir: Path | None = BUILTIN_SCRIPTS_DIR) -> ValidationResult:
    """Check scripts held in memory (drafts), keyed by the file name each would be saved under."""
    return _Checker(dict(sources), builtin_dir).result([])


def unreviewed_welsh(script: Script) -> list[tuple[int, str]]:
    """(line, the Welsh text's start) for every Welsh text no fluent speaker has checked yet."""
    found = [
        (text.line, _preview(text.cy)) for _, _, text in _texts_of(script) if not text.cy_reviewed and text.cy.strip()
    ]
    return sorted(found)


def report_lines(result: ValidationResult) -> list[str]:
    """Per script: how many texts, how many Welsh texts wait for review, and the longest SMS."""
    lines: list[str] = []
    for name, script in sorted(result.scripts.items()):
        file = _shown(script.path) if script.path else f"{name}.yaml"
        waiting = unreviewed_welsh(script)
        longest, where = 0, ""
        for message in _messages(script):
            for language in LANGUAGES:
                parts = sms.count(_as_sent(message.body(language))).parts
                if parts > longest:
                    longest, where = parts, f"{message.where}, {language}"
        summary = f"{file}: {_count(len(_texts_of(script)), 'text')}, {len(waiting)} Welsh waiting for review"
        if longest:
            summary += f", longest SMS {_count(longest, 'part')} ({where})"
        lines.append(summary)
        lines.extend(f'  {file}:{line}: Welsh waiting for review: "{preview}"' for line, preview in waiting)
    return lines


def validate_command(paths: Sequence[str], out: TextIO, report: bool = False) -> int:
    """``rhi scripts validate [--report] [PATH...]``: print the problems; 0 when there are no errors."""
    result = check_paths([Path(path) for path in paths] or [BUILTIN_SCRIPTS_DIR])
    for problem in [*result.errors, *result.warnings]:
        print(problem, file=out)
    if result.ok:
        warnings = _count(len(result.warnings), "warning")
        print(f"{_count(len(result.scripts), 'script')} checked: no errors, {warnings}", file=out)
    if report:
        for line in report_lines(result):
            print(line, file=out)
    return 0 if result.ok else 1


# --- loading and the schema -------------------------------------------------------------------------


@dataclass
class _Loaded:
    path: Path
    located: Located
    script: Script


class _Checker:
    """Checks a set of scripts against each other; built-in scripts fill in for names not given."""

    def __init__(self, sources: dict[Path, str], builtin_dir: Path | None, known_names: Iterable[str] = ()) -> None:
        self.problems: list[Problem] = []
        self.given: dict[str, _Loaded] = {}
        self.context: dict[str, Script] = {}
        self.known_names = set(known_names)  # scripts that exist but could not be read or loaded
        first_file: dict[str, Path] = {}
        for path, text in sources.items():
            name = Path(path).stem
            if name in first_file:
                self.error(path, 1, f'there are two "{name}" scripts: this one and {_shown(first_file[name])}')
                continue
            first_file[name] = path
            loaded = self._load(Path(path), text)
            if loaded is None:
                self.known_names.add(name)
            else:
                self.given[name] = loaded
        if builtin_dir is not None and builtin_dir.is_dir():
            for file in sorted(builtin_dir.glob("*.yaml")):
                if file.stem not in first_file:
                    self._load_context(file)
        # what the checks of one script need to know about the others
        self.all_scripts: dict[str, Script] = {
            **self.context,
            **{name: loaded.script for name, loaded in self.given.items()},
        }
        self.variables = _variables_set(self.all_scripts.values())

    def require_entry_scripts(self, folder: Path) -> None:
        needs = {
            ENTRY_SCRIPT: "every conversation starts with it",
            SYSTEM_SCRIPT: "it holds the commands and texts that work everywhere",
        }
        for name, why in needs.items():
            if name not in self.given and name not in self.known_names:
                self.error(folder, 0, f'there is no "{name}.yaml" script, and the bot needs one: {why}')

    def result(self, problems: list[Problem]) -> ValidationResult:
        for loaded in self.given.values():
            _ScriptCheck(self, loaded).run()
        everything = [*problems, *self.problems]
        everything.sort(key=lambda p: (p.level != "error", _shown(p.file), p.line, p.message))
        return ValidationResult(everything, {name: loaded.script for name, loaded in self.given.items()})

    def script_exists(self, name: str) -> bool:
        return name in self.given or name in self.context or name in self.known_names

    def _load(self, path: Path, text: str) -> _Loaded | None:
        try:
            located = load_located(text)
        except SourceError as exc:
            hint = next((hint for problem, hint in _YAML_HINTS.items() if problem in exc.message), None)
            self.error(path, exc.line, f"{exc.message}; {hint}" if hint else exc.message)
            return None
        if located.data is None:
            self.error(path, 1, "this file is empty; a script needs script:, start: and steps:")
            return None
        schema_problems = sorted(set(_schema_problems(located, path.stem)))
        for line, message in schema_problems:
            self.error(path, line, message)
        if schema_problems:
            return None
        return _Loaded(path, located, build_script(located, text, path))

    def _load_context(self, file: Path) -> None:
        try:
            text = file.read_text(encoding="utf-8")
            located = load_located(text)
        except (OSError, UnicodeDecodeError, SourceError):
            self.known_names.add(file.stem)
            return
        if located.data is None or any(_VALIDATOR.iter_errors(located.data)):
            self.known_names.add(file.stem)
            return
        self.context[file.stem] = build_script(located, text, file)

    def error(self, file: Path, line: int, message: str) -> None:
        self.problems.append(Problem(file, line, message))

    def warn(self, file: Path, line: int, message: str) -> None:
        self.problems.append(Problem(file, line, message, "warning"))


def _schema_problems(located: Located, file_stem: str) -> Iterator[tuple[int, str]]:
    for error in _VALIDATOR.iter_errors(located.data):
        yield from _explain(error, located, file_stem)


def _explain(error: ValidationError, located: Located, file_stem: str) -> Iterator[tuple[int, str]]:
    """Turn one schema error into (line, message) for a person who is not a programmer."""
    path = tuple(error.absolute_path)
    owner, rest = _owner(path)
    line = located.line_of(path)
    instance = error.instance

    if "propertyNames" in error.schema_path:  # a key that is not a usable name
        noun = {"steps": "a step name", "texts": "a text name"}.get(str(path[-1]) if path else "", "a name")
        yield (
            located.line_of((*path, instance)),
            _join(owner, f'"{instance}" cannot be {noun}: use {_NAME_RULE}'),
        )
    elif error.validator == "required":
        for missing in (key for key in error.validator_value if key not in instance):
            yield line, _missing_key(owner, rest, missing, error.schema, file_stem)
    elif error.validator == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        noun = _noun_for(error.schema)
        keys = list(instance)
        for position, key in enumerate(keys):
            if key in allowed:
                continue
            line = located.line_of((*path, key))
            before = keys[position - 1] if position else None
            if error.schema == _DEFS["text"] and instance[key] is None and before in LANGUAGES:
                # {en: Yes, delete them, cy: ...}: the comma ended the text and "delete them" became a key
                yield (
                    line,
                    _join(
                        owner,
                        f'the comma after "{instance[before]}" ends the {_text_noun(rest)}, so "{key}" is read as a '
                        f'key; put the text in quotes: {before}: "{instance[before]}, {key}"',
                    ),
                )
                continue
            hint = _did_you_mean(str(key), allowed) or f"; {noun} can have: {', '.join(allowed)}"
            yield line, _join(owner, f'"{key}" is not a key {noun} can have{hint}')
    elif error.validator == "oneOf" and path[:1] == ("steps",) and len(path) == 2:
        if isinstance(instance, dict):
            kinds = [f'"{kind}"' for kind in STEP_KINDS if kind in instance]
            has = f"it has {'both ' if len(kinds) == 2 else ''}{_and(kinds)}" if kinds else "it has none"
            yield line, _join(owner, f"a step needs exactly one of {', '.join(STEP_KINDS)}; {has}")
    elif error.validator in ("oneOf", "anyOf"):
        yield from _explain_alternatives(error, located, file_stem)
    elif error.validator == "type":
        yield line, _wrong_type(owner, rest, error)
    elif error.validator == "pattern":
        what = "a script name, or script.step" if rest[-1:] == ("goto",) else "a name"
        if rest[-1:] in (("next",), ("else",), ("start",)) or rest[:1] == ("cases",):
            what = "a step name"
        yield line, _join(owner, f'{_key_phrase(rest)} should be {what} ({_NAME_RULE}), not "{instance}"')
    elif error.validator == "enum":
        choices = [str(choice) for choice in error.validator_value]
        hint = _did_you_mean(str(instance), choices)
        yield line, _join(owner, f'{_key_phrase(rest)} must be one of {", ".join(choices)}, not "{instance}"{hint}')
    elif error.validator == "const":
        yield line, _join(owner, f"{_key_phrase(rest)} can only be {json.dumps(error.validator_value)}")
    elif error.validator == "minProperties":
        yield line, _join(owner, f"{_key_phrase(rest)} needs at least one entry")
    elif error.validator == "minLength":
        yield line, _join(owner, f"{_key_phrase(rest)} is empty")
    else:
        yield line, _join(owner, error.message)


def _explain_alternatives(error: ValidationError, located: Located, file_stem: str) -> Iterator[tuple[int, str]]:
    """A value that may take several shapes (``end:`` is a text or nothing): explain the shape it was meant to
    have, which is the one whose type it has."""
    by_branch: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
    meant = [
        errors for errors in by_branch.values()
        if not any(sub.validator == "type" and not sub.relative_path for sub in errors)
    ]  # fmt: skip
    chosen = meant[0] if meant else by_branch.get(0, [])
    owner, rest = _owner(tuple(error.absolute_path))
    if not meant and rest[-1:] == ("end",):
        yield (
            located.line_of(tuple(error.absolute_path)),
            _join(owner, '"end" needs the text in both languages, like {en: ..., cy: ...}, or nothing at all'),
        )
        return
    for sub in chosen:
        yield from _explain(sub, located, file_stem)


def _missing_key(owner: str, rest: tuple, missing: str, schema: dict[str, Any], file_stem: str) -> str:
    if schema == _DEFS["text"]:
        return _join(owner, f"the {LANGUAGE_NAMES[missing]} {_text_noun(rest)} is missing")
    if schema == _SCHEMA:
        return {
            "script": f'the file needs a "script:" line with the script\'s name (script: {file_stem})',
            "start": 'the file needs a "start:" line naming the first step',
            "steps": 'the file needs "steps:", with at least one step',
        }[missing]
    subject = owner or _key_phrase(rest)
    return f'{subject} has no "{missing}"'


def _wrong_type(owner: str, rest: tuple, error: ValidationError) -> str:
    if error.schema == _DEFS["text"]:
        both = "needs the text in both languages, like {en: ..., cy: ...}"
        return _join(owner, f"{_key_phrase(rest)} {both}") if rest else f"{owner} {both}"
    expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
    phrases = {
        "object": "a set of keys (key: value, one per line)",
        "array": "a list (one item per line, starting with -)",
        "string": "text",
        "boolean": "true or false",
        "integer": "a whole number",
        "null": "nothing",
    }
    wanted = " or ".join(phrases.get(kind, kind) for kind in expected)
    if not rest:
        return f"{owner} should be {wanted}" if owner else f"a script should be {wanted}, starting with script:"
    return _join(owner, f"{_key_phrase(rest)} should be {wanted}")


def _owner(path: tuple) -> tuple[str, tuple]:
    """Split a schema path into who it is about (step "age": option 2) and the keys within it."""
    owner: list[str] = []
    rest = path
    if len(rest) >= 2 and rest[0] in ("steps", "texts"):
        owner.append(f'{"step" if rest[0] == "steps" else "text"} "{rest[1]}"')
        rest = rest[2:]
    if len(rest) >= 2 and rest[0] == "options" and isinstance(rest[1], int):
        owner.append(f"option {rest[1] + 1}")
        rest = rest[2:]
    return ": ".join(owner), rest


def _key_phrase(rest: tuple) -> str:
    keys = [str(key) for key in rest if not isinstance(key, int)]
    phrase = f'"{": ".join(keys)}"' if keys else "it"
    return f"item {rest[-1] + 1} of {phrase}" if rest and isinstance(rest[-1], int) else phrase


def _text_noun(rest: tuple) -> str:
    return _TEXT_KEYS.get(str(rest[-1]), "text") if rest else "text"


def _noun_for(schema: dict[str, Any]) -> str:
    nouns = [
        (_SCHEMA, "a script"),
        (_DEFS["step"], "a step"),
        (_DEFS["option"], "an option"),
        (_DEFS["text"], "a text"),
        (_DEFS["words"], "a word list"),
        (_SCHEMA["properties"]["commands"], '"commands"'),
        (_SCHEMA["properties"]["synonyms"], '"synonyms"'),
    ]
    return next((noun for known, noun in nouns if schema == known), "this")


# --- the meaning of one script --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Message:
    """Something the bot sends: a step's text (with its options, for a choose step) or a system text."""

    where: str
    path: tuple
    text: Text
    options: tuple[Option, ...] = ()

    def body(self, language: str) -> str:
        lines = [self.text.in_language(language)]
        lines.extend(f"{n}. {option.label.in_language(language)}" for n, option in enumerate(self.options, 1))
        return "\n".join(lines)


@dataclass
class _ScriptCheck:
    checker: _Checker
    loaded: _Loaded
    broken_paths: bool = False

    @property
    def script(self) -> Script:
        return self.loaded.script

    @property
    def raw(self) -> dict[str, Any]:
        return self.loaded.located.data

    def line(self, *path: str | int) -> int:
        return self.loaded.located.line_of(path)

    def error(self, line: int, message: str) -> None:
        self.checker.error(self.loaded.path, line, message)

    def warn(self, line: int, message: str) -> None:
        self.checker.warn(self.loaded.path, line, message)

    def run(self) -> None:
        self.check_name()
        self.check_system_keys()
        for step in self.script.steps.values():
            self.check_step_keys(step)
            self.check_links(step)
            self.check_step_shape(step)
        if not self.broken_paths:  # a missing or broken link would make whole parts of the script look dead
            self.check_reachable()
            self.check_loops()
            self.check_finishes()
        for step in self.script.steps.values():
            self.check_options(step)
        self.check_variables()
        self.check_texts()

    # names and keys

    def check_name(self) -> None:
        file_stem = self.loaded.path.stem
        if self.script.name != file_stem:
            self.error(
                self.line("script"),
                f'the script is called "{self.script.name}" but the file is "{self.loaded.path.name}": '
                f"the names must match (script: {file_stem})",
            )
        if self.script.start not in self.script.steps:
            hint = _did_you_mean(self.script.start, self.script.steps)
            self.error(self.line("start"), f'"start" names step "{self.script.start}", which does not exist{hint}')
            self.broken_paths = True

    def check_system_keys(self) -> None:
        if self.script.name != SYSTEM_SCRIPT:
            for key in SYSTEM_ONLY_KEYS:
                if key in self.raw:
                    self.error(self.line(key), f'"{key}" belongs in system.yaml only; here the bot would ignore it')
            return
        for group, names in (("commands", COMMANDS), ("synonyms", ("yes", "no"))):
            defined = getattr(self.script, group)
            for name in names:
                for language in LANGUAGES:
                    if not defined.get(name, {}).get(language):
                        self.error(
                            self.line(group, name),
                            f'"{group}" needs {LANGUAGE_NAMES[language]} words for "{name}"',
                        )
        for name in SYSTEM_TEXTS:
            if name not in self.script.texts:
                self.error(self.line("texts"), f'"texts" needs a text called "{name}": the bot itself sends it')
        for step_id in SYSTEM_STEPS:
            if step_id not in self.script.steps:
                self.error(self.line("steps"), f'the system script needs a step "{step_id}": the bot goes there itself')

    def check_step_keys(self, step: Step) -> None:
        for key in self.raw["steps"][step.id]:
            if key == step.kind or key in STEP_KEYS[step.kind]:
                continue
            better = {("choose", "type"): "or_ask", ("ask", "or_ask"): "type"}.get((step.kind, key))
            advice = f'; for a typed answer use "{better}"' if better else "; remove it"
            self.error(
                self.line("steps", step.id, key),
                f'step "{step.id}": {_a(step.kind)} step does not use "{key}", so the bot would ignore it{advice}',
            )

    # where each step leads

    def check_links(self, step: Step) -> None:
        def check(target: str | None, what: str, *path: str | int) -> None:
            if target is not None and target not in self.script.steps:
                hint = _did_you_mean(target, self.script.steps)
                self.error(
                    self.line("steps", step.id, *path),
                    f'step "{step.id}": {what} leads to step "{target}", which does not exist{hint}',
                )
                self.broken_paths = True

        check(step.next, '"next"', "next")
        check(step.time_step, '"or_time"', "or_time")
        for n, option in enumerate(step.options):
            check(option.next, _option_name(n, option), "options", n, "next")
        for case, target in (self.raw["steps"][step.id].get("cases") or {}).items():
            check(target, f'case "{case}"', "cases", case)
        check(step.default, '"else"', "else")
        if step.kind == "goto" and step.target:
            self.check_goto(step, step.target)

    def check_goto(self, step: Step, target: str) -> None:
        script_name, _, step_id = target.partition(".")
        line = self.line("steps", step.id, "goto")
        if not self.checker.script_exists(script_name):
            hint = _did_you_mean(script_name, [*self.checker.all_scripts, *self.checker.known_names])
            self.error(line, f'step "{step.id}": goes to script "{script_name}", which does not exist{hint}')
            return
        target_script = self.checker.all_scripts.get(script_name)
        if step_id and target_script is not None and step_id not in target_script.steps:
            hint = _did_you_mean(step_id, target_script.steps)
            self.error(
                line,
                f'step "{step.id}": goes to step "{step_id}" of script "{script_name}", which does not exist{hint}',
            )

    def check_step_shape(self, step: Step) -> None:
        where = f'step "{step.id}"'
        if step.kind in ("say", "ask", "do") and step.next is None:
            self.error(step.line, f'{where}: {_a(step.kind)} step needs "next": the step to go on to')
            self.broken_paths = True
        if step.kind == "ask":
            if "type" not in self.raw["steps"][step.id]:
                self.error(step.line, f'{where}: an ask step needs "type": one of {", ".join(ANSWER_TYPES)}')
            if step.save is None:
                self.error(step.line, f'{where}: an ask step needs "save": the name to keep the answer under')
        if step.kind == "choose":
            self.check_choose(step)
        if step.kind == "do" and step.effect not in EFFECTS:
            hint = _did_you_mean(step.effect or "", EFFECTS) or f"; it can do: {', '.join(EFFECTS)}"
            self.error(
                self.line("steps", step.id, "do"), f'{where}: "do: {step.effect}" is not something the bot can do{hint}'
            )
        if step.kind == "branch":
            if not step.cases:
                self.error(step.line, f'{where}: a branch step needs "cases": each value and the step it leads to')
            if step.default is None:
                self.warn(
                    step.line,
                    f'{where}: the branch has no "else": when "{step.variable}" is none of the cases, '
                    "the bot has nowhere to go",
                )

    def check_choose(self, step: Step) -> None:
        where = f'step "{step.id}"'
        if not step.options and not step.options_from:
            self.error(step.line, f'{where}: a choose step needs "options"')
            self.broken_paths = True
        if step.options_from and step.next is None:
            self.error(
                step.line,
                f'{where}: the options from "{step.options_from}" need the step\'s "next": the step to go on to',
            )
            self.broken_paths = True
        for n, option in enumerate(step.options):
            line = self.line("steps", step.id, "options", n)
            if option.next is None and step.next is None:
                self.error(line, f'{where}: {_option_name(n, option)} has no "next", and the step has none either')
                self.broken_paths = True
            if step.save and option.value is None:
                self.error(
                    line,
                    f'{where}: {_option_name(n, option)} needs a "value", because the step saves the answer '
                    f'as "{step.save}"',
                )

    # the shape of the whole script

    def successors(self, step: Step) -> list[str]:
        targets = [step.next, *(option.next for option in step.options), *step.cases.values(), step.default]
        targets.append(step.time_step)
        return [target for target in targets if target is not None and target in self.script.steps]

    def roots(self) -> set[str]:
        """Where a conversation can enter this script: its start, a goto's step, a step the bot jumps to."""
        name = self.script.name
        roots = {self.script.start}
        for other in self.checker.all_scripts.values():
            for step in other.steps.values():
                if step.kind == "goto" and step.target and step.target.partition(".")[0] == name:
                    roots.add(step.target.partition(".")[2] or self.script.start)
        if name == SYSTEM_SCRIPT:
            roots |= set(SYSTEM_STEPS)
        return roots & set(self.script.steps)

    def check_reachable(self) -> None:
        reached = _closure(self.roots(), lambda s: self.successors(self.script.steps[s]))
        for step in self.script.steps.values():
            if step.id not in reached:
                self.error(
                    step.line,
                    f'step "{step.id}" is never reached: no step leads to it from the start ("{self.script.start}")',
                )

    def check_loops(self) -> None:
        """A run of steps that comes back to itself without a question: the bot would talk forever."""
        steps = self.script.steps
        silent = {step_id for step_id, step in steps.items() if not step.waits_for_input}

        def silent_successors(step_id: str) -> list[str]:
            return [target for target in self.successors(steps[step_id]) if target in silent]

        reported: set[str] = set()
        for step in sorted((steps[s] for s in silent), key=lambda step: step.line):
            if step.id in reported:
                continue
            cycle = _shortest_cycle(step.id, silent_successors)
            if cycle is None:
                continue
            loop = _closure({step.id}, silent_successors)
            reported |= {s for s in loop if step.id in _closure({s}, silent_successors)}
            route = " → ".join(f'"{s}"' for s in [*cycle, cycle[0]])
            self.error(
                step.line,
                f"steps {route} go round in a loop without asking anything, so the bot would send them "
                "again and again; add a question or a way out",
            )

    def check_finishes(self) -> None:
        """Every step must be able to reach an end, a goto or a return."""
        steps = self.script.steps
        before: dict[str, list[str]] = {step_id: [] for step_id in steps}
        for step in steps.values():
            for target in self.successors(step):
                before[target].append(step.id)
        finishing = {step_id for step_id, step in steps.items() if step.kind in FINISHING_KINDS}
        can_finish = _closure(finishing, lambda s: before[s])
        stuck = set(steps) - can_finish
        roots = self.roots()
        for step_id in sorted(stuck, key=lambda s: steps[s].line):
            # report where the trouble starts, not every step after it
            if step_id in roots or any(s not in stuck for s in before[step_id]):
                self.error(
                    steps[step_id].line,
                    f'step "{step_id}": from here the conversation can never reach an end, a goto or a return',
                )

    # options and words

    def check_options(self, step: Step) -> None:
        where = f'step "{step.id}"'
        meanings: dict[str, int] = {}
        for n, option in enumerate(step.options, 1):
            if option.means is None:
                continue
            if option.means in meanings:
                self.error(
                    self.line("steps", step.id, "options", n - 1, "means"),
                    f'{where}: options {meanings[option.means]} and {n} both have "means: {option.means}"',
                )
            meanings.setdefault(option.means, n)
        for language in LANGUAGES:
            labels: dict[str, int] = {}  # a folded label → the option number it chooses
            for index, option in enumerate(step.options):
                label = option.label.in_language(language)
                if not _fold(label):
                    continue
                if _fold(label) in labels:
                    self.error(
                        self.line("steps", step.id, "options", index, "label", language),
                        f"{where}: options {labels[_fold(label)]} and {index + 1} have the same "
                        f'{LANGUAGE_NAMES[language]} label "{label.strip()}"',
                    )
                labels.setdefault(_fold(label), index + 1)
            also_words: dict[str, int] = {}
            for index, option in enumerate(step.options):
                for word in option.also.get(language, ()):
                    clash = labels.get(_fold(word), index + 1)
                    if clash != index + 1:
                        clash_is = f"the {LANGUAGE_NAMES[language]} label of option {clash}"
                    else:
                        clash = also_words.get(_fold(word), index + 1)
                        clash_is = f"also a word for option {clash}"
                    if clash != index + 1:
                        self.error(
                            self.line("steps", step.id, "options", index, "also", language),
                            f'{where}: option {index + 1} also answers to "{word}", which is {clash_is}',
                        )
                    also_words.setdefault(_fold(word), index + 1)

    # remembered values

    def check_variables(self) -> None:
        known = self.checker.variables
        for step in self.script.steps.values():
            for key, used in (("branch", step.variable), ("options_from", step.options_from)):
                if used is not None and used not in known:
                    hint = _did_you_mean(used, known)
                    self.error(
                        self.line("steps", step.id, key),
                        f'step "{step.id}": "{key}: {used}" names something no step, answer or effect sets{hint}',
                    )
        for path, where, text in _texts_of(self.script):
            self.check_placeholders(path, where, text, known)

    def check_placeholders(self, path: tuple, where: str, text: Text, known: set[str]) -> None:
        used = {language: PLACEHOLDER.findall(text.in_language(language)) for language in LANGUAGES}
        for name in dict.fromkeys([*used["en"], *used["cy"]]):
            languages = [language for language in LANGUAGES if name in used[language]]
            line = self.line(*path, languages[0])
            other = "cy" if languages == ["en"] else "en"
            if name not in known:
                closest = _closest(name, known)
                hint = f" (did you mean {{{closest}}}?)" if closest else ""
                in_texts = " and ".join(LANGUAGE_NAMES[language] for language in languages)
                self.error(
                    line,
                    f"{where.format(language=in_texts)} uses {{{name}}}, which nothing sets: no step, "
                    f"answer or effect gives it a value{hint}",
                )
            elif len(languages) == 1 and text.in_language(other).strip():
                self.warn(
                    self.line(*path, other),
                    f"{where.format(language=LANGUAGE_NAMES[other])} leaves out {{{name}}}, which the "
                    f"{LANGUAGE_NAMES[languages[0]]} one has",
                )
        for language in LANGUAGES:
            for match in _MALFORMED_PLACEHOLDER.finditer(text.in_language(language)):
                if not PLACEHOLDER.fullmatch(match.group()):
                    self.error(
                        self.line(*path, language),
                        f'{where.format(language=LANGUAGE_NAMES[language])} has "{match.group()}", which would '
                        f"be sent as it is: a placeholder is a name in {_NAME_RULE}, like {{service_name}}",
                    )

    # texts: both languages, the lock screen, SMS length

    def check_texts(self) -> None:
        for path, where, text in _texts_of(self.script):
            for language in LANGUAGES:
                if not text.in_language(language).strip():
                    self.error(
                        self.line(*path, language), f"{where.format(language=LANGUAGE_NAMES[language])} is empty"
                    )
            self.check_english_in_welsh(path, where, text)
        for message in _messages(self.script):
            for language in LANGUAGES:
                body = message.body(language)
                if not message.text.in_language(language).strip():
                    continue
                line = self.line(*message.path, language)
                self.check_preview(message, language, body, line)
                self.check_length(message, language, body, line)
                self.check_opt_out_words(message, language, line)

    def check_english_in_welsh(self, path: tuple, where: str, text: Text) -> None:
        """A Welsh text with the service's English name or a plainly English word in it (see ENGLISH_ONLY_WORDS)."""
        found = english_in_welsh(text.in_language("cy"))
        if found:
            why = (
                "the service's English name: write {service_name}, which is its Welsh name in Welsh messages"
                if found == ENGLISH_SERVICE_NAME
                else "which is English: say it in Welsh"
            )
            self.warn(self.line(*path, "cy"), f'{where.format(language=LANGUAGE_NAMES["cy"])} has "{found}", {why}')

    def check_preview(self, message: _Message, language: str, body: str, line: int) -> None:
        first_line = next((text for text in body.splitlines() if text.strip()), "")
        alarming = [f'"{word}"' for word in PREVIEW_ALARM_WORDS[language] if _alarm_pattern(word).search(first_line)]
        if alarming:
            self.warn(
                line,
                f"{message.where}: the first line of the {LANGUAGE_NAMES[language]} message has {_and(alarming)}; "
                "it shows on a locked phone that others may see, so move it further down",
            )

    def check_opt_out_words(self, message: _Message, language: str, line: int) -> None:
        """An option label, or a reply a text suggests in capitals, with a carrier's opt-out word in it: typed on
        SMS, it unsubscribes the person instead of answering."""
        words = [word for words in CARRIER_OPT_OUT_WORDS.values() for word in words]
        for number, option in enumerate(message.options, 1):
            label = option.label.in_language(language)
            found = [word for word in words if _alarm_pattern(word).search(label)]
            if found:
                self.warn(
                    self.line(*message.path[:2], "options", number - 1, "label", language),
                    f'{message.where}: option {number}\'s {LANGUAGE_NAMES[language]} label "{label}" has '
                    f'"{found[0]}", which on SMS the phone network takes as "unsubscribe me" when typed on its own; '
                    f'say it another way (like "Call it off")',
                )
        for suggested in _SUGGESTED_REPLY.findall(message.text.in_language(language)):
            found = [
                word
                for word in words
                if _alarm_pattern(word).search(suggested) and suggested.casefold() not in SUGGESTED_TO_STOP
            ]
            if found:
                self.warn(
                    line,
                    f'{message.where}: the {LANGUAGE_NAMES[language]} text suggests replying "{suggested}", which '
                    f'has "{found[0]}": on SMS the phone network takes it as "unsubscribe me"; suggest another word',
                )

    def check_length(self, message: _Message, language: str, body: str, line: int) -> None:
        counted = sms.count(_as_sent(body))  # as sent: curly quotes and long dashes already made plain
        parts = counted.parts
        if parts <= MAX_SMS_SEGMENTS:
            return
        detail = f"{counted.encoding}, {counted.length} characters"
        if counted.forcing:
            named = _and(['"' + char + '"' for char in counted.forcing[:3]])
            detail += f", because of {named}"
        self.warn(
            line,
            f"{message.where}: the {LANGUAGE_NAMES[language]} message needs {parts} SMS parts ({detail}); "
            f"try to keep it to {MAX_SMS_SEGMENTS}",
        )


def english_in_welsh(welsh: str) -> str | None:
    """The first English the rule above finds in a Welsh text (the service's English name first), or None."""
    lines = [line for line in PLACEHOLDER.sub(" ", welsh).splitlines() if "english" not in line.casefold()]
    kept = " ".join(lines)
    if ENGLISH_SERVICE_NAME in " ".join(kept.casefold().split()):
        return ENGLISH_SERVICE_NAME
    for word in _WORD.findall(kept.replace("’", "'")):
        if not word.isupper() and word.casefold() in ENGLISH_ONLY_WORDS:
            return word
    return None


def _texts_of(script: Script) -> list[tuple[tuple, str, Text]]:
    """(path in the file, how to name it with a {language}, the text) for every text of a script."""
    found: list[tuple[tuple, str, Text]] = []
    for step in script.steps.values():
        base = ("steps", step.id)
        if step.text is not None:
            found.append(((*base, step.kind), f'step "{step.id}": the {{language}} text', step.text))
        if step.retry is not None:
            found.append(((*base, "retry"), f'step "{step.id}": the {{language}} retry text', step.retry))
        found.extend(
            ((*base, "options", n, "label"), f'step "{step.id}": option {n + 1}: the {{language}} label', option.label)
            for n, option in enumerate(step.options)
        )
    found.extend(
        (("texts", name), f'text "{name}": the {{language}} text', text) for name, text in script.texts.items()
    )
    return found


def _messages(script: Script) -> list[_Message]:
    found: list[_Message] = []
    for step in script.steps.values():
        if step.text is not None:
            options = step.options if step.kind == "choose" else ()
            found.append(_Message(f'step "{step.id}"', ("steps", step.id, step.kind), step.text, options))
        if step.retry is not None:
            found.append(_Message(f'step "{step.id}" (retry)', ("steps", step.id, "retry"), step.retry))
    found.extend(_Message(f'text "{name}"', ("texts", name), text) for name, text in script.texts.items())
    return found


def _variables_set(scripts: Iterable[Script]) -> set[str]:
    """Every name a placeholder may use: set by a step or option, saved from an answer, given by an effect
    that some step does, or filled in by the runtime."""
    names = set(RUNTIME_VARIABLES)
    for script in scripts:
        for step in script.steps.values():
            names.update(step.set)
            for option in step.options:
                names.update(option.set)
            if step.save:
                names.update((step.save, f"{step.save}_label"))
            if step.kind == "do" and step.effect in EFFECTS:
                names.update(EFFECTS[step.effect].sets)
    return names


# --- small helpers ------------------------------------------------------------------------------------


def _closure(start: Iterable[str], following: Callable[[str], Iterable[str]]) -> set[str]:
    seen = set(start)
    todo = list(seen)
    while todo:
        for target in following(todo.pop()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _shortest_cycle(origin: str, following: Callable[[str], Iterable[str]]) -> list[str] | None:
    """The shortest route from ``origin`` back to itself, without the final return, or None."""
    came_from: dict[str, str] = {}
    frontier = [origin]
    while frontier:
        next_frontier = []
        for current in frontier:
            for target in following(current):
                if target == origin:
                    route = [current]
                    while route[-1] != origin:
                        route.append(came_from[route[-1]])
                    return route[::-1]
                if target not in came_from:
                    came_from[target] = current
                    next_frontier.append(target)
        frontier = next_frontier
    return None


def _alarm_pattern(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])" + re.escape(word).replace(r"\ ", r"\s+") + r"(?![\w-])", re.IGNORECASE)


def _as_sent(body: str) -> str:
    """The text as it would be sent, with each placeholder counted at its nominal length."""
    return PLACEHOLDER.sub("x" * PLACEHOLDER_NOMINAL_LENGTH, body)


def _fold(words: str) -> str:
    return " ".join(words.split()).casefold()


def _option_name(index: int, option: Option) -> str:
    return f'option {index + 1} ("{_preview(option.label.en, 30)}")'


def _preview(text: str, width: int = 40) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def _closest(word: str, candidates: Iterable[Any]) -> str | None:
    close = difflib.get_close_matches(word, sorted(str(c) for c in candidates), n=1, cutoff=0.6)
    return close[0] if close else None


def _did_you_mean(word: str, candidates: Iterable[Any]) -> str:
    closest = _closest(word, candidates)
    return f' (did you mean "{closest}"?)' if closest else ""


def _join(owner: str, message: str) -> str:
    return f"{owner}: {message}" if owner else message


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _shown(path: Path) -> str:
    """The path as the person gave it, or relative to where they are when it is inside it."""
    if path.is_absolute():
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)
    return str(path)
