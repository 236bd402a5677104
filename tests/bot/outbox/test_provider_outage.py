"""The provider's case system down for two minutes while young people keep writing: alerts never wait
behind anything, the duty rota hears of the outage once, the worker says so in its log and on /healthz.

A fault test, bounded in time: the relay runs on the runtime's clock, moved a second at a time by the test
(no sleeping), against the provider's case system at the network edge (a real local HTTP server answering
503 for two simulated minutes and a little more, then 200).
"""

import logging
import statistics
from collections.abc import Iterator
from datetime import datetime

import pytest
import sqlalchemy as sa
from auxil.clock import SimulatedClock
from auxil.provider_endpoint import ProviderEndpoint, use_as_demo_webhook
from auxil.providers import demo_login
from auxil.records import staff_messages, with_rota

from bot.demo import DEMO_PROVIDER_SLUG
from bot.outbox.relay import Relay
from bot.outbox.writing import enqueue_provider_event
from bot.worker import run_periodic_jobs
from models import OutboxEvent, OutboxKind, Provider
from webhooks.app import create_app

REFERRALS = 4
OUTAGE_SECONDS = 130  # a little over the two minutes after which an outage is told
PERIODIC_EVERY = 5  # as ``rhi worker`` runs its periodic jobs
EXCERPT = "i cant do this anymore im going to end it tonight"


@pytest.fixture
def webhook(runtime) -> Iterator[ProviderEndpoint]:
    with ProviderEndpoint() as endpoint:
        yield use_as_demo_webhook(runtime, endpoint)


class Service:
    """The bot writing events as young people write to it, and one ``rhi worker`` relaying them, on a clock
    the test moves."""

    def __init__(self, runtime) -> None:
        self.runtime = runtime
        self.clock = runtime.clock = SimulatedClock()
        self.relay = Relay(runtime)
        self.seconds = 0
        with runtime.session() as session:
            self.provider_id = session.scalars(sa.select(Provider.id).where(Provider.slug == DEMO_PROVIDER_SLUG)).one()
        self.ordinary: dict[str, list[str]] = {}
        self.alerts: dict[str, list[str]] = {}
        self.alert_raised_at: dict[str, datetime] = {}

    def ordinary_events(self) -> None:
        with self.runtime.session() as session, session.begin():
            for referral in range(1, REFERRALS + 1):
                key = f"referral:{referral}"
                data = {"referral_id": referral, "second": self.seconds}
                event_id = enqueue_provider_event(
                    session, "booking.requested", data, provider_id=self.provider_id, ordering_key=key
                )
                self.ordinary.setdefault(key, []).append(event_id)

    def alert(self, referral: int) -> None:
        key = f"referral:{referral}"
        data = {"referral_id": referral, "severity": "immediate", "excerpt": EXCERPT}
        with self.runtime.session() as session, session.begin():
            event_id = enqueue_provider_event(
                session, "safeguarding.alert", data, provider_id=self.provider_id, ordering_key=key
            )
        self.alerts.setdefault(key, []).append(event_id)
        self.alert_raised_at[event_id] = self.clock()

    def tick(self) -> None:
        """One simulated second of the worker: everything due is tried, and the periodic jobs run."""
        while self.relay.run_once():
            pass
        if self.seconds % PERIODIC_EVERY == 0:
            run_periodic_jobs(self.runtime)
        self.clock.advance(1)
        self.seconds += 1

    def provider_events_waiting(self) -> int:
        with self.runtime.session() as session:
            return session.scalar(
                sa.select(sa.func.count()).where(
                    OutboxEvent.kind == OutboxKind.PROVIDER_WEBHOOK, OutboxEvent.delivered_at.is_(None)
                )
            )

    def delivered_at(self, event_id: str) -> datetime:
        with self.runtime.session() as session:
            return session.get(OutboxEvent, event_id).delivered_at


def told_of_outage(runtime) -> list[dict]:
    return [message for message in staff_messages(runtime) if "case system" in message["replies"][0]["text"]]


def test_alerts_raised_in_a_two_minute_outage_reach_the_provider_within_30_s_of_its_recovery(
    runtime, webhook: ProviderEndpoint, caplog
):
    caplog.set_level(logging.WARNING)
    with_rota(runtime)
    health = create_app(runtime, {"TESTING": True}).test_client()
    # The simulated clock starts a second ahead of the real time the outbox stamps events with: built after the
    # app (which took over a second on a busy machine), so the first events are due at its first second.
    service = Service(runtime)
    outage_began = service.clock()

    webhook.answer(503)
    for second in range(OUTAGE_SECONDS):
        if second % 20 == 0:
            service.ordinary_events()  # bookings, changes: the everyday traffic of the referrals
        if second % 30 == 15:
            for referral in range(1, REFERRALS + 1):
                service.alert(referral)
        service.tick()
    assert service.provider_events_waiting() == sum(map(len, service.ordinary.values())) + 4 * REFERRALS

    # During the outage: the duty rota was told once, on their own channel; the worker said so; /healthz too.
    [told] = told_of_outage(runtime)
    assert told["channel"] == "sms" and told["address"] == "+447700900001"
    assert EXCERPT not in told["replies"][0]["text"]
    assert health.get("/healthz").get_json() == {"status": "ok", "provider_endpoint_failing": True}  # to anyone
    down = health.get("/healthz?detail=1", headers=demo_login(runtime, staff=False).auth).get_json()
    assert down["detail"]["provider_endpoint"] == {DEMO_PROVIDER_SLUG: f"down since {outage_began:%Y-%m-%dT%H:%M:%SZ}"}
    [started] = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert "down since" in started.getMessage()

    webhook.answer(200)
    recovered_at = service.clock()
    while service.provider_events_waiting() and service.seconds < OUTAGE_SECONDS + 20 * 60:  # bounded
        service.tick()
    assert service.provider_events_waiting() == 0

    # Every event exactly once; ordinary events in order per referral; alerts in order among themselves.
    written = [event_id for ids in [*service.ordinary.values(), *service.alerts.values()] for event_id in ids]
    assert sorted(webhook.applied) == sorted(written)
    assert len([receipt for receipt in webhook.received if receipt.status == 200]) == len(written)
    for ids in [*service.ordinary.values(), *service.alerts.values()]:
        assert [event_id for event_id in webhook.applied_order if event_id in ids] == ids

    # Every alert within 30 simulated seconds of the recovery.
    after_recovery = [
        (service.delivered_at(alert) - recovered_at).total_seconds() for ids in service.alerts.values() for alert in ids
    ]
    after_raised = [
        (service.delivered_at(alert) - raised).total_seconds() for alert, raised in service.alert_raised_at.items()
    ]
    print(
        f"\n{len(after_recovery)} alerts raised in a {OUTAGE_SECONDS} s outage reached the provider, after its "
        f"recovery: median {statistics.median(after_recovery):.1f} s, max {max(after_recovery):.1f} s; "
        f"after they were raised: median {statistics.median(after_raised):.1f} s, max {max(after_raised):.1f} s"
    )
    assert max(after_recovery) <= 30

    # Told once per outage, not once per event; the end logged once; /healthz back to plain ok.
    assert len(told_of_outage(runtime)) == 1
    [ended] = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert "is back" in ended.getMessage()
    assert health.get("/healthz").get_json() == {"status": "ok"}
    assert EXCERPT not in caplog.text


def test_a_blip_shorter_than_two_minutes_tells_nobody(runtime, webhook: ProviderEndpoint, caplog):
    caplog.set_level(logging.WARNING)
    with_rota(runtime)
    service = Service(runtime)
    webhook.answer(503)
    service.alert(1)
    for _ in range(60):
        service.tick()
    health = (
        create_app(runtime, {"TESTING": True})
        .test_client()
        .get("/healthz?detail=1", headers=demo_login(runtime, staff=False).auth)
        .get_json()
    )
    assert health["detail"]["provider_endpoint"][DEMO_PROVIDER_SLUG].startswith("failing since")
    webhook.answer(200)
    for _ in range(31):
        service.tick()
    assert service.provider_events_waiting() == 0
    assert told_of_outage(runtime) == []
    assert [record for record in caplog.records if record.name.startswith("bot.outbox")] == []


def test_a_failure_recorded_after_a_later_send_went_through_is_no_outage(runtime, webhook: ProviderEndpoint):
    """Two relays at once: one's send fails, another's, begun later, goes through and is recorded first."""
    from bot.alerts.duty import tell_of_provider_outages
    from bot.outbox.outages import record_failure

    with_rota(runtime)
    service = Service(runtime)
    began = service.clock()
    service.clock.advance(1)
    service.alert(1)
    service.tick()  # the endpoint took it
    with runtime.session() as session, session.begin():
        record_failure(session, service.provider_id, began, "the provider's webhook answered HTTP 503")
    service.clock.advance(180)
    assert tell_of_provider_outages(runtime, service.clock()) == 0
    assert told_of_outage(runtime) == []
    assert create_app(runtime, {"TESTING": True}).test_client().get("/healthz").get_json() == {"status": "ok"}
