"""Everything a process needs to handle messages: settings, database, scripts. Built once at start-up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import ConfigError, Settings
from conversations.catalog import Catalog
from conversations.loading import load_catalog
from models import make_engine, make_session_factory
from models.crypto import configure_keys, load_or_create_key_file

DEMO_KEY_FILE = "data.key"


class Runtime:
    def __init__(self, settings: Settings, *, catalog: Catalog | None = None, allow_key_file: bool = False) -> None:
        self.settings = settings
        keys = list(settings.data_keys)
        if not keys:
            if not allow_key_file:
                raise ConfigError("error: the setting RHI_DATA_KEY is required here but is not set")
            # The demo keeps its own key beside its database, so it needs no setting at all.
            settings.instance_dir.mkdir(parents=True, exist_ok=True)
            keys = [load_or_create_key_file(settings.instance_dir / DEMO_KEY_FILE)]
        configure_keys(keys)
        if settings.database_url.startswith("sqlite:///"):
            Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = make_engine(settings.database_url)
        self.sessions: sessionmaker[Session] = make_session_factory(self.engine)
        self.catalog = catalog or load_catalog()
        self.timezone = ZoneInfo(settings.timezone)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    @cached_property
    def _variables(self) -> dict[str, Any]:
        from bot.safeguarding.helplines import script_variables

        return {
            "service_name": self.settings.service_name,
            **script_variables(),
        }

    def conversation_variables(self) -> dict[str, Any]:
        """What every script may use without asking: the service's name, the helplines."""
        return dict(self._variables)

    def close(self) -> None:
        self.engine.dispose()
