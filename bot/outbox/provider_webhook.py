"""Delivering provider events as signed webhooks (the contract in ARCHITECTURE.md).

``POST`` the event's exact body to the provider's ``webhook_url`` (or ``RHI_PROVIDER_WEBHOOK_URL`` for
events with no provider row: one provider configured from the environment), with
``Idempotency-Key: <event id>`` and ``X-RHI-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>.<raw body>")>``. Any 2xx is delivered; anything else, or no answer in 10 seconds, is retried by the
relay with the same id and the same body.

For ``WEBHOOK_SECRET_GRACE`` after a provider's secret is rotated (``rhi provider token``), the header carries
a second ``v1`` made with the previous secret (``t=...,v1=<new>,v1=<previous>``): a provider's check that
accepts any ``v1`` keeps working while its system moves to the new secret.
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import json
import logging
import socket
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
import sqlalchemy as sa

from bot.outbox.delivery import RetryLater, register
from models import OutboxEvent, OutboxKind, Provider

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

SEND_TIMEOUT_SECONDS = 10.0  # the contract: no answer in 10 s is a failure, retried later
SIGNATURE_HEADER = "X-RHI-Signature"
USER_AGENT = "rhi-chatbot-webhooks/1"
# A provider that asks us to wait (429, 503 with Retry-After) is obeyed, up to this long.
MAX_RETRY_AFTER_SECONDS = 3600.0

TARGET_CACHE_SECONDS = 5.0

_client_lock = threading.Lock()
_client: httpx.Client | None = None
# Per runtime (weakly: a runtime that is gone takes its entries with it), provider id -> (until, target).
_targets: weakref.WeakKeyDictionary[Runtime, dict[int | None, tuple[float, WebhookTarget | None]]] = (
    weakref.WeakKeyDictionary()
)
_targets_lock = threading.Lock()


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    secret: str | None
    previous_secret: str | None = None  # the secret before a rotation, until its grace ends
    previous_secret_until: datetime | None = None


def event_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): the stored payload as compact UTF-8 JSON."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signature(secret: str, body: bytes, timestamp: int, previous_secret: str | None = None) -> str:
    """The ``X-RHI-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds), with a second ``v1`` from
    the previous secret while a rotation's grace lasts."""
    signed = f"{timestamp}.".encode("ascii") + body
    digests = [
        hmac.new(key.encode("utf-8"), signed, hashlib.sha256).hexdigest() for key in (secret, previous_secret) if key
    ]
    return f"t={timestamp}," + ",".join(f"v1={digest}" for digest in digests)


def cached_webhook_target(runtime: Runtime, provider_id: int | None) -> WebhookTarget | None:
    """``webhook_target``, remembered for a few seconds: a burst of events costs one lookup per provider.

    A changed URL or secret is used within ``TARGET_CACHE_SECONDS``.
    """
    now = time.monotonic()
    with _targets_lock:
        per_runtime = _targets.setdefault(runtime, {})
        cached = per_runtime.get(provider_id)
        if cached is not None and cached[0] > now:
            return cached[1]
    target = webhook_target(runtime, provider_id)
    with _targets_lock:
        per_runtime[provider_id] = (now + TARGET_CACHE_SECONDS, target)
    return target


def webhook_target(runtime: Runtime, provider_id: int | None) -> WebhookTarget | None:
    """Where a provider's events go: its own webhook, else the one in the environment (for the default or only
    provider); None when neither is set."""
    settings = runtime.settings
    environment_applies = True  # to events with no provider, and to the default (or only) provider's
    if provider_id is not None:
        with runtime.session() as session:
            provider = session.get(Provider, provider_id)
            if provider is not None and provider.webhook_url:
                return WebhookTarget(
                    provider.webhook_url,
                    provider.webhook_secret,
                    provider.previous_webhook_secret,
                    provider.previous_webhook_secret_until,
                )
            if provider is not None and not provider.is_default:
                environment_applies = session.scalar(sa.select(sa.func.count()).select_from(Provider)) == 1
    if settings.provider_webhook_url and environment_applies:
        return WebhookTarget(settings.provider_webhook_url, settings.provider_webhook_secret)
    return None


def _http() -> httpx.Client:
    """One pooled client per process: keep-alive matters when a burst of referrals comes in."""
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(
                timeout=httpx.Timeout(SEND_TIMEOUT_SECONDS),
                follow_redirects=False,  # a redirect is not a 2xx: the event is retried, not sent elsewhere
                headers={"User-Agent": USER_AGENT},
                # Headers and body leave in separate writes; without TCP_NODELAY the body can wait for a
                # delayed ACK (40 ms on Linux) on every event.
                transport=httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]),
            )
        return _client


def close_http_client() -> None:
    """Close the pooled client (at shutdown, or after changing ``SEND_TIMEOUT_SECONDS``)."""
    global _client
    with _client_lock:
        if _client is not None:
            _client.close()
            _client = None


atexit.register(close_http_client)  # a pooled connection left open is closed, not just dropped, at exit


@register(OutboxKind.PROVIDER_WEBHOOK)
def deliver_provider_webhook(runtime: Runtime, event: OutboxEvent) -> str | None:
    target = cached_webhook_target(runtime, event.provider_id)
    if target is None:
        # No webhook configured: this provider works from the queue pages and the API, which read the
        # same rows. Nothing is lost by not sending.
        log.info("outbox event %s: no webhook is configured for its provider; marked delivered", event.id)
        return None
    if not target.secret:
        raise RetryLater("the provider's webhook secret is not set: events are never sent unsigned")
    body = event_body(event.payload)
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": event.id,
        SIGNATURE_HEADER: signature(target.secret, body, int(time.time()), _previous_secret(runtime, target)),
    }
    # The reasons below are stored for operators: a status code or an error kind, never the body.
    try:
        response = _http().post(target.url, content=body, headers=headers)
    except httpx.TimeoutException:
        raise RetryLater(f"no answer from the provider's webhook in {SEND_TIMEOUT_SECONDS:g} s") from None
    except httpx.ConnectError:
        raise RetryLater("could not connect to the provider's webhook") from None
    except httpx.HTTPError as exc:
        raise RetryLater(f"sending to the provider's webhook failed: {type(exc).__name__}") from None
    if response.is_success:
        return None
    raise RetryLater(f"the provider's webhook answered HTTP {response.status_code}", _retry_after(response))


def _previous_secret(runtime: Runtime, target: WebhookTarget) -> str | None:
    until = target.previous_secret_until
    return target.previous_secret if until is not None and until > runtime.clock() else None


def _retry_after(response: httpx.Response) -> float | None:
    if response.status_code not in (429, 503):
        return None
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None  # an HTTP date, or nonsense: our own backoff decides
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)
