"""Small things every channel webhook shares."""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, request

from bot.runtime import Runtime

RETRY_AFTER_SECONDS = "5"


def runtime() -> Runtime:
    return current_app.extensions["rhi.runtime"]


def bodies_over_the_limit_are_413(blueprint: Blueprint) -> None:
    """413 for a body over MAX_CONTENT_LENGTH even when it comes chunked, with no Content-Length.

    Werkzeug cuts such a body off silently at the limit (the rest would be read as a malformed 400 or a
    forged 403); so it is read here, up to one byte past the limit, and handed on with its length.
    """

    @blueprint.before_request
    def measure_chunked_body() -> None:
        if request.content_length is not None or not request.environ.get("wsgi.input_terminated"):
            return  # a Content-Length over the limit is refused by werkzeug itself
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        body = request.environ["wsgi.input"].read(limit + 1)
        if len(body) > limit:
            abort(413)
        request.environ.update({"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))})
        for chunked in ("wsgi.input_terminated", "HTTP_TRANSFER_ENCODING"):
            request.environ.pop(chunked, None)
        request.__dict__.pop("stream", None)  # werkzeug caches the stream; let it wrap the body read here


def database_errors_are_503(blueprint: Blueprint) -> None:
    """A database that does not answer is the server's trouble, not the sender's: 503, nothing acknowledged.
    Telegram delivers the update again later; Twilio tries the number's fallback URL, if one is set."""

    @blueprint.errorhandler(sa.exc.OperationalError)
    @blueprint.errorhandler(sa.exc.InterfaceError)
    def unavailable(error: Exception) -> Any:
        current_app.logger.error("the database did not answer a webhook (%s)", type(error).__name__)
        return "the service is busy, try again", 503, {"Retry-After": RETRY_AFTER_SECONDS}
