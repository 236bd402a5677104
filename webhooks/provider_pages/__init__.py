"""The provider's pages (``/provider``): the queue and a referral, reporting returns, and setting up workers, places and
hours, each module adding its pages to the one blueprint in ``common``."""

from flask import Flask

from webhooks.provider_pages import duty, episodes, queue, reports, setup
from webhooks.provider_pages.common import provider_pages

PAGES = (queue, duty, setup, episodes, reports)  # imported for the pages they add to ``provider_pages``


def register_provider_pages(app: Flask) -> None:
    app.register_blueprint(provider_pages)
    app.register_blueprint(reports.partnership_pages)  # the partnership's report, across providers
