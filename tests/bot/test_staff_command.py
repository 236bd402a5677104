"""`rhi staff clear-wait EMAIL` and `rhi staff log-out EMAIL`: what an admin does for a person kept waiting by
someone else's guesses, or whose laptop was lost."""

from __future__ import annotations

import pytest
from auxil.providers import PASSWORD, demo_login
from auxil.staff import log_in

from bot import cli
from bot.providers.accounts import FREE_FAILURES
from webhooks.app import create_app


@pytest.fixture
def command_env(runtime, database_url, data_key, tmp_path, monkeypatch):
    for name, value in {"RHI_DATABASE_URL": database_url, "RHI_DATA_KEY": data_key,
                        "RHI_INSTANCE_PATH": str(tmp_path)}.items():  # fmt: skip
        monkeypatch.setenv(name, value)


def test_an_admin_lets_someone_log_in_again_at_once_after_guesses_at_their_email(runtime, command_env, capsys):
    client = create_app(runtime, {"TESTING": True}).test_client()
    demo = demo_login(runtime)
    for n in range(FREE_FAILURES + 3):
        log_in(client, demo.email, f"guess {n}")
    assert log_in(client, demo.email, PASSWORD).status_code == 429
    assert cli.main(["staff", "clear-wait", demo.email.upper()]) == 0
    assert "may log in again now" in capsys.readouterr().out
    assert log_in(client, demo.email, PASSWORD).status_code == 302


def test_an_admin_ends_every_login_of_someone_whose_laptop_was_lost(runtime, command_env, capsys):
    client = create_app(runtime, {"TESTING": True}).test_client()
    demo = demo_login(runtime)
    log_in(client, demo.email, PASSWORD)
    assert client.get("/provider/").status_code == 200
    assert cli.main(["staff", "log-out", demo.email]) == 0
    assert client.get("/provider/").status_code == 302
    assert cli.main(["staff", "log-out", "nobody@demo.test"]) == 1
    assert "no member of staff" in capsys.readouterr().err
