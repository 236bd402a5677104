"""Engines and sessions for the embedded SQLite database and for PostgreSQL."""

import fcntl
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

SQLITE_FILE_NAME = "rhi.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 5000
# Statements that make a SQLite transaction a writer (and so take the writers' lock first).
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "WITH")
# A pooled PostgreSQL connection left unused this long is checked before it is handed out: a database
# restart or a firewall's idle timeout closes connections silently. Checking on every checkout (SQLAlchemy's
# pre-ping) costs a round trip per message; a connection in use a moment ago is as good as checked.
PING_AFTER_IDLE_SECONDS = 5.0
WRITER = "rhi_writer"  # an execution option: this transaction will write (see take_write_lock)


class _WritersInTurn(sqlite3.Connection):
    """A SQLite connection whose write transactions queue for a lock file before they write.

    SQLite lets one writer in at a time and makes the others sleep and retry (1, 2, 5, 10... ms), so
    with several processes writing most of the time is spent asleep after the lock was already free.
    An exclusive ``flock`` on a file beside the database queues them instead: the next writer wakes the
    moment the lock is released. The lock is released when the transaction ends, and by the kernel if
    the process dies. A thread that already holds it through another connection does not wait for it
    (that would wait for itself); SQLite's own busy handling applies there, as before.
    """

    lock_path: str | None = None
    _lock_file: int | None = None
    _held_by_thread = threading.local()

    def wait_for_writers_lock(self) -> None:
        if self._lock_file is not None or self.lock_path is None or getattr(self._held_by_thread, "held", 0):
            return
        descriptor = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # releases the GIL while it waits
        self._lock_file = descriptor
        self._held_by_thread.held = 1

    def _release_writers_lock(self) -> None:
        if self._lock_file is not None:
            os.close(self._lock_file)  # closing the descriptor releases the flock
            self._lock_file = None
            self._held_by_thread.held = 0

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release_writers_lock()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release_writers_lock()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release_writers_lock()


def normalise_url(url: str) -> str:
    """The URL with PostgreSQL pointed at psycopg 3, as hosting platforms write ``postgres://``."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def default_database_url(instance_dir: Path) -> str:
    """The embedded default: a SQLite file in the instance folder."""
    return f"sqlite:///{(instance_dir / SQLITE_FILE_NAME).resolve()}"


def make_engine(url: str, *, sqlite_foreign_keys: bool = True) -> Engine:
    """An engine for ``url``.

    On SQLite every connection enforces foreign keys (SQLite does not by default), uses write-ahead
    logging so readers do not block the writer, and waits for a lock rather than failing at once.
    SQLAlchemy, not the sqlite3 driver, emits BEGIN, so SELECTs, DDL and SAVEPOINTs are all inside the
    transaction. ``sqlite_foreign_keys=False`` is for migrations only (a batch table rebuild would
    otherwise cascade deletes).
    """
    url = normalise_url(url)
    if sa.make_url(url).get_backend_name() != "sqlite":
        engine = sa.create_engine(url)
        _ping_after_idle(engine)
        return engine

    database = sa.make_url(url).database
    in_memory = not database or database == ":memory:" or database.startswith("file::memory:")
    engine = sa.create_engine(url, connect_args={"factory": _WritersInTurn})
    lock_path = None if in_memory else f"{Path(database).resolve()}-writers.lock"

    @sa.event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.lock_path = lock_path
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if sqlite_foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin_sqlite(connection: Connection) -> None:
        dbapi_connection: Any = connection.connection.dbapi_connection
        if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            return  # each statement on its own, as asked
        statement = "BEGIN"
        if connection.get_execution_options().get(WRITER):
            dbapi_connection.wait_for_writers_lock()
            statement = "BEGIN IMMEDIATE"
        try:
            dbapi_connection.execute(statement)
        except sqlite3.OperationalError as exc:
            # Raised here, outside SQLAlchemy's statements, the driver's error would reach callers unwrapped;
            # wrapped, "database is locked" is the OperationalError every caller already handles.
            dbapi_connection._release_writers_lock()
            raise sa.exc.OperationalError(statement, None, exc) from exc

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _writers_in_turn(
        connection: Connection, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        if statement.lstrip()[:7].upper().startswith(_WRITES):
            cursor.connection.wait_for_writers_lock()

    return engine


def _ping_after_idle(engine: Engine) -> None:
    """Check a connection that has been idle in the pool before use; replace it if the server is gone."""

    @sa.event.listens_for(engine, "checkin")
    def _idle_from(dbapi_connection: Any, connection_record: Any) -> None:
        connection_record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _check_if_idle(dbapi_connection: Any, connection_record: Any, connection_proxy: Any) -> None:
        idle_since = connection_record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool drops this connection and hands out a new one.
            raise sa.exc.DisconnectionError("a pooled connection was closed by the server") from exc


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (a reply is often rendered after it)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def take_write_lock(session: Session) -> None:
    """Begin the session's transaction as a writer: ``BEGIN IMMEDIATE`` on SQLite; a no-op on PostgreSQL.

    A SQLite transaction that reads first and writes later cannot wait for another writer (SQLite refuses
    at once, to avoid a deadlock); one that begins as a writer waits for the lock politely. PostgreSQL's row
    locks wait by themselves. Call it before the session's first statement.
    """
    if session.bind is not None and session.bind.dialect.name == "sqlite" and not session.info.get(_BEGUN):
        session.connection(execution_options={WRITER: True})


_BEGUN = "rhi_begun"  # the session's transaction has its connection: it began as a reader or a writer already


@sa.event.listens_for(Session, "after_begin")
def _begun(session: Session, transaction: Any, connection: Connection) -> None:
    session.info[_BEGUN] = True


@sa.event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_BEGUN, None)
