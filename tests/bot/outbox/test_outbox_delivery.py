"""Provider webhooks over real HTTP: signed, never lost, never applied twice, in order per referral.

The provider's case system is a real local HTTP server (``auxil.provider_endpoint``) that answers 500,
answers too late, refuses connections, then recovers. Everything between the outbox row and the socket is
the real relay and the real deliverer.
"""

import dataclasses
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from auxil.clock import SimulatedClock
from auxil.provider_endpoint import WEBHOOK_SECRET, ProviderEndpoint, use_as_demo_webhook

import bot.outbox.provider_webhook as provider_webhook
from bot.demo import DEMO_PROVIDER_SLUG
from bot.outbox.relay import Relay, deliver_now
from bot.outbox.writing import add_event, enqueue_provider_event
from models import OutboxEvent, OutboxKind, Provider, utcnow


@pytest.fixture
def provider_endpoint() -> Iterator[ProviderEndpoint]:
    with ProviderEndpoint() as endpoint:
        yield endpoint


@pytest.fixture
def webhook(runtime, provider_endpoint: ProviderEndpoint) -> ProviderEndpoint:
    """The demo provider's case system, at the network edge."""
    return use_as_demo_webhook(runtime, provider_endpoint)


@pytest.fixture
def quick_timeout(monkeypatch):
    """The contract's 10 seconds, shortened so a slow provider does not make the suite slow."""
    monkeypatch.setattr(provider_webhook, "SEND_TIMEOUT_SECONDS", 0.5)
    provider_webhook.close_http_client()
    yield
    provider_webhook.close_http_client()


def demo_provider_id(runtime) -> int:
    with runtime.session() as session:
        return session.scalars(sa.select(Provider.id).where(Provider.slug == DEMO_PROVIDER_SLUG)).one()


def add_events(runtime, referrals: int, per_referral: int, provider_id: int | None) -> dict[str, list[str]]:
    """Events interleaved across referrals, as a busy hour writes them; their ids by ordering key."""
    written: dict[str, list[str]] = {}
    with runtime.session() as session, session.begin():
        for n in range(per_referral):
            for referral in range(1, referrals + 1):
                key = f"referral:{referral}"
                data = {"referral_id": referral, "step": n}
                event_id = enqueue_provider_event(
                    session, "episode.reported", data, provider_id=provider_id, ordering_key=key
                )
                written.setdefault(key, []).append(event_id)
    return written


def make_due(runtime) -> None:
    """Time passes: every backoff has run out."""
    with runtime.session() as session, session.begin():
        session.execute(sa.update(OutboxEvent).values(next_attempt_at=utcnow() - timedelta(seconds=1)))


def relay_rounds(runtime, rounds: int) -> None:
    relay = Relay(runtime)
    for _ in range(rounds):
        relay.run_once()
        make_due(runtime)


def undelivered(runtime) -> int:
    with runtime.session() as session:
        return session.scalar(sa.select(sa.func.count()).where(OutboxEvent.delivered_at.is_(None)))


def verify_signature(receipt, secret: str = WEBHOOK_SECRET) -> None:
    """The provider's side of the contract, written with hmac directly (not the project's helper)."""
    parts = [part.split("=", 1) for part in receipt.headers["X-RHI-Signature"].split(",")]
    [timestamp] = [value for key, value in parts if key == "t"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + receipt.body, hashlib.sha256).hexdigest()
    # Any v1 may match: during a secret's rotation there is one per secret.
    assert any(hmac.compare_digest(value, expected) for key, value in parts if key == "v1")
    assert abs(int(timestamp) - time.time()) < 120


def test_every_event_arrives_once_in_order_through_errors_time_outs_and_refused_connections(
    runtime, webhook: ProviderEndpoint, quick_timeout
):
    written = add_events(runtime, referrals=6, per_referral=4, provider_id=demo_provider_id(runtime))

    webhook.answer(500)
    relay_rounds(runtime, 2)
    webhook.answer(200, delay=2.0)  # answers, but long after the sender gave up
    relay_rounds(runtime, 1)
    webhook.refuse()
    relay_rounds(runtime, 2)
    assert undelivered(runtime) == 24, "nothing counts as delivered without a 2xx the relay saw"

    webhook.listen()  # recovered, on the same address
    webhook.answer(200)
    relay_rounds(runtime, 8)
    assert undelivered(runtime) == 0

    assert set(webhook.applied) == {event_id for ids in written.values() for event_id in ids}
    assert len(webhook.applied_order) == 24, "each event applied exactly once"
    for receipt in webhook.received:
        event = receipt.event
        assert receipt.key == event["id"]
        assert receipt.headers["Content-Type"] == "application/json"
        verify_signature(receipt)
    retried = [r for r in webhook.received if r.key in webhook.applied and r is not webhook.applied[r.key]]
    assert retried, "the failures above made the relay send some events again"
    for receipt in retried:  # the same event, byte for byte, so the receiver can de-duplicate it
        assert receipt.body == webhook.applied[receipt.key].body
    for key, ids in written.items():
        assert [event_id for event_id in webhook.applied_order if event_id in ids] == ids, f"order of {key}"


def test_the_signature_is_an_hmac_of_the_timestamp_and_the_raw_body(runtime, webhook: ProviderEndpoint):
    add_events(runtime, referrals=1, per_referral=1, provider_id=demo_provider_id(runtime))
    Relay(runtime).run_once()
    [receipt] = webhook.received
    verify_signature(receipt)
    body = json.loads(receipt.body)
    assert set(body) == {"id", "type", "created_at", "data"}
    assert body["type"] == "episode.reported" and body["created_at"].endswith("Z")
    assert receipt.headers["Idempotency-Key"] == body["id"]
    with pytest.raises(AssertionError):
        verify_signature(receipt, secret="another provider's secret")


def test_a_provider_that_asks_us_to_wait_is_obeyed(runtime, webhook: ProviderEndpoint):
    add_events(runtime, referrals=1, per_referral=1, provider_id=demo_provider_id(runtime))
    webhook.answer(503, retry_after="120")
    [attempt] = Relay(runtime).run_once()
    assert not attempt.delivered
    with runtime.session() as session:
        event = session.scalars(sa.select(OutboxEvent)).one()
        assert event.next_attempt_at >= utcnow() + timedelta(seconds=115)
        assert event.last_error == "the provider's webhook answered HTTP 503"


def test_a_redirect_is_not_a_delivery(runtime, webhook: ProviderEndpoint):
    add_events(runtime, referrals=1, per_referral=1, provider_id=demo_provider_id(runtime))
    webhook.answer(302)
    [attempt] = Relay(runtime).run_once()
    assert not attempt.delivered and not attempt.dead


def test_the_environment_webhook_takes_events_of_the_one_provider_without_its_own(runtime, provider_endpoint):
    runtime.settings = dataclasses.replace(
        runtime.settings, provider_webhook_url=provider_endpoint.url, provider_webhook_secret=WEBHOOK_SECRET
    )
    add_events(runtime, referrals=1, per_referral=1, provider_id=demo_provider_id(runtime))
    add_events(runtime, referrals=1, per_referral=1, provider_id=None)
    while Relay(runtime).run_once():
        pass
    assert len(provider_endpoint.applied) == 2
    for receipt in provider_endpoint.received:
        verify_signature(receipt)


def test_another_provider_without_a_webhook_never_gets_the_environment_ones_events(runtime, provider_endpoint):
    runtime.settings = dataclasses.replace(
        runtime.settings, provider_webhook_url=provider_endpoint.url, provider_webhook_secret=WEBHOOK_SECRET
    )
    with runtime.session() as session, session.begin():
        other = Provider(slug="valleys", name="Valleys RHI", areas=["rhondda_cynon_taf"])
        session.add(other)
        session.flush()
        other_id = other.id
    add_events(runtime, referrals=1, per_referral=1, provider_id=other_id)
    [attempt] = Relay(runtime).run_once()
    assert attempt.delivered  # nothing to send it to: that provider works from the queue pages and API
    assert provider_endpoint.received == []


def test_a_webhook_without_a_secret_is_never_sent_unsigned(runtime, provider_endpoint):
    with runtime.session() as session, session.begin():
        provider = session.get(Provider, demo_provider_id(runtime))
        provider.webhook_url = provider_endpoint.url
    add_events(runtime, referrals=1, per_referral=1, provider_id=demo_provider_id(runtime))
    [attempt] = Relay(runtime).run_once()
    assert not attempt.delivered and provider_endpoint.received == []
    with runtime.session() as session:
        assert "secret is not set" in session.scalars(sa.select(OutboxEvent.last_error)).one()


def test_an_event_undelivered_after_the_maximum_age_is_dead_lettered_and_shown_on_healthz(runtime, webhook):
    from webhooks.app import create_app

    add_events(runtime, referrals=1, per_referral=1, provider_id=demo_provider_id(runtime))
    webhook.refuse()
    [attempt] = Relay(runtime, max_age=timedelta(0)).run_once()
    assert attempt.dead
    health = create_app(runtime, {"TESTING": True}).test_client().get("/healthz").get_json()
    assert health == {"status": "ok", "dead_lettered": True, "provider_endpoint_failing": True}


def test_a_message_to_the_young_person_never_waits_behind_a_provider_that_is_down(runtime, webhook):
    """An alert before a referral exists is keyed by the contact, like the messages to them: order is kept
    within each kind, so the safety message goes at once even while the provider's webhook fails."""
    with runtime.session() as session, session.begin():
        alert_id = enqueue_provider_event(
            session, "safeguarding.alert", {}, provider_id=demo_provider_id(runtime), ordering_key="contact:7"
        )
        reply_id = add_event(
            session,
            kind=OutboxKind.CHANNEL_MESSAGE,
            event_type="message.reply",
            payload={"replies": []},
            provider_id=None,
            ordering_key="contact:7",
            contact_id=None,
        )
    webhook.refuse()
    [failed] = deliver_now(runtime, [alert_id])
    assert not failed.delivered
    assert [attempt.event_id for attempt in deliver_now(runtime, [reply_id])] == [reply_id]


def alert_data(referral_id: int) -> dict:
    return {"categories": ["suicide_self_harm"], "severity": "immediate", "referral_id": referral_id}


def next_attempt_at(runtime, event_id: str):
    with runtime.session() as session:
        return session.get(OutboxEvent, event_id).next_attempt_at


def test_an_alert_behind_a_failed_event_of_its_referral_goes_at_the_next_try_not_after_that_events_backoff(
    runtime, webhook
):
    runtime.clock = clock = SimulatedClock()
    provider_id = demo_provider_id(runtime)
    with runtime.session() as session, session.begin():
        booking = enqueue_provider_event(
            session, "booking.requested", {"referral_id": 1}, provider_id=provider_id, ordering_key="referral:1"
        )
    webhook.answer(503, retry_after="600")  # the provider's system is down, and asks for ten minutes
    [failed] = Relay(runtime).run_once()
    assert not failed.delivered and next_attempt_at(runtime, booking) > clock() + timedelta(minutes=9)

    # The young person says something alarming; the provider's system comes back a second later.
    with runtime.session() as session, session.begin():
        alert = enqueue_provider_event(
            session, "safeguarding.alert", alert_data(1), provider_id=provider_id, ordering_key="referral:1"
        )
    webhook.answer(200)
    clock.advance(1)
    Relay(runtime).run_once()
    assert webhook.applied_order == [alert], "the alert went at the next try, ahead of the waiting booking"

    clock.advance(600)  # the booking waits out its own backoff, as it always did, then goes
    Relay(runtime).run_once()
    assert webhook.applied_order == [alert, booking]


def test_an_alert_is_tried_again_within_30_seconds_however_long_the_provider_is_down(runtime, webhook):
    runtime.clock = clock = SimulatedClock()
    with runtime.session() as session, session.begin():
        provider_id = demo_provider_id(runtime)
        alert = enqueue_provider_event(
            session, "safeguarding.alert", alert_data(1), provider_id=provider_id, ordering_key="referral:1"
        )
    webhook.answer(503, retry_after="120")  # asks us to wait two minutes between tries
    waits = []
    for _ in range(15):  # down for longer than any backoff takes to grow to its cap
        tried_at = clock()
        [attempt] = Relay(runtime).run_once()
        assert not attempt.delivered
        wait = next_attempt_at(runtime, alert) - tried_at
        waits.append(wait)
        clock.advance(wait.total_seconds() + 0.01)
    assert len(webhook.received) == 15
    assert max(waits) <= timedelta(seconds=30), max(waits)
