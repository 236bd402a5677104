"""The worker's periodic jobs when several workers start together on one database."""

from __future__ import annotations

import logging
import sqlite3
import threading
from datetime import timedelta

import sqlalchemy as sa

import bot.worker as worker_module
from bot.runtime import Runtime
from bot.worker import PERIODIC_JOBS, run_periodic_jobs
from models import Slot


def test_two_workers_starting_together_run_every_job_without_a_database_error(runtime, caplog):
    """Both start two days on from the last refresh, so both find slots to add at the same moment."""
    later = runtime.clock() + timedelta(days=2)
    workers = [Runtime(runtime.settings, catalog=runtime.catalog) for _ in range(2)]
    for each in workers:
        each.clock = lambda: later
    done: list[dict[str, int]] = []
    start = threading.Barrier(len(workers))

    def run(each: Runtime) -> None:
        start.wait()
        done.append(run_periodic_jobs(each))

    threads = [threading.Thread(target=run, args=(each,)) for each in workers]
    with caplog.at_level(logging.INFO, logger="bot.worker"):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for each in workers:
        each.close()

    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING] == []
    assert [sorted(jobs) for jobs in done] == [sorted(PERIODIC_JOBS)] * 2
    assert sum(jobs["extend_slot_horizons"] for jobs in done) > 0
    with runtime.session() as session:
        starts = session.execute(sa.select(Slot.worker_id, Slot.starts_at)).all()
    assert len(starts) == len(set(starts))  # each time added once


def test_a_job_that_finds_the_database_busy_is_one_line_and_the_next_job_still_runs(runtime, monkeypatch, caplog):
    def busy(runtime: Runtime, now) -> int:
        raise sa.exc.OperationalError("UPDATE slots SET ...", {}, sqlite3.OperationalError("database is locked"))

    monkeypatch.setattr(worker_module, "PERIODIC_JOBS", {"busy": busy, "after": lambda runtime, now: 1})
    with caplog.at_level(logging.INFO, logger="bot.worker"):
        done = run_periodic_jobs(runtime)

    assert done == {"after": 1}
    [record] = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert record.exc_info is None  # no traceback for a database that was busy: it runs again in seconds
    assert "busy" in record.getMessage() and "next run" in record.getMessage()
    assert "slots" not in record.getMessage()  # the statement (and its values) stays out of the log
