"""Which channels this deployment runs, and the senders for them, from the RHI_* settings.

A channel is on when its first setting is (Telegram: RHI_TELEGRAM_BOT_TOKEN; SMS: RHI_TWILIO_ACCOUNT_SID);
it then needs the rest, and start-up stops with one line naming the first one missing. The demo sets
none, so it runs with neither.
"""

from __future__ import annotations

from bot.channels.sms import STATUS_PATH, SmsSender
from bot.channels.telegram import TelegramSender, telegram_sender
from bot.settings import Settings
from models import Channel

TELEGRAM_SETTINGS = ("telegram_bot_token", "telegram_webhook_secret")
SMS_SETTINGS = ("twilio_account_sid", "twilio_auth_token", "twilio_from", "public_base_url")


def enabled_channels(settings: Settings) -> frozenset[Channel]:
    """The channels that are on; ConfigError naming the first missing setting of one that is half set up."""
    enabled = set()
    if settings.telegram_bot_token or settings.telegram_webhook_secret:
        settings.require(*TELEGRAM_SETTINGS)
        enabled.add(Channel.TELEGRAM)
    if settings.twilio_account_sid or settings.twilio_auth_token:
        settings.require(*SMS_SETTINGS)
        enabled.add(Channel.SMS)
    return frozenset(enabled)


def telegram_for(settings: Settings) -> TelegramSender:
    settings.require("telegram_bot_token")
    return telegram_sender(str(settings.telegram_bot_token), settings.telegram_api_base_url, settings.redis_url)


def sms_status_url(settings: Settings) -> str | None:
    return f"{settings.public_base_url}{STATUS_PATH}" if settings.public_base_url else None


def sms_for(settings: Settings) -> SmsSender:
    """A sender for one delivery (close it after, or use it in a ``with``)."""
    settings.require("twilio_account_sid", "twilio_auth_token", "twilio_from")
    return SmsSender(
        str(settings.twilio_account_sid),
        str(settings.twilio_auth_token),
        str(settings.twilio_from),
        settings.twilio_api_base_url,
        sms_status_url(settings),
    )
