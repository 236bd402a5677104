"""A page for a browser test (the browser itself is the ``browser`` fixture of tests/browser/conftest.py)."""

from __future__ import annotations

from typing import Any


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
