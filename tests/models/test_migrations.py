"""The migrations build the schema the models describe, and can be undone, on SQLite and PostgreSQL."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from models import Base, Channel, Contact, crypto, make_engine, make_session_factory, migrate

SCRATCH_SCHEMA = "rhi_migration_test"


@pytest.fixture
def scratch_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database on the same backend, so undoing migrations leaves the shared one alone."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCRATCH_SCHEMA} CASCADE")
        connection.exec_driver_sql(f"CREATE SCHEMA {SCRATCH_SCHEMA}")
    url = sa.make_url(database_url).update_query_dict({"options": f"-csearch_path={SCRATCH_SCHEMA}"})
    yield url.render_as_string(hide_password=False)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {SCRATCH_SCHEMA} CASCADE")
    engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(scratch_url: str) -> None:
    head = ScriptDirectory.from_config(migrate.alembic_config(scratch_url)).get_current_head()
    assert migrate.current(scratch_url) is None

    migrate.upgrade(scratch_url)
    assert migrate.current(scratch_url) == head
    assert _tables(scratch_url) == set(Base.metadata.tables)

    migrate.downgrade(scratch_url, "base")
    assert migrate.current(scratch_url) is None
    assert _tables(scratch_url) == set()

    migrate.upgrade(scratch_url)
    assert migrate.current(scratch_url) == head


def test_upgrading_an_up_to_date_database_keeps_its_data(scratch_url: str, data_key: str) -> None:
    crypto.configure_keys([data_key])
    migrate.upgrade(scratch_url)
    engine = make_engine(scratch_url)
    try:
        with make_session_factory(engine)() as session:
            session.add(Contact.for_address(Channel.TELEGRAM, "5512345678"))
            session.commit()

        migrate.upgrade(scratch_url)

        with make_session_factory(engine)() as session:
            assert Contact.find(session, Channel.TELEGRAM, "5512345678") is not None
    finally:
        engine.dispose()


def test_the_models_match_the_migrations(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_the_migrations_form_one_line(database_url: str) -> None:
    scripts = ScriptDirectory.from_config(migrate.alembic_config(database_url))
    assert len(scripts.get_heads()) == 1
    assert len(scripts.get_bases()) == 1
