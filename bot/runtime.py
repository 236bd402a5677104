"""Everything a process needs to handle messages: settings, database, scripts. Built once at start-up."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.releases import build
from bot.safeguarding import load_helplines, load_lexicon
from bot.safeguarding.helplines import script_variables
from bot.settings import ConfigError, Settings
from conversations.catalog import Catalog
from conversations.loading import load_catalog
from models import LiveRelease, ScriptRelease, make_engine, make_session_factory, utcnow
from models.crypto import configure_keys, load_or_create_key_file

if TYPE_CHECKING:
    from bot.safeguarding import Helplines, Lexicon

log = logging.getLogger(__name__)

DEMO_KEY_FILE = "data.key"
# Published releases never change, so what each is built into is kept; a few per kind cover the live one and
# the ones conversations under way started on.
RELEASES_KEPT = 12
# Which release is live is asked again after this long: every message needs it, and a conversation that
# starts in the second after a coordinator publishes may as well start on the version before. Publishing
# in this process is seen at once.
LIVE_RELEASES_FOR_SECONDS = 1.0


def with_given(state: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The conversation as it runs: its saved values and what every conversation is given (``variables_for``)."""
    return {**state, "vars": {**state.get("vars", {}), **given}}


def without_given(state: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The conversation as it is saved: what every conversation is given (the service's name, the helplines)
    is the same for everyone, and large, so it is left out."""
    return {**state, "vars": {k: v for k, v in state["vars"].items() if k not in given}}


_LIVE_RELEASES = sa.select(LiveRelease.__table__.c.kind, LiveRelease.__table__.c.release_id)


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
        # For reads that are checked again before anything is written (a message is decided this way): on
        # PostgreSQL outside any transaction, two round trips fewer; SQLite, in the process, has none to save.
        self.reading_engine: Engine = (
            self.engine
            if self.engine.dialect.name == "sqlite"
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self.catalog = catalog or load_catalog()
        # What runs when nothing is published: the scripts above, and the packaged lexicon and helplines.
        self.lexicon: Lexicon | None = None
        self.helplines: Helplines | None = None
        self._releases: OrderedDict[int, Any] = OrderedDict()
        self._releases_lock = threading.Lock()
        self._variables_by_release: dict[int | None, dict[str, Any]] = {}
        self._live_releases: tuple[float, dict[str, int]] | None = None
        self.timezone = ZoneInfo(settings.timezone)
        # What time it is for the messages handled (transcript tests run at a fixed moment of the week).
        self.clock: Callable[[], datetime] = utcnow

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    @cached_property
    def _variables(self) -> dict[str, Any]:
        return {"service_name": self.service_names, **script_variables()}

    @property
    def service_names(self) -> dict[str, str]:
        """The service's name in each language: {service_name} in a Welsh message is its Welsh name."""
        return {"en": self.settings.service_name, "cy": self.settings.service_name_cy}

    def conversation_variables(self, helplines: Helplines | None = None) -> dict[str, Any]:
        """What every script may use without asking: the service's name, the helplines (default: packaged)."""
        if helplines is None:
            return dict(self._variables)
        return {"service_name": self.service_names, **script_variables(helplines)}

    def variables_for(self, helplines_release: int | None) -> dict[str, Any]:
        """``conversation_variables`` with the helplines of a release (None: the packaged ones), made once
        per release: every message needs them. Do not change the dict returned."""
        with self._releases_lock:
            if helplines_release in self._variables_by_release:
                return self._variables_by_release[helplines_release]
        variables = self.conversation_variables(self.helplines_for(helplines_release))
        with self._releases_lock:
            self._variables_by_release[helplines_release] = variables
            while len(self._variables_by_release) > RELEASES_KEPT:
                self._variables_by_release.pop(next(iter(self._variables_by_release)))
        return variables

    def warm_up(self) -> None:
        """Load what every message needs (the packaged lexicon and helplines) now, at start-up, so the first
        message is not the one that waits for it."""
        self.lexicon_for(None)
        self.variables_for(None)

    # --- what coordinators published in the studio ------------------------------------------------------

    def live_releases(self, session: Session | Connection) -> dict[str, int]:
        """The live release id of each kind (scripts, lexicon, helplines) that has one (asked again after
        ``LIVE_RELEASES_FOR_SECONDS``)."""
        known = self._live_releases
        if known is not None and time.monotonic() - known[0] < LIVE_RELEASES_FOR_SECONDS:
            return dict(known[1])
        releases = {str(kind): release_id for kind, release_id in session.execute(_LIVE_RELEASES)}
        self._live_releases = (time.monotonic(), releases)
        return dict(releases)

    def forget_live_releases(self) -> None:
        """Something was published here: the next message asks which release is live."""
        self._live_releases = None

    def catalog_for(self, release_id: int | None) -> Catalog:
        """The scripts of a release; None: the scripts this runtime was built with."""
        return self.catalog if release_id is None else self._release(release_id)

    def lexicon_for(self, release_id: int | None) -> Lexicon:
        if release_id is None:
            return self.lexicon or load_lexicon()
        return self._release(release_id)

    def helplines_for(self, release_id: int | None) -> Helplines:
        if release_id is None:
            return self.helplines or load_helplines()
        return self._release(release_id)

    def _release(self, release_id: int) -> Any:
        """A release built into what the bot runs, once per process; LookupError when there is no such release.

        A release that no longer passes the checks (this version of the bot reads scripts more strictly than
        the one that published it) is not run: the files shipped with the application are, and it is logged.
        """
        with self._releases_lock:
            if release_id in self._releases:
                self._releases.move_to_end(release_id)
                return self._releases[release_id]
        with self.session() as session:
            release = session.get(ScriptRelease, release_id)
            if release is None:
                raise LookupError(f"there is no release {release_id}")
            try:
                built = build(release.kind, release.files)
            except ValueError:
                log.error("release %d (%s) fails the checks now; the shipped files are used", release_id, release.kind)
                fallback = {"scripts": self.catalog_for, "lexicon": self.lexicon_for, "helplines": self.helplines_for}
                built = fallback[release.kind](None)
        with self._releases_lock:
            self._releases[release_id] = built
            while len(self._releases) > RELEASES_KEPT:
                self._releases.popitem(last=False)
        return built

    def close(self) -> None:
        self.engine.dispose()
