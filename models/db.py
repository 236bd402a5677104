"""Engines and sessions for the embedded SQLite database and for PostgreSQL."""

import fcntl
import functools
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

SQLITE_FILE_NAME = "rhi.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 5000
# Statements that make a SQLite transaction a writer (and so take the writers' lock first).
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "WITH")
# A pooled PostgreSQL connection left unused this long is checked before it is handed out: a database
# restart or a firewall's idle timeout closes connections silently. Checking on every checkout (SQLAlchemy's
# pre-ping) costs a round trip per message; a connection in use a moment ago is as good as checked.
PING_AFTER_IDLE_SECONDS = 5.0
_EACH_STATEMENT_ON_ITS_OWN = "rhi_each_statement_on_its_own"


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
        if not connection.get_execution_options().get(_EACH_STATEMENT_ON_ITS_OWN):
            # Straight to the driver: the statement needs none of SQLAlchemy's handling, on every transaction.
            connection.connection.dbapi_connection.execute("BEGIN")  # type: ignore[union-attr]

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


def each_statement_on_its_own(connection: Connection, on: bool) -> None:
    """Whether each statement on ``connection`` commits by itself instead of in a transaction: for reads that
    need no snapshot in common, and a write that is one statement. Set it before the first statement, or after
    a commit. On PostgreSQL this saves a round trip for BEGIN and one for COMMIT."""
    if one_writer_at_a_time(connection):
        connection.execution_options(**{_EACH_STATEMENT_ON_ITS_OWN: on})  # SQLite: no BEGIN is sent
    else:
        connection.execution_options(isolation_level="AUTOCOMMIT" if on else connection.default_isolation_level)


def one_writer_at_a_time(bind: Engine | Connection) -> bool:
    """Whether the database lets one writer in at a time (SQLite), rather than locking rows (PostgreSQL)."""
    return bind.dialect.name == "sqlite"


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
        session.connection().exec_driver_sql("UPDATE outbox_events SET attempts = attempts WHERE 0")


_RowModel = TypeVar("_RowModel")


def insert_at_once(session: Session, model: type[_RowModel], values: dict[str, Any]) -> _RowModel:
    """``model(**values)`` written at once with one INSERT ... RETURNING its id, and held by ``session`` as if it
    had been flushed: the unit of work, or an ORM insert returning the object, costs about twice the statement.

    Columns left out of ``values`` that have no default are known to be empty; one left out that has a default
    is read from the database if it is asked for.
    """
    mapper = sa.inspect(model)
    [key] = mapper.primary_key
    columns = {name: mapper.attrs[name].columns[0] for name in values}
    if all(column.default is None or column.key in values for column in mapper.local_table.columns):
        # every value given: straight to the driver, which knows no column's default
        statement = inserting(mapper.local_table, tuple((name, column.key) for name, column in columns.items()))
        [(new_id,)] = statement.rows(session.connection(), {f"b_{name}": value for name, value in values.items()})
    else:
        new_id = session.execute(sa.insert(mapper.local_table).returning(key), values).scalar_one()
    empty = {
        attribute.key: None
        for attribute in mapper.column_attrs
        if attribute.key not in values
        and not attribute.columns[0].primary_key
        and attribute.columns[0].default is None
        and attribute.columns[0].server_default is None
    }
    return as_loaded(session, model, {**values, **empty, key.key: new_id})


@functools.cache
def inserting(table: sa.Table, columns: tuple[tuple[str, str], ...]) -> "DriverStatement":
    """An INSERT into ``table`` of ``columns``, (attribute's name, column's key) pairs, each value given as
    ``b_`` + the attribute's name; returning the row's key."""
    [key] = table.primary_key.columns
    values = {column: sa.bindparam(f"b_{name}", type_=table.c[column].type) for name, column in columns}
    return DriverStatement(sa.insert(table).values(values).returning(key))


def update_at_once(session: Session, row: object, values: dict[str, Any]) -> None:
    """``row``'s attributes set to ``values`` with one UPDATE, and held by its session as if it had been flushed,
    the columns updated on every change (``updated_at``) too: the unit of work costs about twice the statement.
    The session's other changes are left for it to flush."""
    mapper = sa.inspect(type(row))
    stamped = {
        attribute.key: _on_update(attribute.columns[0])
        for attribute in mapper.column_attrs
        if attribute.columns[0].onupdate is not None and attribute.key not in values
    }
    given = {**values, **stamped}
    statement = updating(mapper.local_table, tuple((name, mapper.attrs[name].columns[0].key) for name in given))
    parameters = {f"b_{name}": value for name, value in given.items()}
    statement.rows(session.connection(), {**parameters, "b_key": sa.inspect(row).identity[0]})
    for name, value in given.items():
        set_committed_value(row, name, value)


def _on_update(column: sa.Column[Any]) -> Any:
    """The value ``column`` takes on every change, as SQLAlchemy would work it out (a statement on the driver's
    cursor gets none of SQLAlchemy's defaults)."""
    default = column.onupdate
    assert isinstance(default, sa.ColumnDefault) and not default.is_clause_element, "a Python default"
    return default.arg(None) if default.is_callable else default.arg


@functools.cache
def updating(table: sa.Table, columns: tuple[tuple[str, str], ...]) -> "DriverStatement":
    """An UPDATE of ``columns``, as ``inserting`` takes them, of the row of ``table`` whose key is ``b_key``."""
    [key] = table.primary_key.columns
    values = {column: sa.bindparam(f"b_{name}", type_=table.c[column].type) for name, column in columns}
    return DriverStatement(
        sa.update(table).where(key == sa.bindparam("b_key", type_=key.type)).values(values).returning(key)
    )


def as_loaded(session: Session, model: type[_RowModel], values: dict[str, Any]) -> _RowModel:
    """``model(**values)`` held by ``session`` as if a query had just read it: no change to flush. The caller
    knows no other object of the session has its identity (check ``session.identity_map`` first)."""
    row = model(**values)
    make_transient_to_detached(row)
    session.add(row)
    return row


def held_or_loaded(session: Session, model: type[_RowModel], row: sa.RowMapping) -> _RowModel:
    """The object of ``model`` whose columns ``row`` holds (a row that selected all of its table's columns):
    the one the session holds with that identity, else one made from the row, held as if a query had read it."""
    mapper = sa.inspect(model)
    identity = mapper.identity_key_from_primary_key([row[column] for column in mapper.primary_key])
    held = session.identity_map.get(identity)
    if held is not None:
        return held  # type: ignore[no-any-return]
    return as_loaded(session, model, {attribute.key: row[attribute.columns[0]] for attribute in mapper.column_attrs})


def read(session: Session, statement: sa.Select[Any], parameters: dict[str, Any] | None = None) -> sa.Result[Any]:
    """Rows of ``statement`` (a SELECT of columns, not of objects, built once), run on the session's connection.

    ``session.execute`` adds the ORM's bookkeeping to every statement, which rows of columns do not need (about
    30 microseconds a SELECT here; reading objects instead costs three to four times the statement); the
    statement runs on the driver's cursor (``DriverStatement.result``), unless it has lists to expand. The
    session's changes are flushed first, as its autoflush would, so the rows see them.
    """
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    connection = session.connection()
    driven = _driven(statement)
    if not driven.runs_on_the_driver(connection.dialect):
        return connection.execute(statement, parameters or {})
    return driven.result(connection, parameters or {})


@functools.lru_cache(maxsize=500)  # far more than the code has: one built anew for each read is not kept
def _driven(statement: sa.Select[Any]) -> "DriverStatement":
    """The DriverStatement of a statement built once (a module's constant, or cached by its builder)."""
    return DriverStatement(statement)


class DriverStatement:
    """A statement every message runs (a SELECT, or a write with RETURNING), compiled once per dialect and run
    on the driver's own cursor.

    SQLAlchemy builds an execution context and a result object for each statement: for the two a plain message
    runs on PostgreSQL (reading the person, writing everything else) that more than doubled what running them
    cost the web worker (the write: 111 against 44 microseconds). Here the values go through the very type
    processors SQLAlchemy would use, both ways, and a driver error is raised as SQLAlchemy raises it: an
    IntegrityError is still one, and a connection that was lost is invalidated, so the pool replaces it. On
    SQLite a write first takes the writers' turn, as SQLAlchemy's event does for its own statements; it must
    run in a transaction SQLAlchemy began (``session.connection()`` begins one), else it commits on its own.
    """

    def __init__(self, statement: sa.Select[Any] | sa.Insert | sa.Update) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[Any, dict[str, Any], list[Any]]] = {}
        self._columns: dict[str, SimpleResultMetaData] = {}

    def runs_on_the_driver(self, dialect: sa.Dialect) -> bool:
        """Whether the statement can: not one with a list to expand into its SQL (``IN``), which SQLAlchemy
        writes out anew for each run."""
        return not self._for(dialect)[0].post_compile_params

    def result(self, connection: Connection, parameters: dict[str, Any]) -> sa.Result[Any]:
        """The rows of a SELECT as SQLAlchemy's own result would hold them: by position, by name, and in
        ``_mapping`` by the columns selected too."""
        rows = self.rows(connection, parameters)
        key = f"{connection.dialect.name}+{connection.dialect.driver}"
        if key not in self._columns:
            selected = self._for(connection.dialect)[0]._result_columns
            self._columns[key] = SimpleResultMetaData(
                [entry[0] for entry in selected], extra=[entry[2] for entry in selected]
            )
        return IteratorResult(self._columns[key], iter(rows))

    def _for(self, dialect: sa.Dialect) -> tuple[Any, dict[str, Any], list[Any]]:
        key = f"{dialect.name}+{dialect.driver}"
        if key not in self._compiled:
            compiled = self.statement.compile(dialect=dialect)
            binds = {  # by the names the SQL uses (a constant's is made up when it is compiled)
                compiled.bind_names[bind]: bind.type.dialect_impl(dialect).bind_processor(dialect)
                for bind in compiled.binds.values()
            }
            if isinstance(self.statement, sa.Select):
                types = [column.type for column in self.statement.selected_columns]
            else:
                types = [described["type"] for described in self.statement.returning_column_descriptions]
            results = [kind.dialect_impl(dialect).result_processor(dialect, None) for kind in types]
            self._compiled[key] = (compiled, {name: p for name, p in binds.items() if p is not None}, results)
        return self._compiled[key]

    def rows(self, connection: Connection, parameters: dict[str, Any]) -> list[tuple[Any, ...]]:
        """The rows the statement gives (its RETURNING, for a write), run on ``connection`` as it stands."""
        dialect = connection.dialect
        compiled, bind_processors, processors = self._for(dialect)
        values = compiled.construct_params(parameters)
        for name, process in bind_processors.items():
            values[name] = process(values[name])
        dbapi_connection = connection.connection.dbapi_connection
        if compiled.positional:  # SQLite's placeholders are ?s, in order
            values = tuple(values[name] for name in compiled.positiontup)
        if not isinstance(self.statement, sa.Select) and hasattr(dbapi_connection, "wait_for_writers_lock"):
            dbapi_connection.wait_for_writers_lock()
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(compiled.string, values)
            fetched = cursor.fetchall()  # a SELECT, or a write with RETURNING: rows either way
        except dialect.loaded_dbapi.Error as error:
            lost = dialect.is_disconnect(error, dbapi_connection, cursor)
            if lost:
                connection.invalidate(error)
            raise sa.exc.DBAPIError.instance(
                compiled.string, values, error, dialect.loaded_dbapi.Error, connection_invalidated=lost
            ) from error
        finally:
            cursor.close()
        return [
            tuple(value if process is None else process(value) for value, process in zip(row, processors, strict=True))
            for row in fetched
        ]
