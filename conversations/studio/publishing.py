"""What is checked before a version goes live, and what a coordinator is shown.

For every kind: the files are checked (errors block, warnings are shown) and every transcript test is run
with them (a failure blocks). For the safeguarding words, the labelled corpus is also read by the draft
lexicon and by the live one: publishing is refused when the recall of ANY category goes down, not only the
overall figure, because a drop in a small category (suicide and self-harm has a few dozen examples) hardly
moves the total. Per-category recall that does not drop means overall recall cannot drop either.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.safeguarding import CATEGORIES, Lexicon, assess
from conversations.studio.content import Checked, check
from conversations.studio.testrun import TestRun, run_tests
from models.script_release import ReleaseKind

# The labelled messages the safeguarding tests use; kept with the tests, read from the source tree.
# Packaged with the bot (not under tests/), so publishing the lexicon works in the production image too.
CORPUS_FILE = Path(__file__).resolve().parents[2] / "bot" / "data" / "safeguarding_corpus.yaml"


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
    missed: list[str]  # messages the draft misses that the live lexicon caught
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


@dataclass
class PublishCheck:
    kind: str
    files: dict[str, str]
    fingerprint: str
    checked: Checked
    diffs: list[FileDiff]
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
            found.append(f"The new words would miss messages the live ones catch ({names}).")
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


def load_corpus() -> list[dict[str, Any]] | None:
    if not CORPUS_FILE.is_file():
        return None
    return yaml.safe_load(CORPUS_FILE.read_text(encoding="utf-8"))


def compare_recall(draft: Lexicon, live: Lexicon | None, corpus: list[dict[str, Any]] | None = None) -> RecallReport:
    corpus = corpus if corpus is not None else load_corpus()
    if corpus is None:
        error = (
            f"The labelled messages that check the safeguarding words are not installed here ({CORPUS_FILE}), "
            "so a new version cannot be checked, and is not published."
        )
        return RecallReport([], 0.0, 0.0, [], error=error)
    draft_hits, draft_totals, draft_found = _recall_counts(draft, corpus)
    live_hits, _, live_found = _recall_counts(live, corpus)
    rows = [
        CategoryRecall(
            category,
            draft_totals[category],
            live=_ratio(live_hits, draft_totals, category),
            draft=_ratio(draft_hits, draft_totals, category),
        )
        for category in CATEGORIES
    ]
    total = sum(draft_totals.values())
    missed = [
        message["text"]
        for index, message in enumerate(corpus)
        if (live_found[index] - draft_found[index]) & set(message["categories"])
    ]
    return RecallReport(
        rows,
        sum(live_hits.values()) / total if total else 1.0,
        sum(draft_hits.values()) / total if total else 1.0,
        missed,
    )


def _recall_counts(
    lexicon: Lexicon | None, corpus: list[dict[str, Any]]
) -> tuple[Counter[str], Counter[str], list[set[str]]]:
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    found_per_message: list[set[str]] = []
    for message in corpus:
        found = set(assess(message["text"], lexicon=lexicon).categories)
        found_per_message.append(found)
        for category in message["categories"]:
            totals[category] += 1
            hits[category] += category in found
    return hits, totals, found_per_message


def _ratio(hits: Counter[str], totals: Counter[str], category: str) -> float:
    return hits[category] / totals[category] if totals[category] else 1.0


def diff_files(before: Mapping[str, str], after: Mapping[str, str]) -> list[FileDiff]:
    """What changed from ``before`` to ``after``, file by file, as lines a person can read."""
    diffs = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        status = "added" if old is None else "removed" if new is None else "changed"
        diff = FileDiff(name, status)
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
