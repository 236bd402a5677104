"""`rhi demo`: one command, no accounts, no settings; and nothing personal left readable on disk or in logs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PHONE_LIKE = "07700 900999"
SECRET_SENTENCE = "my stepdad took my phone again"


def rhi(*args: str, instance: Path, stdin: str = "", extra_env: dict | None = None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("RHI_")}
    env.update({"RHI_INSTANCE_PATH": str(instance), **(extra_env or {})})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        cwd=instance.parent,
    )


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return tmp_path / "instance"


def test_demo_load_only_needs_no_settings_and_is_idempotent(instance):
    first = rhi("demo", "--load-only", instance=instance)
    assert first.returncode == 0, first.stderr
    assert (instance / "rhi.sqlite3").exists() and (instance / "data.key").exists()
    assert oct((instance / "data.key").stat().st_mode)[-3:] == "600"
    second = rhi("demo", "--load-only", instance=instance)
    assert second.returncode == 0, second.stderr

    import sqlite3

    with sqlite3.connect(instance / "rhi.sqlite3") as connection:
        counts = {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("providers", "workers", "places", "slots")
        }
    assert counts["providers"] == 1 and counts["workers"] == 4 and counts["places"] == 7
    assert counts["slots"] > 0


def test_demo_serves_the_web_app_and_chats_then_leaves_nothing_personal_in_plain_form(instance):
    messages = ["hi", "1", "3", "11", f"{SECRET_SENTENCE}, call me on {PHONE_LIKE}", "5"]
    completed = rhi("demo", instance=instance, stdin="\n".join(messages) + "\n")
    assert completed.returncode == 0, completed.stderr
    assert "http://127.0.0.1:" in completed.stdout
    records = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    assert len(records) == len(messages)
    assert "change your mind" in records[-1]["out"][-1]

    files = [path for path in instance.iterdir() if path.name.startswith("rhi.sqlite3")]  # with -wal, -shm
    for path in files:
        raw = path.read_bytes()
        assert SECRET_SENTENCE.encode() not in raw, path.name
        assert PHONE_LIKE.encode() not in raw and b"900999" not in raw, path.name
    assert SECRET_SENTENCE not in completed.stderr and "900999" not in completed.stderr


def test_a_command_that_needs_a_setting_names_it_in_one_line(instance):
    completed = rhi("serve", instance=instance)
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == ["error: the setting RHI_DATA_KEY is required here but is not set"]
