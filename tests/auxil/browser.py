"""Debian's headless Chromium, driven by Playwright, for the browser tests: never a browser of Playwright's own.

A browser test module imports ``browser`` (the fixture, one Chromium per module) and ``new_page``; without
playwright (the dev extra) the module is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from auxil.live_app import CHROMIUM, CHROMIUM_ARGS

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def new_page(browser: Any) -> tuple[Any, Any, list[str]]:
    """A wide page in a context of its own, and the script errors and refusals of the content security policy
    it meets, collected as they come (a test asserts there were none)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    return context, page, problems
