"""The database setup: SQLite's writers take turns through a lock file instead of sleeping and retrying."""

import fcntl
import os
import threading

import sqlalchemy as sa

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

