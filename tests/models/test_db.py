"""The database setup: SQLite's writers take turns through a lock file instead of sleeping and retrying;
PostgreSQL connections closed by the server are replaced."""

import fcntl
import os
import threading

import pytest
import sqlalchemy as sa

from bot.conversation.dispatcher import Inbound
from models import Channel, InboundEvent, db
from models.db import make_engine


def lock_is_free(path: str) -> bool:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)


def test_a_sqlite_write_transaction_holds_the_writers_lock_until_it_ends(tmp_path):
    database = tmp_path / "rhi.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    lock = f"{database}-writers.lock"
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (text TEXT)")
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))
        assert lock_is_free(lock)  # reading takes no turn
        connection.execute(sa.text("INSERT INTO notes VALUES ('a')"))
        assert not lock_is_free(lock)
        connection.commit()
        assert lock_is_free(lock)
        connection.execute(sa.text("INSERT INTO notes VALUES ('b')"))
        connection.rollback()
        assert lock_is_free(lock)
    engine.dispose()


def test_a_second_writer_waits_its_turn_and_then_writes(tmp_path):
    database = tmp_path / "rhi.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (text TEXT)")
    first_wrote, second_done, order = threading.Event(), threading.Event(), []

    def second() -> None:
        first_wrote.wait()
        with engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO notes VALUES ('second')"))
            order.append("second")
        second_done.set()

    thread = threading.Thread(target=second)
    thread.start()
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO notes VALUES ('first')"))
        first_wrote.set()
        assert not second_done.wait(0.2)  # it is waiting for this transaction
        order.append("first")
    thread.join()
    assert order == ["first", "second"]
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM notes")).scalar() == 2
    engine.dispose()


def _terminate(database_url: str, backend_pid: int) -> None:
    """What a database restart or an idle timeout does to a pooled connection: closes it from the server."""
    other = make_engine(database_url)
    with other.connect() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend_pid})
        connection.commit()
    other.dispose()


def test_a_connection_the_server_closed_while_idle_is_replaced_before_it_is_used(database_url, monkeypatch):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has no server to close a connection")
    engine = make_engine(database_url)
    with engine.connect() as connection:
        closed = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    _terminate(database_url, closed)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # as if it had been idle a while
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() != closed
    engine.dispose()


def test_a_message_after_the_server_closed_a_busy_connection_is_still_handled(database_url, runtime, dispatcher):
    """A connection used a moment ago is not checked first; the message is tried again on a new one."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has no server to close a connection")
    dispatcher.handle(Inbound(Channel.SMS, "+447700900555", "SM-before", "hi"))
    with runtime.engine.connect() as connection:
        pooled = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    _terminate(database_url, pooled)
    outcome = dispatcher.handle(Inbound(Channel.SMS, "+447700900555", "SM-after", "1"))
    assert not outcome.duplicate and outcome.replies
    with runtime.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(InboundEvent)) == 2
