"""The three kinds of files coordinators edit, and what checking one set of them means.

- ``scripts``: the conversation scripts (``welcome.yaml``...) and their transcript tests
  (``transcripts/<name>.yaml``), which travel together so a restored version brings back its own tests;
- ``lexicon``: the safeguarding phrase files (``en.yaml``, ``cy.yaml``, ``emoji.yaml``);
- ``helplines``: ``helplines.yaml``.

A set of files is always checked as a whole and is self-contained: a release never borrows from the files
shipped with the application. Every problem is a ``Finding`` a coordinator reads as ``FILE:LINE: message``.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from bot.safeguarding.helplines import HELPLINES_FILE, Helplines, HelplinesError, load_helplines
from bot.safeguarding.lexicon import LEXICON_DIR, MODEL_FILE_NAME, Lexicon, LexiconError, load_lexicon
from conversations.catalog import Catalog
from conversations.script import BUILTIN_SCRIPTS_DIR, ENTRY_SCRIPT, SYSTEM_SCRIPT, Script
from conversations.transcripts import Transcript, TranscriptError, load_transcript
from conversations.validate import check_sources
from conversations.yamlsource import MAX_SCRIPT_BYTES
from models.script_release import ReleaseKind

Level = Literal["error", "warning"]

BUILTIN_TRANSCRIPTS_DIR = BUILTIN_SCRIPTS_DIR.parent / "transcripts"
TRANSCRIPTS_FOLDER = "transcripts/"
# A lexicon file is a long list of phrases; a helplines file is one page.
MAX_LEXICON_FILE_BYTES = 256 * 1024
# The learned model beside the lexicon is built by `rhi safeguarding train`, never written by hand.
MAX_MODEL_FILE_BYTES = 16 * 1024 * 1024
MAX_HELPLINES_FILE_BYTES = 64 * 1024
MAX_TRANSCRIPT_BYTES = 64 * 1024
MAX_FILES_PER_KIND = 200
_SCRIPT_NAME = re.compile(r"[a-z][a-z0-9_]{0,60}\.yaml")
_TRANSCRIPT_NAME = re.compile(r"transcripts/[a-z0-9][a-z0-9_]{0,80}\.yaml")


@dataclass(frozen=True)
class Finding:
    file: str
    line: int  # 0: about the whole file or set
    message: str
    level: Level = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: warning: {self.message}" if self.level == "warning" else f"{where}: {self.message}"


@dataclass
class Checked:
    """The result of checking a set of files: what is wrong, and what the bot would run when nothing is."""

    findings: list[Finding]
    built: Any = None  # a Catalog, Lexicon or Helplines; None when there are errors
    transcripts: list[Transcript] = field(default_factory=list)
    scripts: dict[str, Script] = field(default_factory=dict)  # every script that loaded, even with other errors

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.level == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class KindInfo:
    kind: ReleaseKind
    title: str  # as a coordinator says it
    what: str  # one sentence for the page
    file_limit: int

    def max_bytes(self, name: str) -> int:
        if self.kind == ReleaseKind.LEXICON and name == MODEL_FILE_NAME:
            return MAX_MODEL_FILE_BYTES
        return MAX_TRANSCRIPT_BYTES if name.startswith(TRANSCRIPTS_FOLDER) else self.file_limit


KINDS: dict[str, KindInfo] = {
    ReleaseKind.SCRIPTS: KindInfo(
        ReleaseKind.SCRIPTS,
        "Conversation scripts",
        "What the bot says and asks, in English and Welsh, and the test conversations that check it.",
        MAX_SCRIPT_BYTES,
    ),
    ReleaseKind.LEXICON: KindInfo(
        ReleaseKind.LEXICON,
        "Safeguarding words",
        "The words and phrases that make the bot alert a person at the service straight away, and the learned"
        " model that reads beside them.",
        MAX_LEXICON_FILE_BYTES,
    ),
    ReleaseKind.HELPLINES: KindInfo(
        ReleaseKind.HELPLINES,
        "Helplines",
        "The helpline numbers and the safety message the bot sends when a message raises a concern.",
        MAX_HELPLINES_FILE_BYTES,
    ),
}


def builtin_files(kind: str) -> dict[str, str]:
    """The files shipped with the application: what the bot runs until something is published."""
    if kind == ReleaseKind.SCRIPTS:
        files = {path.name: path.read_text(encoding="utf-8") for path in sorted(BUILTIN_SCRIPTS_DIR.glob("*.yaml"))}
        files.update(
            {
                TRANSCRIPTS_FOLDER + path.name: path.read_text(encoding="utf-8")
                for path in sorted(BUILTIN_TRANSCRIPTS_DIR.glob("*.yaml"))
            }
        )
        return files
    if kind == ReleaseKind.LEXICON:
        files = {path.name: path.read_text(encoding="utf-8") for path in sorted(LEXICON_DIR.glob("*.yaml"))}
        model = shipped_model()
        if model is not None:
            files[MODEL_FILE_NAME] = model
        return files
    return {"helplines.yaml": HELPLINES_FILE.read_text(encoding="utf-8")}


@functools.cache
def shipped_model() -> str | None:
    """The learned model shipped with the application (3 MB: read once a process), or None."""
    path = LEXICON_DIR / MODEL_FILE_NAME
    return path.read_text(encoding="utf-8") if path.is_file() else None


def name_problem(kind: str, name: str) -> str | None:
    """Why ``name`` cannot be a file of this kind, or None."""
    if kind == ReleaseKind.HELPLINES:
        return None if name == "helplines.yaml" else 'the helplines live in one file, "helplines.yaml"'
    if kind == ReleaseKind.LEXICON and name == MODEL_FILE_NAME:
        return None
    if kind == ReleaseKind.SCRIPTS and name.startswith(TRANSCRIPTS_FOLDER):
        if _TRANSCRIPT_NAME.fullmatch(name):
            return None
        return "a test's file name uses small letters, digits and _ and ends in .yaml"
    if _SCRIPT_NAME.fullmatch(name):
        return None
    return "a file name uses small letters, digits and _, starts with a letter and ends in .yaml"


def is_model(kind: str, name: str) -> bool:
    """Whether the file is the learned model (JSON, built by `rhi safeguarding train`, not edited here)."""
    return kind == ReleaseKind.LEXICON and name == MODEL_FILE_NAME


def file_problem(kind: str, name: str, text: str) -> Finding | None:
    """The first thing that stops a file being read at all: its name, its size, or unsafe YAML."""
    problem = name_problem(kind, name)
    if problem:
        return Finding(name, 0, problem)
    limit = KINDS[kind].max_bytes(name)
    if len(text.encode("utf-8")) > limit:
        return Finding(name, 0, f"this file is larger than {limit // 1024} KiB, the most a file may be; split it")
    unsafe = None if is_model(kind, name) else unsafe_yaml(text)
    if unsafe:
        return Finding(name, unsafe[0], unsafe[1])
    return None


def unsafe_yaml(text: str) -> tuple[int, str] | None:
    """(line, why) when the text uses YAML features these files never need and that can do harm.

    Tags (``!!python/object``...) can ask a loader to build objects; anchors and aliases (``&a``, ``*a``) can
    make a few lines expand to gigabytes. Everything is loaded with safe loaders anyway; this refuses such
    text up front, with a message that says what to remove. Broken YAML is left to the loaders to explain.
    """
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                return line, "anchors and aliases (& and *) are not allowed in these files; write the text out in full"
            if getattr(event, "tag", None) and not isinstance(event, yaml.DocumentStartEvent):
                return line, f'tags such as "{event.tag}" are not allowed in these files; remove it'
    except yaml.YAMLError:
        return None
    return None


def check(kind: str, files: Mapping[str, str]) -> Checked:
    """Check a whole set of files of one kind, as it would be published."""
    if len(files) > MAX_FILES_PER_KIND:
        return Checked([Finding("", 0, f"there are more than {MAX_FILES_PER_KIND} files; remove some")])
    findings = [problem for name, text in sorted(files.items()) if (problem := file_problem(kind, name, text))]
    if findings:  # fix these first: the rest of the checks would only repeat them in other words
        return Checked(findings)
    if kind == ReleaseKind.SCRIPTS:
        return _check_scripts(files)
    if kind == ReleaseKind.LEXICON:
        return _check_lexicon(files)
    return _check_helplines(files)


def build(kind: str, files: Mapping[str, str]) -> Catalog | Lexicon | Helplines:
    """What the bot runs for these files; raises ValueError when they have errors (a release never has)."""
    checked = check(kind, files)
    if not checked.ok:
        raise ValueError(f"the {kind} files have errors:\n" + "\n".join(str(error) for error in checked.errors))
    return checked.built


def script_files(files: Mapping[str, str]) -> dict[str, str]:
    return {name: text for name, text in files.items() if not name.startswith(TRANSCRIPTS_FOLDER)}


def transcript_files(files: Mapping[str, str]) -> dict[str, str]:
    return {name: text for name, text in files.items() if name.startswith(TRANSCRIPTS_FOLDER)}


# --- each kind -----------------------------------------------------------------------------------------


def _check_scripts(files: Mapping[str, str]) -> Checked:
    scripts = script_files(files)
    result = check_sources({Path(name): text for name, text in scripts.items()}, builtin_dir=None)
    findings = [Finding(str(problem.file), problem.line, problem.message, problem.level) for problem in result.problems]
    needed = {
        ENTRY_SCRIPT: "every conversation starts with it",
        SYSTEM_SCRIPT: "it holds the commands and texts that work everywhere",
    }
    for name, why in needed.items():
        if f"{name}.yaml" not in scripts:
            message = f'there is no "{name}.yaml" script, and the bot needs one: {why}'
            findings.append(Finding(f"{name}.yaml", 0, message))
    transcripts: list[Transcript] = []
    with tempfile.TemporaryDirectory(prefix="rhi-studio-") as workdir:
        for name, text in sorted(transcript_files(files).items()):
            path = Path(workdir) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            try:
                transcripts.append(dataclasses.replace(load_transcript(path), path=Path(name)))
            except TranscriptError as exc:
                findings.append(_finding_from_line(str(exc), workdir))
    findings.sort(key=lambda finding: (finding.level != "error", finding.file, finding.line))
    built = Catalog(result.scripts) if not any(finding.level == "error" for finding in findings) else None
    return Checked(findings, built, transcripts, dict(result.scripts))


def _check_lexicon(files: Mapping[str, str]) -> Checked:
    if not files:
        return Checked([Finding("", 0, "the safeguarding words need at least one file")])
    with tempfile.TemporaryDirectory(prefix="rhi-studio-") as workdir:
        paths = _write(workdir, files)
        try:
            return Checked([], load_lexicon(paths))
        except LexiconError as exc:
            return Checked([_finding_from_line(line, workdir) for line in exc.problems])


def _check_helplines(files: Mapping[str, str]) -> Checked:
    if "helplines.yaml" not in files:
        return Checked([Finding("helplines.yaml", 0, 'the helplines file "helplines.yaml" is missing')])
    with tempfile.TemporaryDirectory(prefix="rhi-studio-") as workdir:
        [path] = _write(workdir, files)
        try:
            return Checked([], load_helplines(path))
        except HelplinesError as exc:
            return Checked([_finding_from_line(line, workdir) for line in exc.problems])


def _write(workdir: str, files: Mapping[str, str]) -> list[Path]:
    paths = []
    for name, text in sorted(files.items()):
        path = Path(workdir) / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


_LOCATED = re.compile(r"(?P<file>[^:\n]+):(?P<line>\d+): (?P<message>.*)", re.DOTALL)


def _finding_from_line(line: str, workdir: str) -> Finding:
    """A ``FILE:LINE: message`` line about a file written to ``workdir``, as a Finding on the file's name."""
    line = line.replace(str(Path(workdir)) + "/", "")
    match = _LOCATED.fullmatch(line)
    if match is None:
        return Finding("", 0, line)
    return Finding(match["file"], int(match["line"]), match["message"])
