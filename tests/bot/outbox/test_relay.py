"""The outbox relay's own rules: order per key, backoff, dead letters, one claim per event.

The deliverer registered here stands in for the network edge (an HTTP POST); everything above it is real.
"""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.outbox.delivery import DELIVERERS, RetryLater, Undeliverable, load_deliverers
from bot.outbox.relay import Relay, backoff, deliver_now
from bot.outbox.writing import enqueue_provider_event
from models import OutboxEvent, OutboxKind, utcnow


class Edge:
    """Records what reached the other side; fails while told to."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.fail_with: Exception | None = None
        self.lock = threading.Lock()

    def __call__(self, runtime, event: OutboxEvent) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        with self.lock:
            self.received.append(event.id)


@pytest.fixture
def edge(monkeypatch):
    edge = Edge()
    load_deliverers()  # first, or a relay importing the real one later would put it back over this one
    monkeypatch.setitem(DELIVERERS, OutboxKind.PROVIDER_WEBHOOK, edge)
    return edge


def add(runtime, key: str, n: int) -> list[str]:
    with runtime.session() as session, session.begin():
        events = [
            enqueue_provider_event(session, "referral.created", {"n": i}, provider_id=None, ordering_key=key)
            for i in range(n)
        ]
        return events


def make_due(runtime) -> None:
    with runtime.session() as session, session.begin():
        session.execute(sa.update(OutboxEvent).values(next_attempt_at=utcnow() - timedelta(seconds=1)))


def test_events_of_one_referral_are_delivered_in_the_order_they_were_written(runtime, edge):
    first = add(runtime, "referral:1", 3)
    second = add(runtime, "referral:2", 2)
    relay = Relay(runtime)
    while relay.run_once():
        pass
    assert [i for i in edge.received if i in first] == first
    assert [i for i in edge.received if i in second] == second


def test_a_failed_event_holds_back_later_events_of_its_key_until_it_is_delivered(runtime, edge):
    ids = add(runtime, "referral:1", 2)
    edge.fail_with = RetryLater("provider answered 500")
    relay = Relay(runtime)
    relay.run_once()
    assert edge.received == []
    edge.fail_with = None
    make_due(runtime)
    relay.run_once()
    make_due(runtime)
    relay.run_once()
    assert edge.received == ids


def test_backoff_grows_and_is_capped():
    assert backoff(1) <= timedelta(seconds=2.1)
    assert backoff(30) <= timedelta(minutes=10, milliseconds=100)


def test_an_event_older_than_the_maximum_age_is_dead_lettered_loudly(runtime, edge, caplog):
    [event_id] = add(runtime, "referral:1", 1)
    with runtime.session() as session, session.begin():
        session.get(OutboxEvent, event_id).created_at = utcnow() - timedelta(hours=73)
    edge.fail_with = RetryLater("connection refused")
    [attempt] = Relay(runtime).run_once()
    assert attempt.dead
    assert "dead-lettered" in caplog.text
    with runtime.session() as session:
        assert session.get(OutboxEvent, event_id).dead_at is not None


def test_an_undeliverable_event_stops_being_tried(runtime, edge):
    add(runtime, "contact:1", 1)
    edge.fail_with = Undeliverable("the person blocked the bot")
    [attempt] = Relay(runtime).run_once()
    assert attempt.dead and not attempt.delivered


def test_a_claimed_event_cannot_be_claimed_again_until_its_lease_runs_out(runtime, edge):
    add(runtime, "referral:1", 1)
    assert len(Relay(runtime).claim()) == 1
    assert Relay(runtime).claim() == []


def test_four_relays_at_once_deliver_every_event_exactly_once(runtime, edge):
    keys = [f"referral:{n}" for n in range(20)]
    for key in keys:
        add(runtime, key, 3)
    stop = threading.Event()
    relays = [threading.Thread(target=Relay(runtime).run_forever, args=(stop, 0.01)) for _ in range(4)]
    for thread in relays:
        thread.start()
    deadline = utcnow() + timedelta(seconds=60)
    while len(edge.received) < 60 and utcnow() < deadline:
        stop.wait(0.05)
    stop.set()
    for thread in relays:
        thread.join()
    assert len(edge.received) == 60
    assert len(set(edge.received)) == 60


def test_deliver_now_sends_at_once_but_leaves_a_held_back_event_for_the_relay(runtime, edge):
    first, second = add(runtime, "referral:1", 2)
    assert [attempt.event_id for attempt in deliver_now(runtime, [second])] == []
    assert [attempt.delivered for attempt in deliver_now(runtime, [first])] == [True]
    assert edge.received == [first]
