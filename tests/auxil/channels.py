"""Fixtures for the channel tests: the bot's runtime set up for Telegram and SMS against the local fakes,
the web app (in-process, or over real HTTP on 127.0.0.1), and the people who talk to it.

Test modules import the fixtures they use from here (``*_fixture``; each is named without the suffix).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

import bot.channels.telegram as telegram_channel
from auxil.fake_telegram import FakeTelegram, TelegramUser
from auxil.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, SERVICE_NUMBER, FakeTwilio, SmsUser
from auxil.local_server import serving
from bot.channels.ratelimit import close_rate_limiters
from bot.channels.telegram import close_telegram_senders
from bot.runtime import Runtime
from webhooks.app import create_app

BOT_TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
WEBHOOK_SECRET = "a-secret-only-telegram-and-we-know"
# What Twilio was told to call: a proxy in front of the app, not the address the app listens on.
PUBLIC_BASE_URL = "https://rhi.example.org"
PERSON = "+447700900123"  # Ofcom's numbers for drama: never anyone's phone
CHAT_ID = 1111111


@pytest.fixture(name="telegram_api")
def telegram_api_fixture() -> Iterator[FakeTelegram]:
    with FakeTelegram(BOT_TOKEN) as fake:
        yield fake


@pytest.fixture(name="twilio_api")
def twilio_api_fixture() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture(name="channels")
def channels_fixture(runtime: Runtime, telegram_api: FakeTelegram, twilio_api: FakeTwilio) -> Iterator[Runtime]:
    """The runtime with both channels on, talking to the fakes."""
    runtime.settings = dataclasses.replace(
        runtime.settings,
        public_base_url=PUBLIC_BASE_URL,
        telegram_bot_token=BOT_TOKEN,
        telegram_webhook_secret=WEBHOOK_SECRET,
        telegram_api_base_url=telegram_api.base_url,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from=SERVICE_NUMBER,
        twilio_api_base_url=twilio_api.base_url,
    )
    yield runtime
    close_telegram_senders()
    close_rate_limiters()


@pytest.fixture(name="quick_person")
def quick_person_fixture(monkeypatch: pytest.MonkeyPatch) -> None:
    """The person in these tests answers within milliseconds, faster than anyone types: let the bot keep up.

    Telegram's real pace (about one message a second in a chat) is tested on its own in
    test_telegram_sender.py.
    """
    monkeypatch.setattr(telegram_channel, "PER_CHAT", (0.001, 5))


@pytest.fixture(name="client")
def client_fixture(channels):
    """The web app in-process (Flask's test client)."""
    return create_app(channels, {"TESTING": True}).test_client()


@pytest.fixture(name="server")
def server_fixture(channels) -> Iterator[str]:
    """The web app served over real HTTP on 127.0.0.1 (werkzeug, threaded); its base URL."""
    with serving(create_app(channels)) as base_url:
        yield base_url


@pytest.fixture(name="telegram_user")
def telegram_user_fixture(server: str, telegram_api: FakeTelegram, quick_person: None) -> TelegramUser:
    return TelegramUser(telegram_api, f"{server}/webhooks/telegram", WEBHOOK_SECRET, CHAT_ID)


@pytest.fixture(name="sms_user")
def sms_user_fixture(server: str) -> SmsUser:
    return SmsUser(f"{server}/webhooks/sms", f"{PUBLIC_BASE_URL}/webhooks/sms", PERSON)


def count(runtime, model) -> int:
    with runtime.session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


# The fixtures under their own names as well, for modules that import them that way.
telegram_api = telegram_api_fixture
twilio_api = twilio_api_fixture
channels = channels_fixture
quick_person = quick_person_fixture
client = client_fixture
server = server_fixture
telegram_user = telegram_user_fixture
sms_user = sms_user_fixture
