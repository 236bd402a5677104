"""Alembic environment: run by models.migrate with the URL (and usually a connection) in config attributes."""

from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from models import Base
from models.base import UTCDateTime
from models.crypto import EncryptedJSON, EncryptedText
from models.db import make_engine

config = context.config


def render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Write our column types as the plain types they store, so migrations never import model code."""
    if kind == "type":
        if isinstance(obj, UTCDateTime):
            return "sa.DateTime(timezone=True)"
        if isinstance(obj, EncryptedText | EncryptedJSON):
            return "sa.Text()"
    return False


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=config.attributes["url"],
        target_metadata=Base.metadata,
        literal_binds=True,
        render_as_batch=config.attributes["url"].startswith("sqlite"),
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
elif "connection" in config.attributes:
    run_migrations(config.attributes["connection"])
else:
    engine = make_engine(config.attributes["url"], sqlite_foreign_keys=False)
    try:
        with engine.connect() as connection:
            run_migrations(connection)
    finally:
        engine.dispose()
