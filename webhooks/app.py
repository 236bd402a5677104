"""The Flask app factory: every HTTP edge of the service. Business rules live in ``bot/``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, jsonify, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.outbox.outages import endpoints_health
from bot.outbox.relay import outbox_health
from bot.providers.accounts import provider_for_token
from bot.runtime import Runtime
from webhooks import staff_login
from webhooks.admin.views import admin
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
        # ?detail=1 shows the outbox's figures and which provider's endpoint is failing since when, to staff
        # only: how busy a safeguarding service is, is not everyone's business. That events were given up on
        # (never delivered), or that a provider's endpoint is failing, is said to anyone, without figures or
        # names, so that a plain uptime check can raise it. Still 200: this service is up, and taking it out of a
        # load balancer would not bring the provider back.
        if request.args.get("detail") and _is_staff(runtime):
            return jsonify(status="ok", detail={"outbox": outbox, "provider_endpoint": endpoints})
        signals = {"dead_lettered": True} if outbox["dead_lettered"] else {}
        if endpoints:
            signals["provider_endpoint_failing"] = True
        return jsonify(status="ok", **signals)

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
    app.register_blueprint(admin)

    return app
