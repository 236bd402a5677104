"""The Flask app factory: every HTTP edge of the service. Business rules live in ``bot/``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, jsonify, request
from flask_login import current_user

from bot.outbox.relay import outbox_health
from bot.providers.accounts import provider_for_token
from bot.runtime import Runtime
from webhooks import staff_login
from webhooks.channels import register_channel_webhooks
from webhooks.provider_api import register_api
from webhooks.provider_pages import register_provider_pages
from webhooks.studio.views import studio

HSTS = "max-age=31536000; includeSubDomains"  # a year, as browsers' preload lists ask


def _is_staff(runtime: Runtime) -> bool:
    """A logged-in staff member, or a provider's system with its API token."""
    if current_user.is_authenticated:
        return True
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    with runtime.session() as session:
        return provider_for_token(session, token.strip()) is not None


def create_app(runtime: Runtime, test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY=runtime.settings.secret_key or "", MAX_CONTENT_LENGTH=64 * 1024)
    if test_config:
        app.config.update(test_config)
    app.extensions["rhi.runtime"] = runtime
    # One login for every staff page (provider pages and studio), CSRF on every form, the login limit.
    staff_login.init_app(app, runtime.settings)

    @app.get("/healthz")
    def healthz() -> Any:
        try:
            with runtime.session() as session:
                session.execute(sa.text("SELECT 1"))
                outbox = outbox_health(session, runtime.clock())
        except sa.exc.SQLAlchemyError:
            return jsonify(status="error", detail="the database does not answer"), 503
        # ?detail=1 shows the outbox's figures, to staff only: how busy a safeguarding service is, is not
        # everyone's business. That events were given up on (never delivered) is said to anyone, without
        # figures, so that a plain uptime check can raise it.
        if request.args.get("detail") and _is_staff(runtime):
            return jsonify(status="ok", detail={"outbox": outbox})
        if outbox["dead_lettered"]:
            return jsonify(status="ok", dead_lettered=True)
        return jsonify(status="ok")

    https = (runtime.settings.public_base_url or "").startswith("https://")

    @app.after_request
    def _headers(response: Response) -> Response:
        # No answer of ours is meant to be read as another type than it says (a JSON error as HTML).
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if https:  # browsers then never try plain HTTP for this host (and its logins) again
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    # Channel webhooks: Telegram and SMS (register their blueprints here).
    register_channel_webhooks(app, runtime)

    # Provider queue: the provider API and the queue pages (register their blueprints here).
    register_api(app)
    register_provider_pages(app)

    # Coordinators' studio: edit, check, try and publish the scripts, the lexicon and the helplines.
    app.register_blueprint(studio)

    return app
