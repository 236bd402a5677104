"""`rhi db upgrade`: the first command of an install, so it must work on a machine with nothing on it yet."""

import sqlite3
from pathlib import Path

import pytest

from bot.cli import main


def test_db_upgrade_makes_the_instance_folder_it_does_not_find(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    instance = tmp_path / "not" / "there" / "yet"
    for name in ("RHI_DATABASE_URL", "RHI_DATA_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RHI_INSTANCE_PATH", str(instance))

    assert main(["db", "upgrade"]) == 0

    with sqlite3.connect(instance / "rhi.sqlite3") as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone()
