"""Server time of every provider page with a big service behind it: 10,000 referrals and 100,000 messages.

    python benchmarks/bench_provider_pages.py [--backend sqlite|postgresql]
        [--postgres postgresql://postgres@127.0.0.1:5432/rhi_bench_provider_pages] [--repeat 7]

Fills a fresh database (the demo provider, then 10,000 young people with a referral each, ten messages each,
bookings, alerts and messages to read), logs in as the demo duty worker and asks for each page through the app
in this process (Flask's test client: the time is the server's, with no network), once to warm up and then
``--repeat`` times. Prints the median and the slowest per page against the 300 ms target, and the CPU time the
process spent (less sensitive to a busy machine than the wall clock); asserts nothing.
The PostgreSQL database named is created if missing and emptied first.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from bench_webhooks import fresh_postgres, prepare

TARGET_MS = 300
PEOPLE = 10_000
MESSAGES_EACH = 10
ACTIVE_SHARE = 0.15  # open, waiting for a time, or booked; the rest closed or declined
OPEN_ALERTS = 12
READ_LATER = 40


def seed(url: str, data_key: str) -> None:
    """Rows written straight through the models' tables (so text is encrypted as the app writes it)."""
    from models import (
        Booking,
        Contact,
        Escalation,
        InboundEvent,
        Message,
        Provider,
        Referral,
        ReviewItem,
        Worker,
        crypto,
        make_engine,
    )

    crypto.configure_keys([data_key])
    engine = make_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        provider_id = connection.scalar(sa.select(Provider.id).where(Provider.slug == "demo"))
        workers = connection.scalars(sa.select(Worker.id).where(Worker.provider_id == provider_id)).all()
    batch = 500
    event_id = 1
    statuses = ["open", "booking_requested", "booked"]
    for first in range(0, PEOPLE, batch):
        contacts, referrals, events, messages, bookings = [], [], [], [], []
        for person in range(first + 1, min(first + batch, PEOPLE) + 1):
            made = now - timedelta(minutes=person * 7)
            active = person % int(1 / ACTIVE_SHARE) == 0
            contacts.append(
                {
                    "id": person,
                    "channel": "sms",
                    "address_hash": crypto.address_hash("sms", f"+44700{person:08d}"),
                    "address": f"+44700{person:08d}",
                    "language": "cy" if person % 9 == 0 else "en",
                    "language_chosen": False,
                    "opted_out": False,
                    "area": "cardiff",
                    "created_at": made,
                    "last_seen_at": made,
                }
            )
            referrals.append(
                {
                    "id": person,
                    "contact_id": person,
                    "provider_id": provider_id,
                    "referred_by": "self",
                    "status": statuses[person % 3] if active else ("closed" if person % 2 else "declined"),
                    "deadline_at": made + timedelta(hours=72),
                    "language": "en",
                    "channel": "sms",
                    "area": "cardiff",
                    "created_at": made,
                    "updated_at": made,
                    "assigned_worker_id": workers[person % len(workers)],
                }
            )
            if active and person % 2 == 0:
                bookings.append(
                    {
                        "referral_id": person,
                        "starts_at": made + timedelta(hours=30),
                        "place_kind": "cafe",
                        "worker_id": workers[person % len(workers)],
                        "status": "requested",
                        "outside_window": False,
                        "reminders_sent": [],
                        "created_at": made,
                        "updated_at": made,
                    }
                )
            for n in range(MESSAGES_EACH // 2):
                moment = made + timedelta(seconds=n * 30)
                events.append(
                    {
                        "id": event_id,
                        "channel": "sms",
                        "external_id": f"SMbench{event_id:024d}",
                        "contact_id": person,
                        "received_at": moment,
                        "processed_at": moment,
                    }
                )
                messages.append(
                    {
                        "contact_id": person,
                        "direction": "inbound",
                        "channel": "sms",
                        "text": f"a message from a young person, number {n}",
                        "inbound_event_id": event_id,
                        "created_at": moment,
                    }
                )
                messages.append(
                    {
                        "contact_id": person,
                        "direction": "outbound",
                        "channel": "sms",
                        "text": "the bot's reply, about as long as a real one is, with a question",
                        "english_text": None,
                        "inbound_event_id": event_id,
                        "created_at": moment,
                    }
                )
                event_id += 1
        with engine.begin() as connection:
            connection.execute(sa.insert(Contact.__table__), contacts)
            connection.execute(sa.insert(Referral.__table__), referrals)
            connection.execute(sa.insert(InboundEvent.__table__), events)
            connection.execute(sa.insert(Message.__table__), [{"english_text": None, **m} for m in messages])
            if bookings:
                connection.execute(sa.insert(Booking.__table__), bookings)
        print(f"\r  stored {min(first + batch, PEOPLE):,} people", end="", flush=True)
    alerts = [
        {
            "contact_id": person,
            "referral_id": person,
            "category": "suicide_self_harm",
            "severity": "immediate",
            "excerpt": "words that raised an alert",
            "matches": [],
            "created_at": now - timedelta(minutes=person),
            "acknowledged_at": None if person <= OPEN_ALERTS else now,
            "done_at": None if person <= 3 * OPEN_ALERTS else now,
            "acknowledged_by": None if person <= OPEN_ALERTS else "duty@demo.example",
            "notified_count": 0,
        }
        for person in range(1, 400)
    ]
    to_read = [
        {
            "provider_id": provider_id,
            "contact_id": person,
            "referral_id": person,
            "reason": "free_text",
            "text": "an answer in their own words",
            "categories": [],
            "language": "en",
            "channel": "sms",
            "received_at": now - timedelta(minutes=person),
            "notified_count": 0,
        }
        for person in range(1, READ_LATER + 1)
    ]
    with engine.begin() as connection:
        connection.execute(sa.insert(Escalation.__table__), alerts)
        connection.execute(sa.insert(ReviewItem.__table__), to_read)
        if not url.startswith("sqlite"):
            for table in ("contacts", "referrals", "inbound_events"):
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
        connection.exec_driver_sql("ANALYZE")
        total = connection.scalar(sa.select(sa.func.count()).select_from(Message.__table__))
    print(f"\r  stored {PEOPLE:,} referrals and {total:,} messages", flush=True)
    engine.dispose()


def pages(runtime) -> list[tuple[str, str]]:
    from models import AvailabilityException, Provider, Worker

    with runtime.session() as session, session.begin():
        provider = session.scalars(sa.select(Provider).where(Provider.slug == "demo")).one()
        worker_id = session.scalars(sa.select(Worker.id).where(Worker.provider_id == provider.id)).first()
        closure = AvailabilityException(
            provider_id=provider.id, worker_id=worker_id, day=(datetime.now(UTC) + timedelta(days=1)).date()
        )
        session.add(closure)
        session.flush()
        closure_id = closure.id
    busy = OPEN_ALERTS  # a person with an alert, a referral, a booking and ten messages
    return [
        ("queue", "/provider/"),
        ("queue, all referrals", "/provider/?show=all"),
        ("queue, at risk", "/provider/?show=at_risk"),
        ("queue, search a number", f"/provider/?q=%23{PEOPLE // 2}"),
        ("queue, search an area", "/provider/?q=Cardiff"),
        ("queue, Welsh, assigned to me", "/provider/?language=cy&mine=1"),
        ("queue, booked today, unconfirmed", "/provider/?today=1"),
        ("a person's page", f"/provider/people/{busy}"),
        ("a referral's page", f"/provider/referrals/{busy}"),
        ("checklists", "/provider/checklists"),
        ("a closed day's bookings", f"/provider/closed-days/{closure_id}"),
        ("workers", "/provider/workers"),
        ("a worker", f"/provider/workers/{worker_id}"),
        ("places", "/provider/places"),
        ("closed days", "/provider/exceptions"),
        ("booking settings", "/provider/settings"),
        ("times offered", "/provider/slots"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/rhi_bench_provider_pages")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from bot.demo import reset_demo_logins
    from bot.runtime import Runtime
    from bot.settings import load_settings
    from models.crypto import generate_key
    from webhooks.app import create_app

    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        url = f"sqlite:///{workdir}/bench.sqlite3" if args.backend == "sqlite" else fresh_postgres(args.postgres)
        data_key = generate_key()
        prepare(url, data_key, workdir)
        seed(url, data_key)
        runtime = Runtime(
            load_settings(
                {
                    "RHI_DATABASE_URL": url,
                    "RHI_DATA_KEY": data_key,
                    "RHI_INSTANCE_PATH": str(workdir),
                    "RHI_SECRET_KEY": "bench",
                    "RHI_REQUIRE_TWO_FACTOR": "off",  # what is timed is the pages, not the sign-in
                }
            )
        )
        with runtime.session() as session, session.begin():
            logins = reset_demo_logins(session)
        client = create_app(runtime).test_client()
        login_page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
        client.post("/login", data={"email": logins.email, "password": logins.password, "csrf_token": token})
        print(
            f"\n{args.backend}: server time per page, ms: median and slowest of {args.repeat}, and the median CPU time"
        )
        print(f"  (target {TARGET_MS} ms; machine load {Path('/proc/loadavg').read_text().split()[0]})")
        worst = 0.0
        for name, path in pages(runtime):
            assert client.get(path).status_code == 200, path  # warm up, and a page that fails is no figure
            times, cpu = [], []
            for _ in range(args.repeat):
                started, started_cpu = time.perf_counter(), time.process_time()
                client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            worst = max(worst, max(times))
            mark = "" if max(times) < TARGET_MS else "  <-- over the target"
            print(f"  {name:<36} {statistics.median(times):7.1f} {max(times):7.1f} {statistics.median(cpu):7.1f}{mark}")
        print(f"  slowest of all: {worst:.1f} ms")
        runtime.close()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
