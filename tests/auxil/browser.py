"""Debian's headless Chromium, driven by Playwright, for the browser tests: never a browser of Playwright's own.

A test module imports ``browser_fixture`` (as ``browser``); without playwright (the dev extra) it is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(name="browser", scope="module")
def browser_fixture() -> Iterator[object]:
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


browser = browser_fixture  # under its own name as well, for modules that import it that way
