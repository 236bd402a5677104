"""Which channels run: a channel is on when its first setting is; half set up, start-up stops with one line."""

from __future__ import annotations

import pytest

from bot.channels.config import enabled_channels
from bot.channels.texts import channel_text
from bot.cli import SERVE_THREADS, main, serve_threads
from bot.settings import ConfigError, load_settings
from models import Channel

TELEGRAM = {"RHI_TELEGRAM_BOT_TOKEN": "7000000001:token", "RHI_TELEGRAM_WEBHOOK_SECRET": "secret"}
SMS = {
    "RHI_TWILIO_ACCOUNT_SID": "AC" + "a" * 32,
    "RHI_TWILIO_AUTH_TOKEN": "token",
    "RHI_TWILIO_FROM": "+447700900000",
    "RHI_PUBLIC_BASE_URL": "https://rhi.example.org",
}


@pytest.mark.parametrize(
    ("environ", "channels"),
    [
        pytest.param({}, set(), id="none: the demo"),
        pytest.param(TELEGRAM, {Channel.TELEGRAM}, id="Telegram"),
        pytest.param(SMS, {Channel.SMS}, id="SMS"),
        pytest.param({**TELEGRAM, **SMS}, {Channel.TELEGRAM, Channel.SMS}, id="both"),
    ],
)
def test_a_channel_is_on_when_its_settings_are_there(environ, channels):
    assert enabled_channels(load_settings(environ)) == channels


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        pytest.param({"RHI_TELEGRAM_BOT_TOKEN": "7000000001:token"}, "RHI_TELEGRAM_WEBHOOK_SECRET", id="no secret"),
        pytest.param({"RHI_TELEGRAM_WEBHOOK_SECRET": "secret"}, "RHI_TELEGRAM_BOT_TOKEN", id="no token"),
        pytest.param({**SMS, "RHI_TWILIO_FROM": ""}, "RHI_TWILIO_FROM", id="no sending number"),
        pytest.param({**SMS, "RHI_PUBLIC_BASE_URL": ""}, "RHI_PUBLIC_BASE_URL", id="no public URL to check signatures"),
        pytest.param({"RHI_TWILIO_AUTH_TOKEN": "token"}, "RHI_TWILIO_ACCOUNT_SID", id="no account"),
    ],
)
def test_a_channel_half_set_up_stops_start_up_with_one_line_naming_what_is_missing(environ, missing):
    with pytest.raises(ConfigError) as stopped:
        enabled_channels(load_settings(environ))
    assert str(stopped.value) == f"error: the setting {missing} is required here but is not set"


def test_rhi_serve_stops_before_starting_any_worker(monkeypatch, capsys):
    monkeypatch.setenv("RHI_DATA_KEY", "x")
    monkeypatch.setenv("RHI_SECRET_KEY", "x")
    monkeypatch.setenv("RHI_TELEGRAM_BOT_TOKEN", "7000000001:token")
    monkeypatch.delenv("RHI_TELEGRAM_WEBHOOK_SECRET", raising=False)
    assert main(["serve"]) == 2
    assert capsys.readouterr().err == "error: the setting RHI_TELEGRAM_WEBHOOK_SECRET is required here but is not set\n"


@pytest.mark.parametrize(
    ("database", "channels", "threads"),
    [
        pytest.param("postgresql://db/rhi", {Channel.SMS}, 1, id="PostgreSQL, SMS: requests wait on the database only"),
        pytest.param("postgresql://db/rhi", set(), 1, id="PostgreSQL, no channel"),
        pytest.param("postgresql://db/rhi", {Channel.TELEGRAM, Channel.SMS}, SERVE_THREADS, id="PostgreSQL, Telegram"),
        pytest.param("sqlite:///rhi.sqlite3", {Channel.TELEGRAM}, 1, id="SQLite: one writer at a time"),
    ],
)
def test_a_worker_has_more_threads_only_where_its_requests_wait_on_telegram(database, channels, threads):
    assert serve_threads(database, frozenset(channels)) == threads


def test_channel_texts_come_in_english_welsh_or_both_for_someone_not_known_yet():
    assert channel_text("choose_language", "en") == "Which language would you like?"
    assert channel_text("choose_language", "cy") == "Pa iaith hoffech chi?"
    assert channel_text("choose_language", None) == "Which language would you like?\nPa iaith hoffech chi?"
    assert channel_text("chosen", None, choice="Yes") == "✓ Yes"  # the same in both: said once
