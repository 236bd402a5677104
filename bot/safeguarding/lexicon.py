"""The safeguarding lexicon: loading, validating and indexing the phrase files.

The phrases live in YAML files under `bot/data/safeguarding/` (one per language, plus emoji), so that a
safeguarding lead can add or correct one without touching code. A file looks like:

    language: en            # en, cy or any. Every file applies to every message; cy turns on reading
                            # Welsh mutations for its words.
    classes:                # optional: single words a phrase can refer to as {name}; built in:
      family: [mum, dad]    # {number}, {many} (10 or more) and {adult_age} (18 to 99, plus words listed)
    lookalikes: [rapped]    # optional: ordinary words never read as a misspelt or stretched lexicon word
    now: [right now, tonight, just took]  # optional: words that say harm is happening now, which makes an
                            # alert immediate whatever its category
    negations: [not, never] # optional: single words that, just before a phrase, make it a concern on its
                            # own ("I'm not suicidal"); with the model agreeing it still alerts
    rules:                  # optional: a category that changes near some context
      - {category: violence_weapons, near: "{family}", also: abuse_at_home}
    entries:
      - {phrase: kill myself, category: suicide_self_harm}
      - phrase: going country
        category: criminal_exploitation
        gap: 0                        # words allowed between the phrase's words (default 1, max 3)
        fuzzy: false                  # only exact spellings (after normalising) match
        exclude: [country park]       # not a match when this occurs within a few words
        also: [health]                # further categories the phrase signals
        alone: false                  # an everyday word on its own ("knife", "pregnant"): it alerts only with
                                      # a second cue (another phrase, or the model agreeing); alone, a concern
        reviewed: false               # waiting for a fluent speaker / safeguarding lead to check it
        notes: county lines slang for travelling to sell drugs

Beside the phrase files may sit the learned model (`model.json`, see `model`), loaded with them: the
lexicon and the model are published together, and the detector combines them.

The index is built once per lexicon so that checking a message costs dictionary look-ups per token,
however many phrases there are: a word trie keyed by normalised token, a single-word index for
spelt-out words, and a symmetric-delete index for misspellings (see `Lexicon`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rapidfuzz.distance import OSA, Levenshtein

from bot.safeguarding.categories import CATEGORIES, CATEGORY_SEVERITY, SEVERITY_RANK
from bot.safeguarding.model import MODEL_FILE_NAME, Model, ModelError, load_model
from bot.safeguarding.normalise import squeeze, tokenise, welsh_radicals
from bot.safeguarding.sourcefile import SourceFile

LEXICON_DIR = Path(__file__).resolve().parents[1] / "data" / "safeguarding"

LANGUAGES = ("en", "cy", "any")
DEFAULT_GAP = 1
MAX_GAP = 3
# Misspellings are only looked for in words at least this long (after squeezing repeated letters):
# shorter words have too many real-word neighbours ("blade"/"blame").
FUZZY_MIN_WORD = 6
# From this length a word may be two edits away; below it, one.
FUZZY_TWO_EDITS_WORD = 10
# A Welsh word is only read as a mutation when it is at least this long ("wn" stays "I know"; "fyw" reads "byw").
MUTATION_MIN_WORD = 3
# A phrase written as one word ("killmyself") is matched when that word is at least this long;
# shorter ones are real words too ("go ot" would read "got").
JOINED_PHRASE_MIN = 6
# Words spelt out letter by letter are searched for lexicon words at least this long.
SPACED_WORD_MIN = 4
# Classes of numbers, built in (a file may add words to them, such as "twenty" to adult_age):
# {number} is any number, {many} a number of ten or more ("took 20 paracetamol"), {adult_age} an age
# that makes "my boyfriend is {adult_age}" a concern.
NUMBER_CLASSES: dict[str, range] = {"number": range(0, 10**9), "many": range(10, 10**9), "adult_age": range(18, 100)}
# A context rule looks this many tokens either side of a match.
RULE_WINDOW = 10
_READINGS_CACHE_MAX = 50_000

_FILE_FIELDS = ("language", "classes", "lookalikes", "now", "negations", "rules", "entries")
_RULE_FIELDS = ("category", "near", "becomes", "also")
_ENTRY_FIELDS = ("phrase", "category", "also", "gap", "fuzzy", "alone", "exclude", "reviewed", "notes")
_CLASS_RE = re.compile(r"\{(\w+)\}")
# Substitutions a misspelling may make (sounds alike); any other substitution is a different word.
_SIMILAR_LETTERS = (frozenset("aeiouy"), frozenset("cks"), frozenset("sz"), frozenset("kq"))


class LexiconError(ValueError):
    """The lexicon files have problems; `problems` holds one `FILE:LINE: message` line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# Compared and hashed by identity: each entry is one line of one file (and hashing is on the hot path).
@dataclass(frozen=True, slots=True, eq=False)
class LexiconEntry:
    phrase: str
    category: str
    keys: tuple[str, ...]
    also: tuple[str, ...] = ()
    gap: int = DEFAULT_GAP
    fuzzy: bool = True
    alone: bool = True  # whether a match alerts on its own (False: only with a second cue)
    exclude: tuple[tuple[str, ...], ...] = ()
    reviewed: bool = True
    notes: str = ""
    language: str = "any"
    source: str = ""
    categories: tuple[str, ...] = field(init=False)
    # 0 for immediate, 1 for urgent: the most severe of the entry's categories
    severity_rank: int = field(init=False)

    def __post_init__(self) -> None:
        categories = (self.category, *self.also)
        object.__setattr__(self, "categories", categories)
        object.__setattr__(
            self, "severity_rank", min(SEVERITY_RANK[CATEGORY_SEVERITY[category]] for category in categories)
        )


@dataclass(frozen=True, slots=True)
class ContextRule:
    """A match of `category` with `near` within RULE_WINDOW tokens becomes (or also is) another category:
    violence near a word for someone at home is abuse at home."""

    category: str
    near: tuple[str, ...]
    becomes: str | None = None
    also: str | None = None
    source: str = ""


class PhraseNode:
    __slots__ = ("children", "entries", "max_gap")

    def __init__(self) -> None:
        self.children: dict[str, PhraseNode] = {}
        self.entries: list[LexiconEntry] = []
        self.max_gap = 0


@dataclass
class _ParsedFile:
    language: str = "any"
    entries: list[tuple[int, dict[str, yaml.Node]]] = field(default_factory=list)
    rules: list[tuple[int, dict[str, yaml.Node]]] = field(default_factory=list)
    now: list[tuple[str, ...]] = field(default_factory=list)
    negations: set[str] = field(default_factory=set)


class Lexicon:
    """A loaded lexicon and its index. Build it with `load_lexicon()`."""

    def __init__(
        self,
        entries: Iterable[LexiconEntry],
        classes: dict[str, frozenset[str]] | None = None,
        lookalikes: Iterable[str] = (),
        rules: Iterable[ContextRule] = (),
        now: Iterable[tuple[str, ...]] = (),
        model: Model | None = None,
        negations: Iterable[str] = (),
    ) -> None:
        self.entries = tuple(entries)
        self.negations = frozenset(negations)
        self.model = model
        # phrases that say harm is happening now, by their first word
        self.now: dict[str, list[tuple[str, ...]]] = {}
        for keys in now:
            self.now.setdefault(keys[0], []).append(keys)
        self.classes = dict(classes or {})
        self.lookalikes = frozenset(lookalikes)
        self.rules: dict[str, list[ContextRule]] = {}
        for rule in rules:
            self.rules.setdefault(rule.category, []).append(rule)
        self.root: dict[str, PhraseNode] = {}
        self.vocabulary: set[str] = set()
        # beginnings of vocabulary words, so that only a plausible first half is joined to the next token
        self.word_beginnings: set[str] = set()
        self.welsh_vocabulary: set[str] = set()
        self.class_of: dict[str, tuple[str, ...]] = {}
        # single-token entries by key, for searching words spelt out letter by letter
        self.single_words: dict[str, list[LexiconEntry]] = {}
        self.longest_single_word = 0
        self._fuzzy_words: set[str] = set()
        self._deletes: dict[str, list[str]] = {}
        self.cached_readings: dict[str, tuple[tuple[str, bool], ...]] = {}
        for name, members in self.classes.items():
            for member in members:
                self.class_of[member] = (*self.class_of.get(member, ()), "{" + name + "}")
        for entry in self.entries:
            self._add(entry.keys, entry)
            words = [key for key in entry.keys if not key.startswith("{")]
            joined = squeeze("".join(words))
            if (
                len(entry.keys) > 1
                and len(words) == len(entry.keys)
                and joined.isalpha()
                and len(joined) >= JOINED_PHRASE_MIN
            ):
                self._add((joined,), entry)  # "killmyself", "sewerslide"
        for word in self.vocabulary:
            self.word_beginnings.update(word[:cut] for cut in range(1, len(word)))
        for word in self._fuzzy_words:
            for variant in _deletions(word, 2 if len(word) >= FUZZY_TWO_EDITS_WORD else 1):
                self._deletes.setdefault(variant, []).append(word)

    def __len__(self) -> int:
        return len(self.entries)

    def happening_now(self, keys: Sequence[str]) -> bool:
        """Whether the message's tokens hold one of the `now` phrases."""
        now = self.now
        for position, key in enumerate(keys):
            for phrase in now.get(key, ()):
                if tuple(keys[position : position + len(phrase)]) == phrase:
                    return True
        return False

    def unreviewed(self) -> list[LexiconEntry]:
        """Entries still waiting for a fluent speaker or safeguarding lead to check them."""
        return [entry for entry in self.entries if not entry.reviewed]

    def _add(self, keys: tuple[str, ...], entry: LexiconEntry) -> None:
        level = self.root
        node = None
        for depth, key in enumerate(keys):
            node = level.get(key)
            if node is None:
                node = level[key] = PhraseNode()
            if depth < len(keys) - 1:
                node.max_gap = max(node.max_gap, entry.gap)
            level = node.children
            if key.startswith("{"):
                continue
            self.vocabulary.add(key)
            if entry.language == "cy":
                self.welsh_vocabulary.add(key)
            if entry.fuzzy and key.isalpha() and len(key) >= FUZZY_MIN_WORD:
                self._fuzzy_words.add(key)
        assert node is not None
        node.entries.append(entry)
        if len(keys) == 1 and keys[0].isalpha() and len(keys[0]) >= SPACED_WORD_MIN:
            self.single_words.setdefault(keys[0], []).append(entry)
            self.longest_single_word = max(self.longest_single_word, len(keys[0]))

    def readings(self, key: str) -> tuple[tuple[str, bool], ...]:
        """Every way a token may be read, as (lexicon key, read as a misspelling): itself, the classes
        it belongs to, the Welsh radical it may be a mutation of, and lexicon words it may misspell."""
        cached = self.cached_readings.get(key)
        if cached is not None:
            return cached
        readings = [(key, False)]
        readings.extend((name, False) for name in self.class_of.get(key, ()))
        if key.isdigit():
            readings.extend(
                ("{" + name + "}", False) for name, numbers in NUMBER_CLASSES.items() if int(key) in numbers
            )
        elif key.isalpha():
            if len(key) >= MUTATION_MIN_WORD:
                readings.extend((radical, False) for radical in welsh_radicals(key) if radical in self.welsh_vocabulary)
            if key not in self.vocabulary and key not in self.lookalikes and len(key) >= FUZZY_MIN_WORD - 1:
                readings.extend((word, True) for word in self._misspelt(key))
        result = tuple(readings)
        if len(self.cached_readings) >= _READINGS_CACHE_MAX:
            self.cached_readings.clear()
        self.cached_readings[key] = result
        return result

    def _misspelt(self, key: str) -> list[str]:
        """Lexicon words that `key` plausibly misspells (symmetric-delete candidates, then checked)."""
        depth = 2 if len(key) >= FUZZY_TWO_EDITS_WORD - 2 else 1
        candidates: set[str] = set()
        for variant in _deletions(key, depth):
            words = self._deletes.get(variant)
            if words:
                candidates.update(words)
        return sorted(word for word in candidates if _plausible_misspelling(key, word))


def _deletions(word: str, depth: int) -> set[str]:
    """The word with up to `depth` letters deleted, the first letter always kept (a misspelling keeps it)."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(1, len(w))}
        found |= frontier
    return found


def _similar(a: str, b: str) -> bool:
    return any(a in group and b in group for group in _SIMILAR_LETTERS)


def _plausible_misspelling(typed: str, word: str) -> bool:
    """A typo, not a different word: same first letter, few edits, and substitutions only between
    letters that sound alike ("suiside", "sucide", "overdoes" yes; "stated" for "stabbed" no)."""
    max_edits = 2 if len(word) >= FUZZY_TWO_EDITS_WORD else 1
    if typed[0] != word[0] or abs(len(typed) - len(word)) > max_edits:
        return False
    operations = Levenshtein.editops(typed, word).as_list()
    if len(operations) <= max_edits:
        return all(tag != "replace" or _similar(typed[src], word[dest]) for tag, src, dest in operations)
    return OSA.distance(typed, word, score_cutoff=max_edits) <= max_edits  # a swap of two letters


def default_lexicon_paths() -> list[Path]:
    """The packaged lexicon files, and the model beside them."""
    model = LEXICON_DIR / MODEL_FILE_NAME
    return sorted(LEXICON_DIR.glob("*.yaml")) + ([model] if model.is_file() else [])


def phrase_keys(phrase: str, lookalikes: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """A phrase as the detector will match it; `{name}` stands for any word of class `name`."""
    keys: list[str] = []
    position = 0
    for placeholder in _CLASS_RE.finditer(phrase):
        keys.extend(tokenise(phrase[position : placeholder.start()], lookalikes).main.keys)
        keys.append("{" + placeholder.group(1).lower() + "}")
        position = placeholder.end()
    keys.extend(tokenise(phrase[position:], lookalikes).main.keys)
    return tuple(keys)


def _parse_file(
    source: SourceFile, classes: dict[str, set[str]], class_lines: dict[str, str], lookalikes: set[str]
) -> _ParsedFile:
    parsed = _ParsedFile()
    root = source.compose()
    if root is None:
        return parsed
    fields = source.mapping(root, "the lexicon file")
    if fields is None:
        return parsed
    source.unknown_fields(fields, _FILE_FIELDS, "the lexicon file")
    if "language" in fields:
        language = source.scalar(fields["language"][1])
        if language not in LANGUAGES:
            source.problem(fields["language"][1], f"language must be one of: {', '.join(LANGUAGES)}")
        else:
            parsed.language = str(language)
    if "classes" in fields:
        class_fields = source.mapping(fields["classes"][1], "classes") or {}
        for name, (key_node, members_node) in class_fields.items():
            if not re.fullmatch(r"[a-z_]+", name):
                source.problem(key_node, f'class name "{name}" must be lower-case letters and "_"')
                continue
            members = source.text_list(members_node, f'class "{name}"') or []
            class_lines.setdefault(name, f"{source.path}:{key_node.start_mark.line + 1}")
            for member_node, member in members:
                keys = phrase_keys(member)
                if len(keys) != 1 or keys[0].startswith("{"):
                    source.problem(member_node, f'class "{name}": "{member}" must be a single word')
                else:
                    classes.setdefault(name, set()).add(keys[0])
    if "lookalikes" in fields:
        for node, word in source.text_list(fields["lookalikes"][1], "lookalikes") or []:
            typed = tokenise(word).main.keys
            if len(typed) != 1 or not word.strip().isalpha():
                source.problem(node, f'lookalike "{word}" must be a single word')
            else:
                lookalikes.add(word.strip().lower())
    if "negations" in fields:
        for node, word in source.text_list(fields["negations"][1], "negations") or []:
            keys = phrase_keys(word)
            if len(keys) != 1 or keys[0].startswith("{"):
                source.problem(node, f'negation "{word}" must be a single word')
            else:
                parsed.negations.add(keys[0])
    if "now" in fields:
        for node, phrase in source.text_list(fields["now"][1], "now") or []:
            keys = phrase_keys(phrase)
            if not keys or any(key.startswith("{") for key in keys):
                source.problem(node, f'"now" phrase "{phrase}" must be plain words')
            else:
                parsed.now.append(keys)
    if "rules" in fields:
        for item in source.sequence(fields["rules"][1], "rules") or []:
            rule_fields = source.mapping(item, "a rule")
            if rule_fields is not None:
                source.unknown_fields(rule_fields, _RULE_FIELDS, "a rule")
                parsed.rules.append((item.start_mark.line + 1, {name: node for name, (_, node) in rule_fields.items()}))
    if "entries" not in fields:
        source.problem(root, 'missing field "entries" (the list of phrases)')
        return parsed
    for item in source.sequence(fields["entries"][1], "entries") or []:
        entry_fields = source.mapping(item, "an entry")
        if entry_fields is None:
            continue
        source.unknown_fields(entry_fields, _ENTRY_FIELDS, "an entry")
        values: dict[str, yaml.Node] = {}
        for name in _ENTRY_FIELDS:
            if name in entry_fields:
                values[name] = entry_fields[name][1]
        parsed.entries.append((item.start_mark.line + 1, values))
    return parsed


def _build_entry(
    source: SourceFile,
    line: int,
    values: dict[str, yaml.Node],
    language: str,
    lookalikes: frozenset[str],
    known_classes: set[str],
) -> LexiconEntry | None:
    ok = True
    phrase_node = values.get("phrase")
    # The phrase as written (a plain scalar's text), so "yes" or "999" stay text.
    phrase = phrase_node.value if isinstance(phrase_node, yaml.ScalarNode) else None
    if phrase_node is None:
        source.problem(line, 'missing field "phrase"')
        ok = False
    elif phrase is None:
        source.problem(phrase_node, "phrase must be text")
        ok = False
    elif not phrase.strip():
        source.problem(phrase_node, "empty phrase")
        ok = False
    category = _category(source, values.get("category"), line, "category")
    if category is None:
        ok = False
    also: list[str] = []
    if "also" in values:
        for node, name in source.text_list(values["also"], 'field "also"') or []:
            if name not in CATEGORIES:
                source.problem(node, f'unknown category "{name}" in "also" (expected one of: {", ".join(CATEGORIES)})')
                ok = False
            elif name != category and name not in also:
                also.append(name)
    gap = DEFAULT_GAP
    if "gap" in values:
        gap_value = source.scalar(values["gap"])
        if isinstance(gap_value, bool) or not isinstance(gap_value, int) or not 0 <= gap_value <= MAX_GAP:
            source.problem(values["gap"], f'field "gap" must be a whole number from 0 to {MAX_GAP}')
            ok = False
        else:
            gap = gap_value
    flags = {}
    for name in ("fuzzy", "alone", "reviewed"):
        flags[name] = True
        if name in values:
            flag = source.scalar(values[name])
            if not isinstance(flag, bool):
                source.problem(values[name], f'field "{name}" must be true or false')
                ok = False
            else:
                flags[name] = flag
    notes = ""
    if "notes" in values:
        notes = source.text(values["notes"], 'field "notes"') or ""
    exclude: list[tuple[str, ...]] = []
    if "exclude" in values:
        for node, context in source.text_list(values["exclude"], 'field "exclude"') or []:
            context_keys = phrase_keys(context, lookalikes)
            if not context_keys:
                source.problem(node, f'exclude "{context}" has no words to match')
                ok = False
            exclude.append(context_keys)
    if not ok or phrase is None:
        return None
    keys = phrase_keys(phrase, lookalikes)
    unknown = _unknown_class(keys, known_classes)
    if unknown:
        source.problem(
            phrase_node,
            f'phrase "{phrase}" uses unknown class {{{unknown}}} (known: {", ".join(sorted(known_classes))})',
        )
        return None
    if not keys:
        source.problem(phrase_node, f'phrase "{phrase}" has no words or emoji to match')
        return None
    if len(keys) == 1 and keys[0].startswith("{"):
        source.problem(phrase_node, f'phrase "{phrase}" is only a class: it would match every word in it')
        return None
    return LexiconEntry(
        phrase=phrase.strip(),
        category=str(category),
        keys=keys,
        also=tuple(also),
        gap=gap,
        fuzzy=flags["fuzzy"],
        alone=flags["alone"],
        exclude=tuple(exclude),
        reviewed=flags["reviewed"],
        notes=notes,
        language=language,
        source=f"{source.path}:{line}",
    )


def _category(source: SourceFile, node: yaml.Node | None, line: int, field_name: str) -> str | None:
    if node is None:
        source.problem(line, f'missing field "{field_name}"')
        return None
    name = node.value if isinstance(node, yaml.ScalarNode) else None
    if name not in CATEGORIES:
        shown = name if name is not None else "(not text)"
        source.problem(node, f'unknown category "{shown}" (expected one of: {", ".join(CATEGORIES)})')
        return None
    return name


def _unknown_class(keys: tuple[str, ...], known_classes: set[str]) -> str | None:
    return next((key[1:-1] for key in keys if key.startswith("{") and key[1:-1] not in known_classes), None)


def _build_rule(
    source: SourceFile, line: int, values: dict[str, yaml.Node], lookalikes: frozenset[str], known_classes: set[str]
) -> ContextRule | None:
    category = _category(source, values.get("category"), line, "category")
    near_node = values.get("near")
    near = source.text(near_node, 'field "near"') if near_node is not None else None
    if near_node is None:
        source.problem(line, 'missing field "near" (the context that changes the category)')
    near_keys = phrase_keys(near, lookalikes) if near else ()
    if near is not None and not near_keys:
        source.problem(near_node, f'near "{near}" has no words to match')
    unknown = _unknown_class(near_keys, known_classes)
    if unknown and near_node is not None:
        source.problem(near_node, f'near "{near}" uses unknown class {{{unknown}}}')
    outcomes = {name: _category(source, values[name], line, name) for name in ("becomes", "also") if name in values}
    if len(outcomes) != 1:
        source.problem(line, 'a rule needs exactly one of "becomes" or "also"')
        return None
    if category is None or not near_keys or unknown or None in outcomes.values():
        return None
    return ContextRule(
        category=category,
        near=near_keys,
        becomes=outcomes.get("becomes"),
        also=outcomes.get("also"),
        source=f"{source.path}:{line}",
    )


def _read_lexicon(paths: Sequence[Path | str]) -> tuple[Lexicon | None, list[str]]:
    model_paths = [Path(path) for path in paths if Path(path).name == MODEL_FILE_NAME]
    paths = [path for path in paths if Path(path).name != MODEL_FILE_NAME]
    model, model_problems = None, []
    for model_path in model_paths:
        try:
            model = load_model(model_path)
        except ModelError as exc:
            model_problems.append(str(exc))
    classes: dict[str, set[str]] = {}
    class_lines: dict[str, str] = {}
    lookalike_words: set[str] = set()
    sources = [SourceFile(path) for path in paths]
    parsed = [_parse_file(source, classes, class_lines, lookalike_words) for source in sources]
    lookalikes = frozenset(lookalike_words)
    known_classes = {*classes, *NUMBER_CLASSES}
    entries: list[LexiconEntry] = []
    for source, parsed_file in zip(sources, parsed, strict=True):
        first_line_of: dict[tuple[str, ...], int] = {}
        for line, values in parsed_file.entries:
            entry = _build_entry(source, line, values, parsed_file.language, lookalikes, known_classes)
            if entry is None:
                continue
            if entry.keys in first_line_of:
                source.problem(
                    line, f'duplicate phrase "{entry.phrase}" (reads the same as line {first_line_of[entry.keys]})'
                )
                continue
            first_line_of[entry.keys] = line
            entries.append(entry)
    rules = [
        rule
        for source, parsed_file in zip(sources, parsed, strict=True)
        for line, values in parsed_file.rules
        if (rule := _build_rule(source, line, values, lookalikes, known_classes)) is not None
    ]
    problems = [problem for source in sources for problem in source.problems] + model_problems
    if problems:
        return None, problems
    frozen_classes = {name: frozenset(members) for name, members in classes.items()}
    now = [keys for parsed_file in parsed for keys in parsed_file.now]
    negations = {word for parsed_file in parsed for word in parsed_file.negations}
    return Lexicon(entries, frozen_classes, lookalikes, rules, now, model, negations), []


def validate_lexicon_files(paths: Sequence[Path | str]) -> list[str]:
    """Every problem in the given lexicon files, one `FILE:LINE: message` line each (empty: valid)."""
    return _read_lexicon(paths)[1]


def load_lexicon(paths: Sequence[Path | str] | None = None) -> Lexicon:
    """Load and index lexicon files (default: the packaged ones, loaded once and cached).

    Raises LexiconError listing every problem when a file is invalid.
    """
    if paths is None:
        return _default_lexicon()
    lexicon, problems = _read_lexicon(paths)
    if lexicon is None:
        raise LexiconError(problems)
    return lexicon


@functools.cache
def _default_lexicon() -> Lexicon:
    return load_lexicon(default_lexicon_paths())
