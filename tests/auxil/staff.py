"""Staff logging in at the one login page (/login), as a browser does: with the CSRF token the page carries."""

from __future__ import annotations

import re


def csrf(html: str) -> str:
    """The CSRF token a page's forms carry."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def log_in(client, email: str, password: str, headers: dict[str, str] | None = None, **fields: str):
    """Fill in and send the login form; the response to it (302 to the next page, or the page again).
    ``headers`` go with both requests (``X-Forwarded-For``, as a reverse proxy adds it)."""
    page = client.get("/login", headers=headers).get_data(as_text=True)
    form = {"email": email, "password": password, "csrf_token": csrf(page), **fields}
    return client.post("/login", data=form, headers=headers)


def form(client, url: str, **fields: str):
    """Post a form on a provider page as a browser would: with the CSRF token the page carries."""
    token = csrf(client.get("/provider/").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **fields})
