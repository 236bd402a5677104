"""A clock for ``runtime.clock`` that only moves when the test moves it: simulated minutes pass in
milliseconds, and two readings between moves are the same moment."""

from __future__ import annotations

from datetime import datetime, timedelta

from models import utcnow

# The outbox stamps events with the real time (``bot.outbox.writing``) and the relay sends what is due by
# the runtime's clock, so the simulated one starts a little ahead: events written now are due now.
AHEAD = timedelta(seconds=1)


class SimulatedClock:
    def __init__(self) -> None:
        self.now = utcnow() + AHEAD

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
