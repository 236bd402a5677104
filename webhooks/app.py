"""The Flask app factory: every HTTP edge of the service. Business rules live in ``bot/``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask, jsonify

from bot.runtime import Runtime


def create_app(runtime: Runtime, test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY=runtime.settings.secret_key or "", MAX_CONTENT_LENGTH=64 * 1024)
    if test_config:
        app.config.update(test_config)
    app.extensions["rhi.runtime"] = runtime

    @app.get("/healthz")
    def healthz() -> Any:
        try:
            with runtime.session() as session:
                session.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return jsonify(status="error", detail="the database does not answer"), 503
        return jsonify(status="ok")

    # Channel webhooks: Telegram and SMS (register their blueprints here).

    # Provider queue: the provider API and the queue pages (register their blueprints here).

    return app
