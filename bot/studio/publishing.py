"""What is checked before a version goes live, and what a coordinator is shown.

For every kind: the files are checked (errors block, warnings are shown) and every transcript test is run
with them (a failure blocks). For the safeguarding words and model, the held-out messages (written apart,
never trained on) are also read by the draft and by the live version: publishing is refused when the recall
of immediate or urgent alerts, or of ANY category, goes down, not only the overall figure, because a drop in a
small category hardly moves the total. The held-out messages' words are never shown here: a coordinator who
saw them could add phrases for them, and the figures would stop telling the truth about new messages.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.releases import TRANSCRIPTS_FOLDER, Checked, check
from bot.safeguarding import (
    CATEGORIES,
    HELDOUT_DIR,
    MODEL_FILE_NAME,
    Figures,
    Labelled,
    Lexicon,
    Model,
    ModelError,
    Ratio,
    assess,
    corpus_paths,
    heldout_corpus,
    measure,
)
from bot.studio.testrun import TestRun, run_tests
from bot.studio.texts import TextField, TextsUnavailable, text_fields
from models.script_release import ReleaseKind


@dataclass(frozen=True)
class CategoryRecall:
    category: str
    examples: int
    live: float
    draft: float

    @property
    def dropped(self) -> bool:
        return self.draft < self.live - 1e-9


@dataclass(frozen=True)
class RecallReport:
    rows: list[CategoryRecall]
    overall_live: float
    overall_draft: float
    missed: int  # alerts of the held-out set the draft misses (their words are never shown: see above)
    error: str | None = None

    @property
    def dropped(self) -> list[CategoryRecall]:
        return [row for row in self.rows if row.dropped]

    @property
    def ok(self) -> bool:
        return self.error is None and not self.dropped


@dataclass
class FileDiff:
    name: str
    status: str  # "changed", "added" or "removed"
    lines: list[tuple[str, str]] = field(default_factory=list)  # (css class, text)
    added: int = 0
    removed: int = 0


@dataclass(frozen=True)
class TextChange:
    """One text of a script that changed, in both languages, with the changed words marked.

    Each language is a list of (mark, words): mark is "same", "added" or "removed"."""

    file: str
    where: str
    status: str  # "changed", "added" or "removed"
    en: list[tuple[str, str]]
    cy: list[tuple[str, str]]
    en_changed: bool
    cy_changed: bool


@dataclass
class PublishCheck:
    kind: str
    files: dict[str, str]
    fingerprint: str
    checked: Checked
    diffs: list[FileDiff]
    changes: list[TextChange] = field(default_factory=list)
    tests: TestRun | None = None
    recall: RecallReport | None = None

    @property
    def blockers(self) -> list[str]:
        """Why this cannot be published, in plain words; empty when it can."""
        found = []
        if not self.diffs:
            found.append("Nothing has changed: the draft is the same as what is live.")
        if self.checked.errors:
            found.append(f"The files have {len(self.checked.errors)} error(s); fix them first.")
        if self.tests is not None and self.tests.error:
            found.append(f"The test conversations could not be run: {self.tests.error}.")
        elif self.tests is not None and self.tests.failed:
            found.append(f"{len(self.tests.failed)} test conversation(s) no longer pass.")
        if self.recall is not None and self.recall.error:
            found.append(self.recall.error)
        elif self.recall is not None and self.recall.dropped:
            names = ", ".join(row.category for row in self.recall.dropped)
            found.append(f"The draft would catch fewer of the held-out alerts than the live version ({names}).")
        return found


def run_checks(
    kind: str,
    files: Mapping[str, str],
    live: Mapping[str, str],
    others: Mapping[str, Mapping[str, str]],
    fingerprint: str,
    checked: Checked | None = None,
) -> PublishCheck:
    """Everything a coordinator sees before publishing ``files`` of ``kind`` over ``live``.

    ``others`` holds the live files of the other kinds: the tests of a new lexicon run with the live scripts.
    """
    checked = checked or check(kind, files)
    result = PublishCheck(kind, dict(files), fingerprint, checked, diff_files(live, files))
    if kind == ReleaseKind.SCRIPTS:
        result.changes = text_diff(live, files)
    if not checked.ok or not result.diffs:
        return result
    if kind == ReleaseKind.SCRIPTS:
        result.tests = run_tests(dict(files), dict(others[ReleaseKind.LEXICON]), dict(others[ReleaseKind.HELPLINES]))
    elif kind == ReleaseKind.LEXICON:
        result.tests = run_tests(dict(others[ReleaseKind.SCRIPTS]), dict(files), dict(others[ReleaseKind.HELPLINES]))
        live_checked = check(kind, live)
        result.recall = compare_recall(checked.built, live_checked.built)
    else:
        result.tests = run_tests(dict(others[ReleaseKind.SCRIPTS]), dict(others[ReleaseKind.LEXICON]), dict(files))
    return result


def load_heldout() -> list[Labelled] | None:
    if not corpus_paths(HELDOUT_DIR):
        return None
    return heldout_corpus()


def compare_recall(draft: Lexicon, live: Lexicon | None, heldout: list[Labelled] | None = None) -> RecallReport:
    """Recall of the draft (words and model) against the live one on the held-out messages: per category, for
    immediate and urgent alerts, and over all alerts."""
    heldout = heldout if heldout is not None else load_heldout()
    if heldout is None:
        error = (
            f"The held-out messages that check the safeguarding words are not installed here ({HELDOUT_DIR}), "
            "so a new version cannot be checked, and is not published."
        )
        return RecallReport([], 0.0, 0.0, 0, error=error)
    draft_figures = measure(heldout, lambda text: assess(text, lexicon=draft), by_language=False)
    live_figures = measure(heldout, lambda text: assess(text, lexicon=live), by_language=False)

    def row(name: str, of: Callable[[Figures], Ratio]) -> CategoryRecall:
        return CategoryRecall(name, of(draft_figures).total, live=of(live_figures).value, draft=of(draft_figures).value)

    rows = [
        row("immediate alerts", lambda figures: figures.recall_immediate),
        row("urgent alerts", lambda figures: figures.recall_urgent),
        *(row(category, lambda figures, c=category: figures.categories[c]) for category in CATEGORIES),
    ]
    alerts = draft_figures.recall_immediate.total + draft_figures.recall_urgent.total

    def overall(figures: Figures) -> float:
        caught = figures.recall_immediate.hits + figures.recall_urgent.hits
        return caught / alerts if alerts else 1.0

    return RecallReport(rows, overall(live_figures), overall(draft_figures), len(draft_figures.missed))


def diff_files(before: Mapping[str, str], after: Mapping[str, str]) -> list[FileDiff]:
    """What changed from ``before`` to ``after``, file by file, as lines a person can read."""
    diffs = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        status = "added" if old is None else "removed" if new is None else "changed"
        diff = FileDiff(name, status)
        if name == MODEL_FILE_NAME:  # weights, not lines a person reads: say what it was trained on
            diff.lines = [("removed", f"- {_model_summary(old)}"), ("added", f"+ {_model_summary(new)}")]
            diffs.append(diff)
            continue
        lines = difflib.unified_diff(
            (old or "").splitlines(), (new or "").splitlines(), fromfile=name, tofile=name, lineterm="", n=2
        )
        for line in list(lines)[2:]:  # the two header lines name the file, which the page already does
            if line.startswith("@@"):
                diff.lines.append(("hunk", line))
            elif line.startswith("+"):
                diff.lines.append(("added", line))
                diff.added += 1
            elif line.startswith("-"):
                diff.lines.append(("removed", line))
                diff.removed += 1
            else:
                diff.lines.append(("same", line))
        diffs.append(diff)
    return diffs


def _model_summary(text: str | None) -> str:
    if text is None:
        return "no model"
    try:
        model = Model.from_json(text)
    except ModelError:
        return "a model that cannot be read"
    trained_on = model.trained_on
    return (
        f"a model trained on {trained_on.get('messages', '?')} messages "
        f"(corpus {str(trained_on.get('fingerprint', '?'))[:12]}), thresholds {model.thresholds}"
    )


# A word with its punctuation and the spaces after it; spaces at the very start on their own.
_WORD = re.compile(r"^\s+|\S+\s*")


def text_diff(before: Mapping[str, str], after: Mapping[str, str]) -> list[TextChange]:
    """The texts of the scripts that differ from ``before`` to ``after``, text by text (not line by line).

    A file that cannot be read as a script yet is left to the line-by-line diff (``diff_files``)."""
    changes: list[TextChange] = []
    for name in sorted(set(before) | set(after)):
        if name.startswith(TRANSCRIPTS_FOLDER) or before.get(name) == after.get(name):
            continue
        try:
            old = _fields(before.get(name))
            new = _fields(after.get(name))
        except TextsUnavailable:
            continue
        for key, text in new.items():
            was = old.get(key)
            if was is None:
                changes.append(_change(name, text.where, "added", None, text))
            elif (was.en, was.cy) != (text.en, text.cy):
                changes.append(_change(name, text.where, "changed", was, text))
        changes.extend(_change(name, was.where, "removed", was, None) for key, was in old.items() if key not in new)
    return changes


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """``after`` as (mark, words) runs against ``before``: "same", "removed" (only in before), "added"."""
    old, new = _WORD.findall(before), _WORD.findall(after)
    # Words are compared without their spaces: the last word of a text has none, and gaining a sentence after
    # it does not change it.
    matcher = difflib.SequenceMatcher(None, [w.strip() for w in old], [w.strip() for w in new], autojunk=False)
    runs: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            runs.append(("same", "".join(new[j1:j2])))
            continue
        if i2 > i1:
            runs.append(("removed", "".join(old[i1:i2])))
        if j2 > j1:
            runs.append(("added", "".join(new[j1:j2])))
    return runs


def _fields(source: str | None) -> dict[str, TextField]:
    return {} if source is None else {field.key: field for field in text_fields(source)}


def _change(name: str, where: str, status: str, old: TextField | None, new: TextField | None) -> TextChange:
    def runs(language: str) -> list[tuple[str, str]]:
        return word_diff(getattr(old, language) if old else "", getattr(new, language) if new else "")

    en_changed = (old.en if old else None) != (new.en if new else None)
    cy_changed = (old.cy if old else None) != (new.cy if new else None)
    return TextChange(name, where, status, runs("en"), runs("cy"), en_changed, cy_changed)
