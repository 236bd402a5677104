"""The provider API (``/api/v1``): referrals, alerts and reports, episodes the provider reports, setting up workers,
places and hours, and its OpenAPI document, each module adding its routes to the one blueprint in ``common``."""

from flask import Flask

from webhooks.provider_api import episodes, openapi, referrals, setup
from webhooks.provider_api.common import api, api_http_error

ROUTES = (referrals, setup, episodes, openapi)  # imported for the routes they add to ``api``


def register_api(app: Flask) -> None:
    app.register_blueprint(api)
    for code in (404, 405):
        app.register_error_handler(code, api_http_error)
