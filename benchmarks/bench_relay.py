"""Provider webhooks relayed per second by 1 and 4 ``rhi worker`` processes on PostgreSQL, and the time from
the commit of an inbound message to the provider's receipt of its safeguarding alert on an idle system.

    python benchmarks/bench_relay.py [--database postgresql://postgres@127.0.0.1:5432/rhi_bench_relay]
                                     [--events 4000] [--referrals 1000] [--samples 200]

The provider is a local HTTP server (tests/auxil/provider_endpoint.py) that answers 200 at once. The
database named is created if missing and emptied first (never point this at a database you care about).
Prints figures; asserts nothing. Targets: 200 events a second or more with 4 workers; p99 under 2 s.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from auxil.provider_endpoint import WEBHOOK_SECRET, ProviderEndpoint  # noqa: E402

from bot.conversation.dispatcher import Dispatcher, Inbound  # noqa: E402
from bot.demo import DEMO_PROVIDER_SLUG, load_demo_data  # noqa: E402
from bot.outbox.writing import enqueue_provider_event  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from models import Channel, OutboxEvent, Provider  # noqa: E402
from models.crypto import generate_key  # noqa: E402
from models.db import make_engine  # noqa: E402
from models.migrate import upgrade  # noqa: E402

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/rhi_bench_relay"


def fresh_database(url: str) -> None:
    """Create the database if it is missing, then empty it and bring it to the latest schema."""
    name = sa.make_url(url).database
    admin = make_engine(str(sa.make_url(url).set(database="postgres")))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if not connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    upgrade(url)


def start_workers(count: int, environ: dict[str, str]) -> list[subprocess.Popen]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("RHI_")} | environ
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "worker"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
        )
        for _ in range(count)
    ]
    for worker in workers:  # each says so once it is ready to relay
        assert worker.stderr is not None
        line = worker.stderr.readline()
        if "rhi worker:" not in line:
            raise SystemExit(f"a worker did not start: {line}")
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=60)


def empty_outbox(runtime: Runtime) -> None:
    with runtime.session() as session, session.begin():
        session.execute(sa.delete(OutboxEvent))


def throughput(runtime: Runtime, environ: dict[str, str], provider_id: int, workers: int, events: int,
               referrals: int) -> float:  # fmt: skip
    """Events per second from one commit of ``events`` events (across ``referrals``) until the last arrives."""
    empty_outbox(runtime)
    with ProviderEndpoint() as endpoint:
        with runtime.session() as session, session.begin():
            provider = session.get(Provider, provider_id)
            provider.webhook_url, provider.webhook_secret = endpoint.url, WEBHOOK_SECRET
        running = start_workers(workers, environ)
        try:
            with runtime.session() as session, session.begin():
                for n in range(events):
                    referral = n % referrals + 1
                    data = {"referral_id": referral, "episode_id": n + 1}
                    key = f"referral:{referral}"
                    enqueue_provider_event(session, "episode.reported", data, provider_id=provider_id, ordering_key=key)
            committed = time.monotonic()
            if not endpoint.wait_for(lambda e: len(e.applied) >= events, timeout=600):
                raise SystemExit(f"only {len(endpoint.applied)} of {events} events arrived in 10 minutes")
            last = max(receipt.arrived_at for receipt in endpoint.applied.values())
        finally:
            stop_workers(running)
        duplicates = len(endpoint.received) - len(endpoint.applied)
        if duplicates:
            print(f"  ({duplicates} events were sent more than once)")
    return events / (last - committed)


def alert_latency(runtime: Runtime, environ: dict[str, str], provider_id: int, samples: int) -> list[float]:
    """Seconds from the commit of a young person's message to the provider's receipt of its alert."""
    empty_outbox(runtime)
    dispatcher = Dispatcher(runtime)
    latencies = []
    with ProviderEndpoint() as endpoint:
        with runtime.session() as session, session.begin():
            provider = session.get(Provider, provider_id)
            provider.webhook_url, provider.webhook_secret = endpoint.url, WEBHOOK_SECRET
        running = start_workers(1, environ)
        try:
            for n in range(samples):
                time.sleep(random.uniform(0.1, 0.6))  # an idle system: one message at a time, at random moments
                outcome = dispatcher.handle(Inbound(Channel.SMS, f"+4477009{n:05d}", f"SMbench{n}", "i want to die"))
                committed = time.monotonic()  # handle() returns once the transaction has committed
                with runtime.session() as session:
                    alert_id = session.scalars(
                        sa.select(OutboxEvent.id).where(
                            OutboxEvent.contact_id == outcome.contact_id, OutboxEvent.type == "safeguarding.alert"
                        )
                    ).one()
                if not endpoint.wait_for(lambda e, alert_id=alert_id: alert_id in e.applied, timeout=30):
                    raise SystemExit(f"alert {n} did not arrive within 30 s")
                latencies.append(endpoint.applied[alert_id].arrived_at - committed)
        finally:
            stop_workers(running)
    return latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--referrals", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()

    fresh_database(args.database)
    workdir = tempfile.mkdtemp(prefix="rhi-bench-relay-")
    environ = {"RHI_DATABASE_URL": args.database, "RHI_DATA_KEY": generate_key(), "RHI_INSTANCE_PATH": workdir}
    runtime = Runtime(load_settings(environ))
    with runtime.session() as session, session.begin():
        load_demo_data(session, runtime.clock(), runtime.timezone)
        provider_id = session.scalars(sa.select(Provider.id).where(Provider.slug == DEMO_PROVIDER_SLUG)).one()

    print(f"PostgreSQL: {args.database}")
    print(f"{args.events} events over {args.referrals} referrals, committed at once, to a local endpoint:")
    for workers in (1, 4):
        rate = throughput(runtime, environ, provider_id, workers, args.events, args.referrals)
        print(f"  {workers} worker{'s' if workers > 1 else ' '}: {rate:7.0f} events/s")
    latencies = alert_latency(runtime, environ, provider_id, args.samples)
    print(
        f"Safeguarding alert, commit of the inbound message -> provider's receipt ({args.samples} on an idle system):"
    )
    print(
        f"  p50 {percentile(latencies, 0.50) * 1000:.0f} ms, p99 {percentile(latencies, 0.99) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms, mean {statistics.mean(latencies) * 1000:.0f} ms"
    )
    runtime.close()


if __name__ == "__main__":
    main()
