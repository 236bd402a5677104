"""Engines and sessions for the embedded SQLite database and for PostgreSQL."""

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

SQLITE_FILE_NAME = "rhi.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 5000


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
        return sa.create_engine(url, pool_pre_ping=True)

    engine = sa.create_engine(url)

    @sa.event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if sqlite_foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin_sqlite(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (a reply is often rendered after it)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def take_write_lock(session: Session) -> None:
    """Start the session's transaction as a writer on SQLite; a no-op on PostgreSQL.

    A SQLite transaction that reads first and writes later cannot wait for another writer (SQLite refuses
    at once, to avoid a deadlock); one that writes first waits for the lock politely. This write changes
    nothing. PostgreSQL's row locks wait by themselves.
    """
    if session.bind is not None and session.bind.dialect.name == "sqlite":
        session.execute(sa.text("UPDATE outbox_events SET attempts = attempts WHERE 0"))
