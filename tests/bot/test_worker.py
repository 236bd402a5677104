"""``rhi worker`` as a real process: killed outright it loses nothing, SIGTERM lets the send finish, and
two of them never have one event in flight at once. The provider is a real local HTTP server.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from auxil.provider_endpoint import ProviderEndpoint, use_as_demo_webhook

from bot.demo import DEMO_PROVIDER_SLUG
from bot.outbox.writing import enqueue_provider_event
from bot.settings import ConfigError
from bot.worker import PERIODIC_JOBS, Worker, max_age_from
from models import OutboxEvent, Provider, utcnow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def provider_endpoint() -> Iterator[ProviderEndpoint]:
    with ProviderEndpoint() as endpoint:
        yield endpoint


@pytest.fixture
def webhook(runtime, provider_endpoint: ProviderEndpoint) -> ProviderEndpoint:
    """The demo provider's case system, at the network edge."""
    return use_as_demo_webhook(runtime, provider_endpoint)


def start_worker(database_url: str, data_key: str, tmp_path: Path, *args: str) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if not key.startswith("RHI_")}
    env.update(RHI_DATABASE_URL=database_url, RHI_DATA_KEY=data_key, RHI_INSTANCE_PATH=str(tmp_path))
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def workers(database_url, data_key, tmp_path):
    """Start ``rhi worker`` processes; any still running at the end are killed."""
    started: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        process = start_worker(database_url, data_key, tmp_path, *args)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def add_events(runtime, referrals: int, per_referral: int) -> dict[str, list[str]]:
    written: dict[str, list[str]] = {}
    with runtime.session() as session, session.begin():
        provider_id = session.scalars(sa.select(Provider.id).where(Provider.slug == DEMO_PROVIDER_SLUG)).one()
        for n in range(per_referral):
            for referral in range(1, referrals + 1):
                key = f"referral:{referral}"
                event_id = enqueue_provider_event(
                    session,
                    "episode.reported",
                    {"referral_id": referral, "n": n},
                    provider_id=provider_id,
                    ordering_key=key,
                )
                written.setdefault(key, []).append(event_id)
    return written


def event_row(runtime, event_id: str) -> OutboxEvent:
    with runtime.session() as session:
        return session.get(OutboxEvent, event_id)


def test_a_worker_killed_mid_delivery_loses_nothing_and_the_next_one_delivers(runtime, webhook, workers):
    [[event_id]] = add_events(runtime, 1, 1).values()
    webhook.hold()  # the provider takes the request and does not answer yet
    first = workers()
    assert webhook.wait_for(lambda e: e.in_flight.get(event_id), timeout=60), "the worker sent it"
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    webhook.release()
    assert webhook.wait_for(lambda e: not e.in_flight.get(event_id), timeout=10)
    row = event_row(runtime, event_id)
    assert row.delivered_at is None and row.lease_until is not None  # still claimed by the dead worker

    # Time passes: the dead worker's claim runs out (relay.LEASE), as it would a minute later.
    with runtime.session() as session, session.begin():
        session.execute(sa.update(OutboxEvent).values(lease_until=utcnow() - timedelta(seconds=1)))
    workers()
    assert webhook.wait_for(lambda e: event_id in e.applied, timeout=60), "the next worker delivered it"
    assert webhook.wait_for(lambda e: event_row(runtime, event_id).delivered_at is not None, timeout=30)
    assert [r.key for r in webhook.received] == [event_id, event_id]  # the same id both times
    assert webhook.received[0].body == webhook.received[1].body


def test_sigterm_lets_the_send_in_progress_finish_then_the_worker_exits(runtime, webhook, workers):
    written = add_events(runtime, 3, 1)
    first_ids = [ids[0] for ids in written.values()]
    webhook.answer(200, delay=1.5)
    worker = workers()
    assert webhook.wait_for(lambda e: sum(e.in_flight.values()) == 1, timeout=60)
    worker.send_signal(signal.SIGTERM)
    _, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert "stopped" in err
    assert len(webhook.applied) == 1, "the send under way finished; nothing more was started"
    with runtime.session() as session:
        rows = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.id.in_(first_ids))).all()
        assert sum(row.delivered_at is not None for row in rows) == 1
        # what it had claimed but not sent is let go at once, for the next worker
        assert all(row.lease_until is None for row in rows)


def test_two_workers_never_have_one_event_in_flight_twice(runtime, webhook, workers):
    written = add_events(runtime, referrals=40, per_referral=5)
    webhook.answer(200, delay=0.005)
    workers()
    workers()
    assert webhook.wait_for(lambda e: len(e.applied) == 200, timeout=120), f"{len(webhook.applied)} of 200"
    assert webhook.most_in_flight_per_event == 1
    assert len(webhook.received) == 200, "no event was sent twice"
    for key, ids in written.items():
        assert [event_id for event_id in webhook.applied_order if event_id in ids] == ids, f"order of {key}"


def test_the_worker_runs_the_periodic_jobs_beside_the_relay(runtime, monkeypatch):
    ran = threading.Event()

    def job(runtime_, now) -> int:
        ran.set()
        return 1

    monkeypatch.setitem(PERIODIC_JOBS, "test_job", job)
    stop = threading.Event()
    thread = threading.Thread(
        target=Worker(runtime, relays=2, poll_seconds=0.05, periodic_seconds=0.05).run, args=(stop,)
    )
    thread.start()
    assert ran.wait(10)
    stop.set()
    thread.join(10)
    assert not thread.is_alive()


def test_a_failing_periodic_job_does_not_stop_the_worker(runtime, monkeypatch, caplog):
    calls = []

    def broken(runtime_, now) -> int:
        calls.append(now)
        raise RuntimeError("boom")

    monkeypatch.setitem(PERIODIC_JOBS, "broken", broken)
    stop = threading.Event()
    thread = threading.Thread(target=Worker(runtime, poll_seconds=0.05, periodic_seconds=0.05).run, args=(stop,))
    thread.start()
    deadline = time.monotonic() + 10
    while len(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(10)
    assert len(calls) >= 2
    assert "periodic job broken failed" in caplog.text


def test_the_maximum_age_is_a_setting_in_hours():
    assert max_age_from({}) == timedelta(hours=72)
    assert max_age_from({"RHI_OUTBOX_MAX_AGE_HOURS": "24"}) == timedelta(hours=24)
    with pytest.raises(ConfigError, match="RHI_OUTBOX_MAX_AGE_HOURS"):
        max_age_from({"RHI_OUTBOX_MAX_AGE_HOURS": "soon"})


def test_the_worker_will_not_start_on_a_database_without_tables(tmp_path):
    env_url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    completed = subprocess.run(
        [sys.executable, "-m", "bot.cli", "worker"],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("RHI_")}, "RHI_DATABASE_URL": env_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert "rhi db upgrade" in completed.stderr
