"""The channels' webhooks: Telegram and SMS (Twilio), each checked for its signature before anything is read."""

from flask import Flask

from bot.channels.config import enabled_channels
from bot.runtime import Runtime
from models import Channel
from webhooks.channels.sms import sms
from webhooks.channels.telegram import telegram


def register_channel_webhooks(app: Flask, runtime: Runtime) -> None:
    """The webhooks of the channels that are on (see ``bot.channels.config``); ConfigError if one is half set up."""
    channels = enabled_channels(runtime.settings)
    if Channel.TELEGRAM in channels:
        app.register_blueprint(telegram)
    if Channel.SMS in channels:
        app.register_blueprint(sms)
