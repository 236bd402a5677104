"""Jobs ``rhi worker`` runs every few seconds beside the outbox relay (re-notifying duty workers of an
unacknowledged alert, reminders before an interview). Each job does its own work in its own transaction
and must be safe to run in several workers at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.runtime import Runtime

PeriodicJob = Callable[["Runtime", datetime], int]  # returns how many things it did, for the log
PERIODIC_JOBS: dict[str, PeriodicJob] = {}


def periodic(name: str) -> Callable[[PeriodicJob], PeriodicJob]:
    def decorate(job: PeriodicJob) -> PeriodicJob:
        PERIODIC_JOBS[name] = job
        return job

    return decorate


def jobs() -> dict[str, PeriodicJob]:
    """Every periodic job, with the modules that define them imported (they register on import)."""
    import bot.availability
    import bot.duty
    import bot.reminders  # noqa: F401

    return PERIODIC_JOBS
