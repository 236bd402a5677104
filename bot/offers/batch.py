"""A batch of episodes from a spreadsheet (CSV), as a service gets them from the police or the council.

Read first, saved after: ``read_batch`` checks every row with the same rules as one report (``check_report``) and
says each row's problems; nothing is saved until every row is valid, or the rows with problems are left out on
purpose (``save_batch``). The first line names the columns (``REPORT_FIELDS``, in any order; unknown ones are a
problem, not ignored, since a misspelt column would lose what it holds).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.offers.episodes import REPORT_FIELDS, EpisodeReport, Problem, Reported, check_report, report_episode
from bot.providers.actions import Invalid

if TYPE_CHECKING:
    from bot.runtime import Runtime

MAX_ROWS = 2000  # a council's month of returns fits many times over; a bigger file is split
MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class Row:
    line: int  # in the file, counting the header as line 1
    reference: str
    report: EpisodeReport | None
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class Batch:
    rows: tuple[Row, ...] = ()
    problems: tuple[str, ...] = ()  # with the file as a whole (no header, unknown columns, too long)

    @property
    def valid(self) -> list[EpisodeReport]:
        return [row.report for row in self.rows if row.report is not None]

    @property
    def with_problems(self) -> list[Row]:
        return [row for row in self.rows if row.problems]


def read_batch(
    text: str, areas: Sequence[str], now: datetime, timezone: ZoneInfo, known: Mapping[str, str] | None = None
) -> Batch:
    """Every row of the CSV ``text`` checked (``areas`` and ``known`` as for ``check_report``); nothing is saved."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        return Batch(problems=(f"the file is over {MAX_BYTES // 1000} kB: split it into smaller ones",))
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))  # a spreadsheet's byte-order mark is not a column
    columns = [name.strip().lower() for name in reader.fieldnames or []]
    if not columns:
        return Batch(problems=("the file is empty: the first line names the columns, e.g. " + ",".join(REPORT_FIELDS),))
    unknown = [name for name in columns if name not in REPORT_FIELDS]
    if unknown:
        return Batch(
            problems=(
                f"line 1: {', '.join(repr(name) for name in unknown)} is not a column we know; "
                f"the columns are {', '.join(REPORT_FIELDS)}",
            )
        )
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for number, record in enumerate(reader, start=2):
        if len(rows) >= MAX_ROWS:
            return Batch(problems=(f"the file has more than {MAX_ROWS} rows: split it into smaller ones",))
        given = {name.strip().lower(): value for name, value in record.items() if name is not None}
        if None in record:
            problems = [Problem("row", "has more values than there are columns")]
            rows.append(Row(number, str(given.get("reference") or ""), None, tuple(problems)))
            continue
        if not any((value or "").strip() for value in given.values()):
            continue  # a blank line at the end of a spreadsheet
        report, problems = check_report(given, areas, now, timezone, known)
        reference = str(given.get("reference") or "").strip()
        if reference and reference in seen:
            problems = [*problems, Problem("reference", f"is also on line {seen[reference]}")]
            report = None
        seen.setdefault(reference, number)
        rows.append(Row(number, reference, report, tuple(problems)))
    return Batch(rows=tuple(rows))


def save_batch(
    session: Session, runtime: Runtime, provider_id: int, batch: Batch, now: datetime, *, leave_out_problems: bool
) -> list[Reported]:
    """Record every valid row, in the caller's transaction; refused (nothing saved) while any row has a problem,
    unless those rows are left out on purpose."""
    if batch.problems:
        raise Invalid("file", batch.problems[0])
    if batch.with_problems and not leave_out_problems:
        count = len(batch.with_problems)
        raise Invalid("file", f"{count} row{'s' if count != 1 else ''} with problems: fix them, or leave them out")
    if not batch.valid:
        raise Invalid("file", "there is no row to save")
    return [report_episode(session, runtime, provider_id, report, now) for report in batch.valid]
