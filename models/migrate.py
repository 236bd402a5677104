"""Alembic driven from code (``rhi db upgrade``, ``rhi demo``): no alembic.ini is needed at runtime.

To add a migration, autogenerate it against a database at head, then read and tidy the file it writes in
``models/migrations/versions``::

    from alembic import command
    from models.migrate import alembic_config

    command.revision(alembic_config(url), "what changed", autogenerate=True, rev_id="0002")
"""

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from models.db import make_engine, normalise_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    """An Alembic config for ``url``; env.py uses ``connection`` when given, else connects to the URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Numbered files (0001_initial.py) read in order; "%%" because Config is a ConfigParser.
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["url"] = normalise_url(url)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _run(url: str, upgrade: bool, revision: str) -> None:
    # Foreign keys are off on SQLite while migrating: a batch rebuild drops and recreates a table, and
    # with them on that would cascade-delete the rows that point at it. They are checked afterwards.
    engine = make_engine(url, sqlite_foreign_keys=False)
    try:
        with engine.begin() as connection:
            config = alembic_config(url, connection)
            if upgrade:
                command.upgrade(config, revision)
            else:
                command.downgrade(config, revision)
            if connection.dialect.name == "sqlite":
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(
                        f"migration to {revision} broke foreign keys in tables "
                        f"{sorted({row[0] for row in broken})}; rolled back"
                    )
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (creating it, and its folder, if it is a new SQLite
    file: on a new install the instance folder is not there yet)."""
    parsed = sa.make_url(normalise_url(url))
    file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if file and file != ":memory:" and not file.startswith("file:"):
        Path(file).parent.mkdir(parents=True, exist_ok=True)
    _run(url, True, revision)


def downgrade(url: str, revision: str) -> None:
    """Take the database at ``url`` down to ``revision`` ("base" removes every table)."""
    _run(url, False, revision)


def current(url: str) -> str | None:
    """The revision the database at ``url`` is at, or None when it has never been migrated."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("alembic_version"):
                return None
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
