"""``POST /webhooks/telegram``: one Telegram update.

Checked first (the secret token Telegram was given with ``setWebhook``, compared in constant time; else
403 and nothing stored), then read (400 when it is not an update), then handled by ``bot.channels``.
Telegram gets 200 once the update is committed; replies go out through the Bot API.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from flask import Blueprint, abort, current_app, request

from bot.channels.inbound import on_telegram_update
from bot.channels.telegram import MalformedUpdate, parse_update
from webhooks.channels.common import bodies_over_the_limit_are_413, database_errors_are_503, runtime

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

telegram = Blueprint("telegram", __name__)
bodies_over_the_limit_are_413(telegram)
database_errors_are_503(telegram)


@telegram.post("/webhooks/telegram")
def receive_update() -> Any:
    secret = (runtime().settings.telegram_webhook_secret or "").encode()
    given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
    if not secret or not hmac.compare_digest(given, secret):
        abort(403)
    try:
        update = parse_update(json.loads(request.get_data()))
    except (ValueError, MalformedUpdate, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        current_app.logger.info("a Telegram webhook body could not be read")
        abort(400)
    on_telegram_update(runtime(), update)
    return "", 200
