"""SMS conversations through `rhi serve` over real HTTP: messages per second, latency, and the floor.

    python benchmarks/bench_webhooks.py [--backends sqlite,postgresql]
        [--postgres postgresql://postgres@127.0.0.1:5432/rhi_bench_webhooks]
        [--conversations 50] [--seconds 15] [--turn 3] [--stored 1000000]

For each database it starts `rhi serve` (gunicorn, 2 workers) and, under the same server settings, a floor
app of its own (verify Twilio's signature, insert and commit one row, answer): the least any durable
webhook must do. Then, with signed Twilio form posts from many simulated young people doing the
self-referral journey:

- paced: N conversations at once, each person taking 0.5 to 1.5 s to answer (people, not a load test):
  latency p50 / p99, with about 1,000 messages stored;
- flat out: N conversations each sending the next message as soon as the answer comes: messages per
  second (and the latency under that queue), and N clients doing the same against the floor endpoint, in
  alternating turns of `--turn` seconds until each side has had `--seconds` (see `Turns`); the ratio, over
  all turns and turn by turn. The planner's statistics are refreshed first (ANALYZE), as autovacuum would
  have done in a running service: the paced run grew the tables tenfold in seconds;
- paced again after inserting rows directly until `--stored` messages are stored: p50 against the first.

Prints figures; asserts nothing. The PostgreSQL database named is created if missing and emptied first
(never point it at a database you want to keep); SQLite runs in a temporary folder.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import math
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "benchmark-auth-token-0123456789ab"
SERVICE_NUMBER = "+447700900000"
FLOOR_PATH = "/bench/floor"
# The self-referral as a young person answers it, to the end: (what the bot asks, what they answer). A
# question the bot did not ask is passed over: as the demo's workers' free times inside the 72 hours are
# booked, the young person is offered later ones, and once those are gone says when suits them.
SELF_REFERRAL = [
    ("Who are you?", "1"),
    ("What would you like to do?", "2"),
    ("How old are you?", "2"),
    ("When did you get back?", "yesterday"),
    ("Did the police know", "no"),
    ("Where do you live?", "home"),
    ("Which area do you live in", "not sure"),
    ("Is that OK?", "yes"),
    ("Where would you like to meet?", "cafe"),
    ("Who would you like to talk to?", "a woman"),
    ("When suits you?", "1"),
    ("How about one of these?", "1"),
    ("What day and time suits you?", "Sat 2pm"),
    ("Is that right?", "yes"),
    ("Would one suit you?", "none of these"),
    ("trusted adult", "no"),
    ("Send this?", "yes"),
]


# --- the floor: the least a durable webhook does ------------------------------------------------------


def floor_app(database_url: str, public_base_url: str) -> Any:
    """Verify the signature, insert and commit one row, answer with empty TwiML."""
    from flask import Flask, Response, abort, request
    from twilio.request_validator import RequestValidator

    from models import make_engine

    engine = make_engine(database_url)
    validator = RequestValidator(AUTH_TOKEN)
    table = sa.table("bench_floor", sa.column("message_sid"), sa.column("body"), sa.column("received_at"))
    app = Flask("floor")

    @app.post(FLOOR_PATH)
    def floor() -> Any:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(public_base_url + request.path, request.form, signature):
            abort(403)
        with engine.begin() as connection:
            connection.execute(
                table.insert().values(
                    message_sid=request.form["MessageSid"], body=request.form["Body"], received_at=datetime.now(UTC)
                )
            )
        return Response('<?xml version="1.0" encoding="UTF-8"?><Response />', mimetype="application/xml")

    return app


def create_floor_table(url: str) -> None:
    from models import make_engine

    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS bench_floor (id INTEGER PRIMARY KEY "
            + ("AUTOINCREMENT" if url.startswith("sqlite") else "GENERATED ALWAYS AS IDENTITY")
            + ", message_sid VARCHAR(64) NOT NULL UNIQUE, body TEXT NOT NULL, received_at TIMESTAMP WITH TIME ZONE)"
        )
    engine.dispose()


# --- servers -------------------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(url: str, data_key: str, port: int, workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "RHI_DATABASE_URL": url,
        "RHI_DATA_KEY": data_key,
        "RHI_SECRET_KEY": secrets.token_hex(16),
        "RHI_INSTANCE_PATH": str(workdir),
        "RHI_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "RHI_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "RHI_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "RHI_TWILIO_FROM": SERVICE_NUMBER,
    }


def serve_command(port: int, workers: int, threads: int) -> list[str]:
    """``rhi serve`` on ``port``, as the benchmarks run it."""
    return [
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]


def start(command: list[str], env: dict[str, str], port: int, path: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            connection.getresponse().read()
            return process
        except OSError:
            if process.poll() is not None:
                error = process.stderr.read().decode() if process.stderr else ""
                raise SystemExit(f"the server stopped: {error}") from None
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"the server on port {port} did not start in 30 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()


# --- people texting --------------------------------------------------------------------------------------


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, ok: bool) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.errors += not ok


def signed_text(validator: Any, url: str, sid: str, number: str, text: str) -> tuple[str, dict[str, str]]:
    """A text from ``number`` as Twilio posts it to ``url``: the form's body and headers, signed."""
    fields = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": number,
        "To": SERVICE_NUMBER,
        "Body": text,
        "NumMedia": "0",
        "ApiVersion": "2010-04-01",
    }
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": validator.compute_signature(url, fields),
    }
    return urlencode(fields), headers


def said_in(twiml: str) -> str:
    """What the bot said in a TwiML answer."""
    return "\n".join(element.text or "" for element in ET.fromstring(twiml or "<R/>").iter("Message"))


def self_referral(say: Callable[[str, str], str], number: str, going_on: Callable[[], bool] = lambda: True) -> None:
    """One person doing the self-referral, answering each question the bot asks (``say`` gives what it said),
    for as long as ``going_on()``."""
    said = say(number, "hi")
    for question, answer in SELF_REFERRAL:
        if not going_on():
            return
        if question in said:
            said = say(number, answer)


class Texter:
    """Signed Twilio form posts to one path of one server."""

    def __init__(self, port: int, path: str) -> None:
        from twilio.request_validator import RequestValidator

        self.port = port
        self.path = path
        self.url = f"http://127.0.0.1:{port}{path}"
        self.validator = RequestValidator(AUTH_TOKEN)
        self.sids = itertools.count()
        self.prefix = secrets.token_hex(6)

    def send(self, number: str, text: str, results: Results) -> str:
        body, headers = signed_text(self.validator, self.url, f"SM{self.prefix}{next(self.sids):020d}", number, text)
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request("POST", self.path, body, headers)
            response = connection.getresponse()
            answer = response.read().decode()
            ok = response.status == 200
        except OSError:
            answer, ok = "", False
        finally:
            connection.close()
        results.add(time.perf_counter() - started, ok)
        return answer


def conversation(
    texter: Texter,
    numbers: Callable[[], str],
    results: Results,
    until: float,
    think: tuple[float, float],
    turn: Callable[[], AbstractContextManager[None]] = nullcontext,
) -> None:
    """One person after another doing the self-referral, answering each question the bot asks.

    Paced (``think`` given), each message comes after a pause, the first one too: people do not all start
    at the same instant, and a burst of fifty at t=0 would measure the benchmark's start, not the service.
    Each message is sent in a ``turn`` (see `Turns`).
    """

    def say(number: str, text: str) -> str:
        if think[1]:
            time.sleep(random.uniform(*think))
        with turn():
            return said_in(texter.send(number, text, results))

    try:
        while time.monotonic() < until:
            self_referral(say, numbers(), lambda: time.monotonic() < until)
    except TurnsOver:
        return


def new_numbers() -> Callable[[], str]:
    """A new young person's number each time, never the same twice in one run."""
    counter = itertools.count()
    lock = threading.Lock()

    def numbers() -> str:
        with lock:
            return f"+44770{next(counter) + 1_000_000 * random.randint(1, 9):07d}"

    return numbers


def for_a_while(run: Callable[[Results, float], None], clients: int, seconds: float) -> tuple[Results, float]:
    """``run(results, until)`` in ``clients`` threads for ``seconds``: what they measured, and how long it took."""
    results = Results()
    until = time.monotonic() + seconds
    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(results, until)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - started


def drive(
    texter: Texter, conversations: int, seconds: float, think: tuple[float, float] = (0, 0)
) -> tuple[Results, float]:
    numbers = new_numbers()
    return for_a_while(
        lambda results, until: conversation(texter, numbers, results, until, think), conversations, seconds
    )


def floor_client(
    texter: Texter, results: Results, until: float, turn: Callable[[], AbstractContextManager[None]] = nullcontext
) -> None:
    """For the floor: posts again as soon as it is answered."""
    number = f"+4477009{random.randint(0, 99999):05d}"
    try:
        while time.monotonic() < until:
            with turn():
                texter.send(number, "hi", results)
    except TurnsOver:
        return


def flat_out(texter: Texter, clients: int, seconds: float) -> tuple[Results, float]:
    """The floor on its own, flat out (to warm it up)."""
    return for_a_while(lambda results, until: floor_client(texter, results, until), clients, seconds)


class TurnsOver(Exception):
    """The run in turns has ended: the client stops."""


class Turns:
    """The machine's time, given to each side (the full pipeline and the floor, say) in short turns.

    Measured one after the other for a quarter of a minute each, the two rates were taken under different
    loads from whatever else a shared machine was running, and their ratio moved by a tenth or more from run
    to run. In alternating turns of a few seconds every side sees the same machine. All servers stay up and
    all clients stay connected to them; a client waits for its side's turn before each message. A turn ends
    once the requests it let in have been answered, and that wait counts in the turn's time, so no side is
    ever timed while another side's requests are still being served.
    """

    _OVER = "over"

    def __init__(self, sides: tuple[str, ...]) -> None:
        # One condition per side and one for the end of a turn, all on one lock: a message answered wakes
        # no one but the turn's end (a hundred clients woken for every answer would cost the machine more
        # than the floor does).
        lock = threading.Lock()
        self._waiting = {side: threading.Condition(lock) for side in sides}
        self._drained = threading.Condition(lock)
        self._lock = lock
        self._side: str | None = None
        self._in_flight = 0

    @contextmanager
    def of(self, side: str) -> Iterator[None]:
        """Wait for ``side``'s turn, and hold it open while the block runs."""
        with self._lock:
            self._waiting[side].wait_for(lambda: self._side in (side, self._OVER))
            if self._side == self._OVER:
                raise TurnsOver
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1
                if not self._in_flight and self._side is None:
                    self._drained.notify()

    def give(self, side: str, seconds: float) -> float:
        """Give ``side`` a turn of ``seconds``; return how long it had, until its last answer came back."""
        with self._lock:
            self._side = side
            started = time.perf_counter()
            self._waiting[side].notify_all()
        time.sleep(seconds)
        with self._lock:
            self._side = None
            self._drained.wait_for(lambda: self._in_flight == 0)
            return time.perf_counter() - started

    def end(self) -> None:
        with self._lock:
            self._side = self._OVER
            for waiting in self._waiting.values():
                waiting.notify_all()


def server_cpu(pid: int) -> float:
    """CPU seconds a server has used so far: gunicorn and its workers (Linux's /proc; 0 elsewhere)."""
    processes = {pid}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:  # its parent
                processes.add(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    total = 0
    for process in processes:
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # user and system time of the process
    return total / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> float:
    """CPU seconds the whole machine has been busy (Linux's /proc; 0 elsewhere): user, nice, system, irq."""
    try:
        user, nice, system, _idle, _iowait, irq, softirq = map(int, Path("/proc/stat").read_text().split()[1:8])
    except OSError:
        return 0.0
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


@dataclass
class Side:
    """One side's messages and the time it had the machine, over all its turns and turn by turn, and the
    CPU time its server (``server_pid``) and the whole machine used in its turns."""

    server_pid: int
    results: Results = field(default_factory=Results)
    seconds: float = 0.0
    rates: list[float] = field(default_factory=list)
    server_cpu: float = 0.0
    machine_cpu: float = 0.0

    def take(self, turns: Turns, side: str, seconds: float) -> None:
        before = len(self.results.latencies)
        server, machine = server_cpu(self.server_pid), machine_cpu()
        took = turns.give(side, seconds)
        self.machine_cpu += machine_cpu() - machine  # first: reading the server's processes costs a little
        self.server_cpu += server_cpu(self.server_pid) - server
        self.seconds += took
        self.rates.append((len(self.results.latencies) - before) / took)

    def cpu_per_message(self) -> str:
        """Where a message's CPU time went: what tells a slower side's cost apart from the machine's noise."""
        messages = len(self.results.latencies) or 1
        web, everything = self.server_cpu / messages * 1000, self.machine_cpu / messages * 1000
        return f"CPU per message {everything:.2f} ms: web workers {web:.2f}, the rest {everything - web:.2f}"


# What a side's clients do in the turns: ``client(results, turn)``, each message sent in ``turn()``.
Client = Callable[[Results, Callable[[], AbstractContextManager[None]]], None]


def journeys(texter: Texter) -> Client:
    """Young people doing the self-referral against ``texter``, flat out, one after another."""
    numbers = new_numbers()
    return lambda results, turn: conversation(texter, numbers, results, math.inf, (0, 0), turn)


def floor_posts(texter: Texter) -> Client:
    return lambda results, turn: floor_client(texter, results, math.inf, turn)


def turn_by_turn(one: Side, other: Side) -> list[float]:
    """``one``'s rate over ``other``'s in each pair of turns, lowest first."""
    return sorted(mine / theirs for mine, theirs in zip(one.rates, other.rates, strict=True))


def in_turns(sides: dict[str, tuple[Side, Client]], conversations: int, seconds: float, turn_seconds: float) -> None:
    """Each side's client in ``conversations`` threads, flat out, the sides in alternating turns of
    ``turn_seconds`` until each has had ``seconds``."""
    turns = Turns(tuple(sides))
    threads = [
        threading.Thread(target=client, args=(side.results, partial(turns.of, name)))
        for name, (side, client) in sides.items()
        for _ in range(conversations)
    ]
    for thread in threads:
        thread.start()
    try:
        for _ in range(max(1, round(seconds / turn_seconds))):
            for name, (side, _) in sides.items():
                side.take(turns, name, turn_seconds)
    finally:
        turns.end()
        for thread in threads:
            thread.join()


def summary(results: Results, elapsed: float) -> tuple[float, float, float]:
    quantiles = statistics.quantiles(results.latencies, n=100)
    return len(results.latencies) / elapsed, quantiles[49] * 1000, quantiles[98] * 1000


def line(label: str, results: Results, elapsed: float) -> float:
    rate, p50, p99 = summary(results, elapsed)
    errors = f"   {results.errors} errors" if results.errors else ""
    print(f"  {label:<44} {rate:8.1f} messages/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms{errors}", flush=True)
    return rate


# --- stored messages -------------------------------------------------------------------------------------


def store_messages(url: str, data_key: str, total: int) -> None:
    """Insert rows directly (much faster than the webhook) until ``total`` messages are stored: people with a
    conversation each, half the messages theirs (with the inbound event that brought them), half the bot's."""
    from models import crypto, make_engine

    crypto.configure_keys([data_key])
    engine = make_engine(url)
    sqlite = url.startswith("sqlite")
    with engine.connect() as connection:
        stored = connection.scalar(sa.text("SELECT count(*) FROM messages"))
        first_contact = connection.scalar(sa.text("SELECT coalesce(max(id), 0) FROM contacts")) + 1
    missing = total - stored
    if missing <= 0:
        engine.dispose()
        return
    contacts_table = sa.table(
        "contacts",
        *map(
            sa.column,
            (
                "id",
                "channel",
                "address_hash",
                "address",
                "language",
                "language_chosen",
                "opted_out",
                "created_at",
                "last_seen_at",
            ),
        ),
    )
    events_table = sa.table(
        "inbound_events", *map(sa.column, ("id", "channel", "external_id", "contact_id", "received_at", "processed_at"))
    )
    messages_table = sa.table(
        "messages",
        *map(
            sa.column, ("contact_id", "direction", "channel", "text", "inbound_event_id", "created_at", "external_id")
        ),
    )
    texts = [crypto.encrypt(f"stored message number {n}, about as long as a real one is".encode()) for n in range(50)]
    per_contact = 50
    people = max(1, missing // per_contact)
    start = datetime.now(UTC) - timedelta(days=60)

    def at(seconds: float) -> datetime:
        moment = start + timedelta(seconds=seconds)
        return moment.replace(tzinfo=None) if sqlite else moment

    with engine.connect() as connection:
        first_event = connection.scalar(sa.text("SELECT coalesce(max(id), 0) FROM inbound_events")) + 1
    batch = 400  # people per transaction: 20,000 messages
    event_id = first_event
    written = 0
    for first in range(0, people, batch):
        contacts, events, messages = [], [], []
        for person in range(first_contact + first, first_contact + min(first + batch, people)):
            number = f"+44700{person:08d}"
            contacts.append(
                {
                    "id": person,
                    "channel": "sms",
                    "address_hash": crypto.address_hash("sms", number),
                    "address": texts[0],
                    "language": "en",
                    "language_chosen": False,
                    "opted_out": False,
                    "created_at": at(person),
                    "last_seen_at": at(person),
                }
            )
            for n in range(per_contact // 2):
                moment = at(person * 60 + n)
                events.append(
                    {
                        "id": event_id,
                        "channel": "sms",
                        "external_id": f"SMstored{event_id:024d}",
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
                        "text": texts[n % 50],
                        "inbound_event_id": event_id,
                        "created_at": moment,
                        "external_id": f"SMstored{event_id:024d}",
                    }
                )
                messages.append(
                    {
                        "contact_id": person,
                        "direction": "outbound",
                        "channel": "sms",
                        "text": texts[(n + 1) % 50],
                        "inbound_event_id": event_id,
                        "created_at": moment,
                        "external_id": None,
                    }
                )
                event_id += 1
        with engine.begin() as connection:
            connection.execute(contacts_table.insert(), contacts)
            connection.execute(events_table.insert(), events)
            connection.execute(messages_table.insert(), messages)
        written += len(messages)
        if sys.stdout.isatty():
            print(f"\r  storing messages: {stored + written:,}", end="", flush=True)
    print(f"\r  stored messages: {stored + written:,}", flush=True)
    with engine.begin() as connection:
        if not sqlite:
            connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('contacts', 'id'), (SELECT max(id) FROM contacts))"
            )
            connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('inbound_events', 'id'), (SELECT max(id) FROM inbound_events))"
            )
            connection.exec_driver_sql("ANALYZE")
        else:
            connection.exec_driver_sql("ANALYZE")
    engine.dispose()


def analyze(url: str) -> None:
    """Fresh planner statistics, as autovacuum keeps them in a service that has run for a while.

    The paced run grows the tables many times over in seconds, far quicker than autovacuum looks (once a
    minute): PostgreSQL would go on checking every foreign key with a plan made for a table of twenty rows,
    a scan of the whole table each time, which no service that has run for a minute does.
    """
    from models import make_engine

    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()


def count_messages(url: str) -> int:
    from models import make_engine

    engine = make_engine(url)
    with engine.connect() as connection:
        total = connection.scalar(sa.text("SELECT count(*) FROM messages"))
    engine.dispose()
    return int(total)


# --- one database ----------------------------------------------------------------------------------------


def prepare(url: str, data_key: str, workdir: Path) -> None:
    from bot.demo import load_demo_data
    from bot.runtime import Runtime
    from bot.settings import load_settings
    from models.migrate import upgrade

    upgrade(url)
    runtime = Runtime(
        load_settings({"RHI_DATABASE_URL": url, "RHI_DATA_KEY": data_key, "RHI_INSTANCE_PATH": str(workdir)})
    )
    with runtime.session() as session, session.begin():
        load_demo_data(session, runtime.clock(), runtime.timezone)
    runtime.close()
    create_floor_table(url)


def bench(name: str, url: str, workdir: Path, args: argparse.Namespace) -> None:
    from bot.cli import serve_threads
    from models import Channel
    from models.crypto import generate_key

    threads = args.threads or serve_threads(url, frozenset({Channel.SMS}))  # as `rhi serve` sets it for SMS
    print(f"\n{name}: gunicorn, {args.workers} workers x {threads} threads; {args.conversations} conversations")
    data_key = generate_key()
    prepare(url, data_key, workdir)
    store_messages(url, data_key, 1_000)
    port, floor_port = free_port(), free_port()
    server_settings = ["--workers", str(args.workers), "--threads", str(threads)]
    rhi_serve = serve_command(port, args.workers, threads)
    floor_serve = [sys.executable, __file__, "--floor-server", str(floor_port), "--database", url, *server_settings]
    server = start(rhi_serve, environment(url, data_key, port, workdir), port, "/healthz")
    floor = start(floor_serve, environment(url, data_key, floor_port, workdir), floor_port, "/")
    try:
        pipeline, floor_texter = Texter(port, "/webhooks/sms"), Texter(floor_port, FLOOR_PATH)
        drive(pipeline, 4, 2)  # warm up: every worker has loaded everything
        flat_out(floor_texter, 4, 1)
        stored = count_messages(url)
        results, elapsed = drive(pipeline, args.conversations, args.seconds, think=(0.5, 1.5))
        line(f"paced, {stored:,} messages stored", results, elapsed)
        paced_p50 = summary(results, elapsed)[1]
        analyze(url)
        full, least = Side(server.pid), Side(floor.pid)
        sides = {"pipeline": (full, journeys(pipeline)), "floor": (least, floor_posts(floor_texter))}
        in_turns(sides, args.conversations, args.seconds, args.turn)
        rate = line("flat out: the full pipeline", full.results, full.seconds)
        print(f"  {'':<44} {full.cpu_per_message()}")
        floor_rate = line("flat out: the floor (signature, one row)", least.results, least.seconds)
        print(f"  {'':<44} {least.cpu_per_message()}")
        ratios = turn_by_turn(full, least)
        print(
            f"  {'pipeline / floor':<44} {rate / floor_rate:8.1%}   turn by turn "
            f"{ratios[0]:.0%} to {ratios[-1]:.0%} (median {statistics.median(ratios):.0%}, "
            f"{len(ratios)} pairs of {args.turn:g} s turns)",
            flush=True,
        )
        if args.stored > stored:
            stop(server)
            store_messages(url, data_key, args.stored)
            server = start(rhi_serve, environment(url, data_key, port, workdir), port, "/healthz")
            drive(pipeline, 4, 2)
            stored = count_messages(url)
            results, elapsed = drive(pipeline, args.conversations, args.seconds, think=(0.5, 1.5))
            line(f"paced, {stored:,} messages stored", results, elapsed)
            print(f"  {'p50 with many stored / p50 with few':<44} {summary(results, elapsed)[1] / paced_p50:8.2f}x")
    finally:
        stop(server)
        stop(floor)


def fresh_postgres(url: str) -> str:
    target = sa.make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    if target.database in ("test", "postgres", "template0", "template1"):
        raise SystemExit(f"refusing to empty the database {target.database!r}: name one for this benchmark only")
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    admin.dispose()
    return target.render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/rhi_bench_webhooks")
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--turn", type=float, default=3, help="seconds per turn in the flat-out runs")
    parser.add_argument("--stored", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, help="threads per worker (default: what rhi serve uses)")
    parser.add_argument("--floor-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.floor_server:  # the floor app, in a server of its own, with the settings `rhi serve` uses
        from bot.cli import serve_wsgi

        public = os.environ["RHI_PUBLIC_BASE_URL"]
        serve_wsgi(
            lambda: floor_app(args.database, public),
            host="127.0.0.1",
            port=args.floor_server,
            workers=args.workers,
            threads=args.threads or 1,
        )
        return

    with tempfile.TemporaryDirectory() as workdir:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                bench("SQLite", f"sqlite:///{workdir}/bench.sqlite3", Path(workdir), args)
            elif backend == "postgresql":
                bench("PostgreSQL", fresh_postgres(args.postgres), Path(workdir), args)


if __name__ == "__main__":
    main()
