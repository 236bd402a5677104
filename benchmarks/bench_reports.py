"""The return-interview report over a year of a busy deployment: 100,000 referrals and 1,000,000 messages.

    python benchmarks/bench_reports.py [--url postgresql://postgres@127.0.0.1:5432/bench_reports]
        [--referrals 100000] [--messages 1000000] [--runs 5] [--reuse]

Makes the database named afresh (dropped if it exists), fills it with COPY (three providers, 2026's referrals,
their episodes, bookings, outcomes, alerts, and the messages), runs ANALYZE, then times the report as the
API, the page and the partnership ask for it: wall time, and the CPU time the database and Python spend on one
report (what it would take on a quiet machine). Prints figures; asserts nothing. The rows are made up and their
encrypted columns hold placeholders: the report never reads them.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import sqlalchemy as sa

from bot.providers.return_interviews import Scope, return_interviews, suppressed
from models import make_engine, make_session_factory
from models.migrate import upgrade

LONDON = ZoneInfo("Europe/London")
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
PROVIDERS = {1: ["cardiff", "newport"], 2: ["swansea", "bridgend"], 3: ["gwynedd", "conwy", "powys"]}
SETTINGS = ["home"] * 6 + ["care"] * 2 + ["care_out_of_area", "not_sure"]
AGES = ["under_13", "age_13_15", "age_13_15", "age_16_17", "age_16_17", "age_18_plus", "not_sure"]
REASONS = ["no_need", "too_formal", "fear_trouble", "fear_sharing", "distrust_professionals", "doesnt_suit", "other"]
CATEGORIES = ["suicide_self_harm", "unsafe_now", "criminal_exploitation", "sexual_exploitation", "abuse_at_home"]


def fresh_database(url: str) -> None:
    name = sa.make_url(url).database
    admin = sa.make_url(url).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin.replace("postgresql+psycopg", "postgresql"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def copy(connection: psycopg.Connection, table: str, columns: list[str], rows: Iterator[tuple]) -> int:
    count = 0
    with connection.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as out:
        for row in rows:
            out.write_row(row)
            count += 1
    return count


def fill(url: str, referrals: int, messages: int) -> None:
    rng = random.Random(2026)
    dsn = sa.make_url(url).render_as_string(hide_password=False).replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(dsn) as connection:
        copy(connection, "providers",
             ["id", "slug", "name", "is_default", "auto_confirm", "created_at", "share_contact_address",
              "slot_minutes", "buffer_minutes", "minimum_notice_minutes", "booking_horizon_days",
              "review_within_minutes"],
             ((pid, f"p{pid}", f"Provider {pid}", pid == 1, False, YEAR_START, False,
               60, 15, 120, 21, 60) for pid in PROVIDERS))  # fmt: skip
        for pid, areas in PROVIDERS.items():  # the areas each covers (the migrations may have named them already)
            for area in areas:
                connection.execute(
                    "INSERT INTO areas (key, name_en, name_cy, provider_id) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (key) DO UPDATE SET provider_id = EXCLUDED.provider_id",
                    (area, area.title(), area.title(), pid),
                )
        people = int(referrals * 0.8)  # a fifth of referrals are a child's second or later
        copy(connection, "contacts",
             ["id", "channel", "address_hash", "address", "language", "language_chosen", "opted_out", "created_at",
              "last_seen_at"],
             ((n, rng.choice(["sms", "sms", "telegram"]), f"{n:064x}", "placeholder", rng.choice(["en"] * 4 + ["cy"]),
               True, False, YEAR_START, YEAR_START) for n in range(1, people + 1)))  # fmt: skip
        referral_rows, episode_rows, links, booking_rows, alert_rows = [], [], [], [], []
        for rid in range(1, referrals + 1):
            contact = rid if rid <= people else rng.randint(1, people)
            provider = rng.choice(list(PROVIDERS))
            made = YEAR_START + timedelta(seconds=rng.randint(0, 365 * 86400 - 1))
            returned = made - timedelta(hours=rng.randint(0, 48))
            deadline = returned + timedelta(hours=72)
            roll = rng.random()
            status, reason, outcome, outcome_at = "booked", None, None, None
            if roll < 0.2:
                status, reason = "declined", rng.choice(REASONS)
            elif roll < 0.7:
                status, outcome, outcome_at = "closed", "interview_held", made + timedelta(days=rng.randint(1, 6))
            elif roll < 0.75:
                status, outcome, outcome_at = "closed", "could_not_contact", made + timedelta(days=5)
            referred_by = rng.choice(["self"] * 4 + ["parent_carer"])
            # how the young person was offered one: in the conversation they started, by the bot's text after the
            # service reported the return (a third of them), or not yet (a parent's report)
            method = rng.choice(["in_conversation", "in_conversation", "bot_sms"]) if referred_by == "self" else None
            referral_rows.append((rid, contact, provider, referred_by, status,
                                  deadline, reason, rng.choice(["en"] * 4 + ["cy"]), rng.choice(["sms", "telegram"]),
                                  rng.choice(PROVIDERS[provider]), made, made, outcome, outcome_at,
                                  "x" if outcome and rng.random() < 0.4 else None,
                                  "x" if outcome and rng.random() < 0.3 else None,
                                  made if method else None, method,
                                  status != "declined" if method else None))  # fmt: skip
            for _ in range(1 if rng.random() < 0.9 else 2):
                eid = len(episode_rows) + 1
                episode_rows.append((eid, contact, "young_person" if rng.random() < 0.8 else "parent_carer",
                                     returned - timedelta(days=1), returned, False,
                                     rng.choice(["yes", "yes", "no", "not_sure"]), rng.choice(SETTINGS),
                                     rng.choice(AGES), made))  # fmt: skip
                links.append((rid, eid))
            if status != "declined":
                starts = deadline + timedelta(hours=rng.choice([-30, -10, 20]))
                late = starts > deadline
                booking_rows.append((rid, starts, "confirmed", late, rng.choice(["young_person_choice", None])
                                     if late else None, made, made))  # fmt: skip
            if rng.random() < 0.1:
                alert_rows.append((contact, rid if rng.random() < 0.7 else None, rng.choice(CATEGORIES), "urgent",
                                   "placeholder", "placeholder", made, 0))  # fmt: skip
        copy(connection, "referrals",
             ["id", "contact_id", "provider_id", "referred_by", "status", "deadline_at", "decline_reason", "language",
              "channel", "area", "created_at", "updated_at", "outcome", "outcome_at", "follow_up_needed",
              "follow_up_provided", "offered_at", "offer_method", "consent_given"], iter(referral_rows))  # fmt: skip
        copy(connection, "episodes",
             ["id", "contact_id", "reported_by", "left_at", "returned_at", "still_missing", "police_informed",
              "setting", "age_band", "created_at"], iter(episode_rows))  # fmt: skip
        copy(connection, "referral_episodes", ["referral_id", "episode_id"], iter(links))
        copy(connection, "bookings",
             ["referral_id", "starts_at", "status", "outside_window", "delay_reason", "created_at", "updated_at"],
             iter(booking_rows))  # fmt: skip
        copy(connection, "escalations",
             ["contact_id", "referral_id", "category", "severity", "excerpt", "matches", "created_at",
              "notified_count"], iter(alert_rows))  # fmt: skip
        copy(connection, "messages", ["contact_id", "direction", "channel", "text", "created_at"],
             ((rng.randint(1, people), rng.choice(["inbound", "outbound"]), "sms", "placeholder",
               YEAR_START + timedelta(seconds=n * 31)) for n in range(messages)))  # fmt: skip
        for table in ("providers", "contacts", "referrals", "episodes", "bookings", "escalations"):
            connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        connection.commit()
        connection.autocommit = True
        connection.execute("ANALYZE")
        print(f"filled: {referrals:,} referrals, {len(episode_rows):,} episodes, {len(booking_rows):,} bookings, "
              f"{len(alert_rows):,} alerts, {messages:,} messages")  # fmt: skip


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a local process (the database's backend for this connection)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_report(url: str, scope: Scope, runs: int) -> dict[str, float]:
    """Wall time (best and median of ``runs``), and the CPU time one report costs the database's backend (with
    parallel workers off, so that it does all the work) and this process: on a shared, busy machine the wall
    time measures the other processes as much as this one, and the CPU time is what the report would take on
    a quiet one."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    timings, database_cpu, python_cpu = [], [], []
    for _ in range(runs):
        with sessions() as session:
            started = time.perf_counter()
            figures = suppressed(return_interviews(session, scope))
            timings.append(time.perf_counter() - started)
        with sessions() as session:
            backend = session.scalar(sa.text("SELECT pg_backend_pid()"))
            session.execute(sa.text("SET max_parallel_workers_per_gather = 0"))
            before, ours = _cpu_seconds(backend), time.process_time()
            return_interviews(session, scope)
            python_cpu.append(time.process_time() - ours)
            database_cpu.append(_cpu_seconds(backend) - before)
    engine.dispose()
    return {
        "referrals": figures["overall"]["offered"] or 0,
        "best": min(timings),
        "median": statistics.median(timings),
        "database_cpu": statistics.median(database_cpu),
        "python_cpu": statistics.median(python_cpu),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/bench_reports")
    parser.add_argument("--referrals", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="time the report on the database as it is")
    args = parser.parse_args()
    url = args.url.replace("postgresql://", "postgresql+psycopg://", 1)
    if not args.reuse:
        fresh_database(url)
        upgrade(url)
        started = time.perf_counter()
        fill(url, args.referrals, args.messages)
        print(f"filling took {time.perf_counter() - started:.1f} s")
    print(f"load average when starting: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    cases = {
        "one provider, one month (the page)": Scope(date(2026, 11, 1), date(2026, 11, 30), LONDON, (1,)),
        "one provider, the year": Scope(date(2026, 1, 1), date(2026, 12, 31), LONDON, (1,)),
        "one provider, the year, one area": Scope(date(2026, 1, 1), date(2026, 12, 31), LONDON, (1,), "cardiff"),
        "every provider, the year (partnership)": Scope(date(2026, 1, 1), date(2026, 12, 31), LONDON),
    }
    print(f"{'report':40} {'referrals':>9} {'best':>8} {'median':>8} {'db CPU':>8} {'py CPU':>8}")
    for name, scope in cases.items():
        figures = time_report(url, scope, args.runs)
        print(
            f"{name:40} {figures['referrals']:>9,} "
            + " ".join(f"{figures[key] * 1000:>5.0f} ms" for key in ("best", "median", "database_cpu", "python_cpu"))
        )


if __name__ == "__main__":
    main()
