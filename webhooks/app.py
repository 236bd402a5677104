"""The Flask app factory: every HTTP edge of the service. Business rules live in ``bot/``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask, jsonify, request
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.outbox.outages import endpoints_health
from bot.outbox.relay import outbox_health
from bot.runtime import Runtime
from webhooks import staff_login
from webhooks.channels import register_channel_webhooks
from webhooks.provider_api import register_api
from webhooks.provider_pages import register_provider_pages
from webhooks.studio.views import studio


def create_app(runtime: Runtime, test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY=runtime.settings.secret_key or "", MAX_CONTENT_LENGTH=64 * 1024)
    if test_config:
        app.config.update(test_config)
    app.extensions["rhi.runtime"] = runtime
    hops = runtime.settings.trusted_proxies
    if hops:
        # The client's address and scheme as the last ``hops`` proxies saw them (the per-address login limit
        # counts people, not the proxy); with none trusted, anyone could set these headers, so they are ignored.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    # One login for every staff page (provider pages and studio), CSRF on every form, the login limit.
    staff_login.init_app(app, runtime.settings)

    @app.get("/healthz")
    def healthz() -> Any:
        try:
            with runtime.session() as session:
                session.execute(sa.text("SELECT 1"))
                now = runtime.clock()
                outbox = outbox_health(session, now)
                endpoints = endpoints_health(session, now)
        except sa.exc.SQLAlchemyError:
            return jsonify(status="error", detail="the database does not answer"), 503
        # Dead-lettered events (never delivered, given up on) and a provider's endpoint that is failing
        # ("down since ...") are shown whenever there are any; ?detail=1 shows the outbox's figures always.
        # Still 200: this service is up, and taking it out of a load balancer would not bring the provider back.
        detail: dict[str, Any] = {}
        if outbox["dead_lettered"] or request.args.get("detail"):
            detail["outbox"] = outbox
        if endpoints:
            detail["provider_endpoint"] = endpoints
        return jsonify(status="ok", detail=detail) if detail else jsonify(status="ok")

    # Channel webhooks: Telegram and SMS (register their blueprints here).
    register_channel_webhooks(app, runtime)

    # Provider queue: the provider API and the queue pages (register their blueprints here).
    register_api(app)
    register_provider_pages(app)

    # Coordinators' studio: edit, check, try and publish the scripts, the lexicon and the helplines.
    app.register_blueprint(studio)

    return app
