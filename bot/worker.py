"""``rhi worker``: the outbox relay (provider webhooks, messages to contacts) and the periodic jobs (among them the
offers after an episode, their re-offers and "no response").

Run as many as you like against one PostgreSQL: the relays claim with ``FOR UPDATE SKIP LOCKED`` and each
periodic job is safe to run in several workers at once. SIGTERM (or Ctrl-C) lets the send in progress
finish, lets go of anything else claimed, and exits; a worker killed outright loses nothing either, as its
claims run out after ``relay.LEASE`` and another worker sends them.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from types import FrameType
from typing import TextIO

import sqlalchemy as sa

from bot.admin.retention import retention_job
from bot.alerts.duty import renotify_unacknowledged, renotify_unread, tell_of_provider_outages
from bot.booking.availability import extend_slot_horizons
from bot.booking.reminders import send_due_reminders
from bot.offers.offering import send_due_offers
from bot.outbox.provider_webhook import close_http_client
from bot.outbox.relay import DEFAULT_MAX_AGE, IDLE_POLL_SECONDS, Relay
from bot.runtime import Runtime
from bot.settings import ConfigError

log = logging.getLogger(__name__)

MAX_AGE_SETTING = "RHI_OUTBOX_MAX_AGE_HOURS"
PERIODIC_EVERY_SECONDS = 5.0


def max_age_from(environ: Mapping[str, str]) -> timedelta:
    """``RHI_OUTBOX_MAX_AGE_HOURS``: how long an event is retried before it is dead-lettered (default 72)."""
    value = environ.get(MAX_AGE_SETTING, "").strip()
    if not value:
        return DEFAULT_MAX_AGE
    try:
        hours = float(value)
    except ValueError:
        hours = 0.0
    if hours <= 0:
        raise ConfigError(f"error: {MAX_AGE_SETTING} must be a number of hours above 0, not {value!r}")
    return timedelta(hours=hours)


# A job run every few seconds beside the relay, in its own transaction, safe to run in several workers at once;
# it returns how many things it did, for the log.
PeriodicJob = Callable[[Runtime, datetime], int]
# Every periodic job, by the name the log gives it.
PERIODIC_JOBS: dict[str, PeriodicJob] = {
    "extend_slot_horizons": extend_slot_horizons,
    "renotify_duty_workers": renotify_unacknowledged,
    "renotify_unread_messages": renotify_unread,
    "tell_duty_of_provider_outages": tell_of_provider_outages,
    "send_reminders": send_due_reminders,
    "remove_words_past_their_time": retention_job,
    "send_offers": send_due_offers,
}


def run_periodic_jobs(runtime: Runtime) -> dict[str, int]:
    """Run each periodic job once; a failing job is logged and does not stop the others."""
    done: dict[str, int] = {}
    for name, job in PERIODIC_JOBS.items():
        try:
            done[name] = job(runtime, runtime.clock())
        except sa.exc.OperationalError as exc:
            # The database was busy (locked, a deadlock, a lock wait timed out) or briefly away: nothing was
            # done, and the job runs again in a few seconds. One line, naming the kind only: the statement's
            # values may be a child's.
            log.warning("periodic job %s: the database was busy (%s); it runs again next run", name, _kind(exc))
        except Exception:  # one broken job must not stop the relay or the other jobs
            log.exception("periodic job %s failed", name)
    return done


def _kind(exc: sa.exc.OperationalError) -> str:
    """The driver's words for what happened ("database is locked", "deadlock detected"), without details."""
    words = str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__
    return words[:80]


class Worker:
    def __init__(
        self,
        runtime: Runtime,
        *,
        relays: int = 1,
        max_age: timedelta = DEFAULT_MAX_AGE,
        poll_seconds: float = IDLE_POLL_SECONDS,
        periodic_seconds: float = PERIODIC_EVERY_SECONDS,
    ) -> None:
        self.runtime = runtime
        self.relays = [Relay(runtime, max_age=max_age) for _ in range(relays)]
        self.poll_seconds = poll_seconds
        self.periodic_seconds = periodic_seconds

    def run(self, stop: threading.Event) -> None:
        """Relay threads plus the periodic jobs in this thread, until ``stop`` is set."""
        threads = [
            threading.Thread(target=relay.run_forever, args=(stop, self.poll_seconds), name=f"relay-{n}", daemon=True)
            for n, relay in enumerate(self.relays, 1)
        ]
        for thread in threads:
            thread.start()
        try:
            while not stop.is_set():
                run_periodic_jobs(self.runtime)
                stop.wait(self.periodic_seconds)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
            close_http_client()


def run_until_signalled(worker: Worker, out: TextIO = sys.stderr) -> int:
    """Run ``worker`` until SIGTERM or SIGINT; the send in progress is finished first."""
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    names = ", ".join(PERIODIC_JOBS) or "none"
    max_age_hours = worker.relays[0].max_age / timedelta(hours=1) if worker.relays else 0
    print(
        f"rhi worker: {len(worker.relays)} relay(s), events dead-lettered after {max_age_hours:g} h, "
        f"periodic jobs: {names}. Stop with SIGTERM or Ctrl-C.",
        file=out,
        flush=True,
    )
    worker.run(stop)
    print("rhi worker: stopped.", file=out, flush=True)
    return 0
