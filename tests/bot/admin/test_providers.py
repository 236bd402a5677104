"""A provider's webhook secret is rotated without losing an event: for a grace period every event carries a
signature from each secret, so the provider's system verifies with the old one until it has the new."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

import pytest
from auxil.clock import SimulatedClock
from auxil.provider_endpoint import WEBHOOK_SECRET, ProviderEndpoint, use_as_demo_webhook

from bot.admin.providers import WEBHOOK_SECRET_GRACE, find_provider, rotate_credentials
from bot.demo import DEMO_PROVIDER_SLUG
from bot.outbox.relay import Relay
from bot.outbox.writing import enqueue_provider_event


@pytest.fixture
def webhook(runtime) -> Iterator[ProviderEndpoint]:
    with ProviderEndpoint() as endpoint:
        yield use_as_demo_webhook(runtime, endpoint)


def verifies_with(receipt, secret: str) -> bool:
    """The provider's check, written with hmac directly: any v1 in the header may match."""
    parts = [part.split("=", 1) for part in receipt.headers["X-RHI-Signature"].split(",")]
    [timestamp] = [value for key, value in parts if key == "t"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + receipt.body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(value, expected) for key, value in parts if key == "v1")


def send_one_event(runtime, endpoint: ProviderEndpoint):
    with runtime.session() as session, session.begin():
        provider = find_provider(session, DEMO_PROVIDER_SLUG)
        enqueue_provider_event(
            session, "episode.reported", {"n": 1}, provider_id=provider.id, ordering_key="referral:1"
        )
    while Relay(runtime).run_once():
        pass
    return endpoint.received[-1]


def test_both_secrets_verify_during_the_grace_period_and_only_the_new_one_after(runtime, webhook):
    runtime.clock = clock = SimulatedClock()
    with runtime.session() as session, session.begin():
        new = rotate_credentials(session, find_provider(session, DEMO_PROVIDER_SLUG), clock()).webhook_secret
    assert new != WEBHOOK_SECRET
    during = send_one_event(runtime, webhook)
    assert verifies_with(during, WEBHOOK_SECRET) and verifies_with(during, new)
    clock.advance(WEBHOOK_SECRET_GRACE.total_seconds() + 1)
    after = send_one_event(runtime, webhook)
    assert verifies_with(after, new) and not verifies_with(after, WEBHOOK_SECRET)
    assert after.headers["X-RHI-Signature"].count("v1=") == 1


def test_a_first_secret_has_no_grace_to_give(runtime):
    with runtime.session() as session, session.begin():
        provider = find_provider(session, DEMO_PROVIDER_SLUG)
        made = rotate_credentials(session, provider, runtime.clock())
        assert made.previous_secret_until is None and provider.previous_webhook_secret is None
