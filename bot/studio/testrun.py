"""Run transcript tests against a set of files, in a separate process.

The transcript runner builds a runtime on a throwaway database with a key of its own, and the encryption
keys are set for the whole process: done inside the web app, it would swap the keys every request uses.
So the studio starts ``python -m bot.studio.testrun``, gives it the files as JSON on stdin and
reads one JSON answer on stdout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.releases import build, check
from bot.studio.transcripts import TranscriptRunner

TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class TestResult:
    file: str
    name: str
    failures: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class TestRun:
    results: list[TestResult] = field(default_factory=list)
    error: str | None = None  # the tests could not be run at all

    @property
    def failed(self) -> list[TestResult]:
        return [result for result in self.results if not result.ok]

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failed


def run_tests(
    scripts: dict[str, str], lexicon: dict[str, str] | None = None, helplines: dict[str, str] | None = None
) -> TestRun:
    """Run every transcript among ``scripts`` against those scripts (and this lexicon and these helplines).

    A run depends only on the files (and the day), so the same files give the answer of their last run: the
    coordinator's checks page and then the publishing of what it checked run the tests once, not twice."""
    job = json.dumps({"scripts": scripts, "lexicon": lexicon, "helplines": helplines}, sort_keys=True)
    try:
        return _run_once_per_files(job, date.today())
    except _NotRun as not_run:
        return TestRun(error=str(not_run))


class _NotRun(Exception):
    """The tests could not be run at all (raised, so that the cache never keeps it: the next try runs again)."""


@lru_cache(maxsize=8)
def _run_once_per_files(job: str, _day: date) -> TestRun:
    env = {name: value for name, value in os.environ.items() if not name.startswith("RHI_")}
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "bot.studio.testrun"],
            input=job,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise _NotRun(f"the tests took longer than {TIMEOUT_SECONDS} seconds and were stopped") from None
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["no message"])[-1]
        raise _NotRun(f"the tests could not run ({last})")
    answer = json.loads(completed.stdout)
    return TestRun([TestResult(item["file"], item["name"], tuple(item["failures"])) for item in answer["results"]])


def _main() -> int:
    job: dict[str, Any] = json.loads(sys.stdin.read())
    checked = check("scripts", job["scripts"])
    if not checked.ok:
        print("the scripts have errors; fix them before running the tests", file=sys.stderr)
        return 1
    results = []
    with tempfile.TemporaryDirectory(prefix="rhi-studio-tests-") as workdir:
        runner = TranscriptRunner(checked.built, Path(workdir))
        if job.get("lexicon") is not None:
            runner.runtime.lexicon = build("lexicon", job["lexicon"])
        if job.get("helplines") is not None:
            runner.runtime.helplines = build("helplines", job["helplines"])
        try:
            for transcript in checked.transcripts:
                failures = runner.run(transcript)
                results.append(
                    {"file": str(transcript.path), "name": transcript.name, "failures": [str(f) for f in failures]}
                )
        finally:
            runner.close()
    json.dump({"results": results}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(_main())
