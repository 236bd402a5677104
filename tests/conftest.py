"""Shared fixtures: a migrated database per backend, and sessions that leave it empty after each test.

Every test that asks for a database runs on SQLite, and on PostgreSQL too when RHI_TEST_DATABASE_URL is
set (CI sets it). A PostgreSQL that is configured but cannot be reached makes those tests ERROR: a skip
would let CI pass without ever touching the production database.
"""

import atexit
import functools
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from models import Base, crypto, make_engine, make_session_factory, migrate, normalise_url

POSTGRESQL_URL_SETTING = "RHI_TEST_DATABASE_URL"
BACKENDS = ["sqlite", *(["postgresql"] if os.environ.get(POSTGRESQL_URL_SETTING) else [])]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked ``one_database`` checks what does not depend on the database (an HTTP contract, the studio's
    pages, the scripts' graph): it runs on SQLite only. Every path that only PostgreSQL takes is still run there by
    the tests of the code that takes it (models, outbox, booking, the webhooks' writes, the reports' queries)."""
    kept, left_out = [], []
    for item in items:
        on = getattr(item, "callspec", None)
        on_postgresql = on is not None and on.params.get("database_url") == "postgresql"
        (left_out if on_postgresql and item.get_closest_marker("one_database") else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes() -> Iterator[None]:
    """Real scrypt, at a cost a test can afford: the suite makes and checks hundreds of staff passwords."""
    from bot.providers import accounts

    production = accounts.PASSWORD_HASH_METHOD
    accounts.PASSWORD_HASH_METHOD = "scrypt:1024:8:1"
    yield
    accounts.PASSWORD_HASH_METHOD = production


@pytest.fixture(scope="session")
def data_key() -> str:
    """The encryption key test data is written with; ``session_factory`` puts it back before each test."""
    key = crypto.generate_key()
    crypto.configure_keys([key])
    return key


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, data_key: str) -> str:
    """A database migrated to head, emptied of everything from earlier runs first."""
    if request.param == "sqlite":
        url = f"sqlite:///{_memory_backed_folder(tmp_path_factory) / 'rhi.sqlite3'}"
    else:
        url = _not_waiting_for_the_disk(_database_of_this_worker(os.environ[POSTGRESQL_URL_SETTING]))
        _drop_everything(url)
    migrate.upgrade(url)
    return url


def _not_waiting_for_the_disk(url: str) -> str:
    """The URL with PostgreSQL's commits not waiting for the server's disk (as _memory_backed_folder, for
    SQLite): what a test checks is what was committed, which every other connection sees at once either way."""
    target = sa.make_url(normalise_url(url))
    return target.update_query_dict({"options": "-c synchronous_commit=off"}).render_as_string(hide_password=False)


def _memory_backed_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for the test database in memory (Linux's /dev/shm) where there is one, else on disk.

    The product's SQLite waits for the disk at every commit, as it must; the tests commit tens of thousands
    of times and test what is committed, not the disk, so they need not wait for it."""
    shared_memory = Path("/dev/shm")
    if not (shared_memory.is_dir() and os.access(shared_memory, os.W_OK)):
        return tmp_path_factory.mktemp("database")
    folder = Path(tempfile.mkdtemp(prefix="rhi-test-", dir=shared_memory))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine, data_key: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the test database; every row is deleted after the test, so tests start empty."""
    crypto.configure_keys([data_key])
    yield make_session_factory(engine)
    _delete_all_rows(engine)


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


def _database_of_this_worker(url: str) -> str:
    """The PostgreSQL database for this test process: the one named, or, when pytest-xdist runs the suite in
    several processes, one of its own beside it (``test`` becomes ``test_gw0``), made if it is missing. The
    suite empties its database, so two processes must never share one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    target = sa.make_url(normalise_url(url))
    name = f"{target.database}_{worker}"
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            known = connection.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
            if known.first() is None:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return target.set(database=name).render_as_string(hide_password=False)


def _drop_everything(url: str) -> None:
    # The schema, not just our tables: alembic_version and anything an old branch left behind go too.
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()


def _delete_all_rows(engine: Engine) -> None:
    tables = Base.metadata.sorted_tables
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # A session a test left open would hold locks; fail loudly instead of hanging the suite.
            connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
            # DELETE, not TRUNCATE: on a few rows it is ten times faster (TRUNCATE makes new files for every
            # table), and one round trip does them all. The ids start again from 1, as on a new database.
            name = connection.dialect.identifier_preparer.format_table
            deletes = "".join(f"DELETE FROM {name(table)};" for table in reversed(tables))
            connection.exec_driver_sql(deletes + _RESTART_SEQUENCES)
        else:
            for table in reversed(tables):
                connection.execute(sa.delete(table))


# Every sequence of the schema back to its start (what TRUNCATE's RESTART IDENTITY did).
_RESTART_SEQUENCES = """
DO $$ DECLARE sequence_name text; BEGIN
  FOR sequence_name IN SELECT quote_ident(sequencename) FROM pg_sequences WHERE schemaname = 'public' LOOP
    EXECUTE 'ALTER SEQUENCE ' || sequence_name || ' RESTART';
  END LOOP;
END $$;
"""


# --- the bot's runtime on the test database ---------------------------------------------------------


@functools.cache
def _builtin_catalog():
    """The built-in scripts, read once for the whole run (a Catalog is never changed once built)."""
    from conversations.loading import load_catalog

    return load_catalog()


@pytest.fixture
def runtime(database_url: str, data_key: str, engine: Engine, session_factory: sessionmaker[Session], tmp_path):
    """A Runtime (settings, scripts, database) on the test database, with the demo provider loaded."""

    from bot.runtime import Runtime
    from bot.settings import load_settings

    # Two-factor sign-in is off here: its own tests (tests/webhooks/test_two_factor.py) turn it on.
    environ = {"RHI_DATABASE_URL": database_url, "RHI_DATA_KEY": data_key, "RHI_INSTANCE_PATH": str(tmp_path),
               "RHI_REQUIRE_TWO_FACTOR": "off"}  # fmt: skip
    runtime = Runtime(load_settings(environ), catalog=_builtin_catalog())
    _load_demo(runtime, engine)
    yield runtime
    runtime.close()


# The demo provider's rows as load_demo_data left them, by database and quarter hour: a test puts them back in
# one statement per table instead of loading them again (a tenth of the time). Its slots depend on the time,
# but only on the quarter hour: its hours start on the hour and a slot with its buffer takes 75 minutes, so
# every slot starts, and every window of the booking settings ends, on a quarter hour.
_demo_rows: dict[tuple[str, int], list[tuple[sa.Table, list[dict]]]] = {}
_QUARTER_HOUR_SECONDS = 15 * 60


def _load_demo(runtime, engine: Engine) -> None:
    from bot.demo import load_demo_data

    now = runtime.clock()
    key = (str(engine.url), int(now.timestamp()) // _QUARTER_HOUR_SECONDS)
    kept = _demo_rows.get(key)
    if kept is None:
        with runtime.session() as session, session.begin():
            load_demo_data(session, now, runtime.timezone)
        with engine.connect() as connection:
            every_table = [
                (table, connection.execute(sa.select(table)).mappings().all()) for table in Base.metadata.sorted_tables
            ]
        _demo_rows[key] = [(table, [dict(row) for row in rows]) for table, rows in every_table if rows]
        return
    with engine.begin() as connection:
        for table, rows in kept:
            connection.execute(table.insert(), rows)
        if connection.dialect.name == "postgresql":  # the ids were given, so the sequences must catch up
            integer_keys = [
                (table.name, column.name)
                for table, _ in kept
                for column in table.primary_key.columns
                if isinstance(column.type, sa.Integer)
            ]
            connection.exec_driver_sql(
                "".join(
                    f"SELECT setval(pg_get_serial_sequence('{name}', '{key}'), (SELECT max({key}) FROM {name}));"
                    for name, key in integer_keys
                )
            )


@pytest.fixture
def dispatcher(runtime):
    from bot.conversation.dispatcher import Dispatcher

    return Dispatcher(runtime)


@pytest.fixture
def young_person(dispatcher):
    """A young person texting the bot over SMS: ``young_person("hi")`` returns the replies' texts."""
    return Conversation(dispatcher, "sms", "+447700900123")


class Conversation:
    """One person's side of a chat, for tests that read like the story."""

    def __init__(self, dispatcher, channel: str, address: str) -> None:
        from models import Channel

        self.dispatcher = dispatcher
        self.channel = Channel(channel)
        self.address = address
        self.sent = 0
        self.last = None

    def __call__(self, text: str) -> list[str]:
        from bot.conversation.dispatcher import Inbound

        self.sent += 1
        # like a Twilio MessageSid: an id of the delivery that says nothing about the person
        delivery_id = f"SM{uuid.uuid4().hex}"
        self.last = self.dispatcher.handle(Inbound(self.channel, self.address, delivery_id, text))
        return [reply.text for reply in self.last.replies]

    @property
    def options(self) -> list[str]:
        return list(self.last.replies[-1].options) if self.last and self.last.replies else []

    def says(self, *texts: str) -> None:
        for text in texts:
            self(text)
