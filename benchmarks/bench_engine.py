"""Interpreter steps per second, and full dispatcher messages per second on SQLite and PostgreSQL.

    python benchmarks/bench_engine.py [--postgres postgresql://postgres@127.0.0.1:5432/rhi_bench]

Prints figures; asserts nothing. The PostgreSQL database named is created if missing and emptied first.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.conversation.dispatcher import Dispatcher, Inbound
from bot.demo import load_demo_data
from bot.runtime import Runtime
from bot.settings import load_settings
from conversations.interpreter import EffectDone, UserText, advance, new_state
from conversations.loading import load_catalog
from models import Channel
from models.crypto import generate_key
from models.migrate import upgrade

JOURNEY = ["hi", "1", "2", "2", "yesterday", "no", "home", "yes", "cafe", "a woman", "1", "no", "yes"]
NOW = datetime(2026, 11, 23, 10, tzinfo=ZoneInfo("Europe/London"))
SLOTS = {"slots": [{"value": 1, "label": {"en": "Mon 1pm", "cy": "Llun 1yp"}}], "slots_found": "yes"}


def bench_interpreter(seconds: float = 3.0) -> float:
    """Messages through the pure interpreter (effects answered instantly) per second."""
    catalog = load_catalog()
    steps = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        state = new_state("en", {"service_name": "Demo"})
        for text in JOURNEY:
            turn = advance(catalog, state, UserText(text, NOW))
            steps += 1
            while turn.effect:
                turn = advance(catalog, turn.state, EffectDone(SLOTS if turn.effect.name == "find_slots" else {}))
            state = turn.state
    return steps / (time.perf_counter() - started)


def bench_dispatcher(url: str, workdir: Path, conversations: int) -> tuple[float, float, float]:
    """(messages per second, p50 ms, p99 ms) for whole journeys through the dispatcher."""
    upgrade(url)
    environ = {"RHI_DATABASE_URL": url, "RHI_DATA_KEY": generate_key(), "RHI_INSTANCE_PATH": str(workdir)}
    runtime = Runtime(load_settings(environ))
    with runtime.session() as session, session.begin():
        load_demo_data(session, runtime.clock(), runtime.timezone)
    dispatcher = Dispatcher(runtime)
    latencies = []
    started = time.perf_counter()
    for n in range(conversations):
        for m, text in enumerate(JOURNEY):
            sent = time.perf_counter()
            dispatcher.handle(Inbound(Channel.SMS, f"+4477009{n:05d}", f"bench-{n}-{m}", text))
            latencies.append(time.perf_counter() - sent)
    elapsed = time.perf_counter() - started
    runtime.close()
    quantiles = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, quantiles[49] * 1000, quantiles[98] * 1000


def _fresh_postgres(url: str) -> str:
    target = sa.make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    admin.dispose()
    return target.render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/rhi_bench")
    parser.add_argument("--conversations", type=int, default=40)
    args = parser.parse_args()

    print(f"interpreter: {bench_interpreter():,.0f} messages/s (pure, one journey of {len(JOURNEY)} messages repeated)")
    with tempfile.TemporaryDirectory() as workdir:
        rate, p50, p99 = bench_dispatcher(f"sqlite:///{workdir}/bench.sqlite3", Path(workdir), args.conversations)
        print(f"dispatcher on SQLite:     {rate:7.1f} messages/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")
        try:
            url = _fresh_postgres(args.postgres)
        except sa.exc.OperationalError as exc:
            print(f"dispatcher on PostgreSQL: not measured ({exc.orig})")
            return
        rate, p50, p99 = bench_dispatcher(url, Path(workdir), args.conversations)
        print(f"dispatcher on PostgreSQL: {rate:7.1f} messages/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")
    print(f"({args.conversations} conversations x {len(JOURNEY)} messages each, one at a time, one process)")


if __name__ == "__main__":
    main()
