"""Staff of any role, logged in through the one staff login: for the admin pages' tests."""

from __future__ import annotations

from auxil.providers import PASSWORD
from auxil.staff import csrf, log_in
from bot.admin.staff import add_staff
from bot.providers.accounts import set_password
from models import StaffRole
from webhooks.app import create_app


def staff_member(runtime, email: str, role: StaffRole, provider: str | None = None):
    """A test client logged in as a new member of staff (their own password already chosen)."""
    with runtime.session() as session, session.begin():
        set_password(add_staff(session, email, role, provider).user, PASSWORD)
    client = create_app(runtime, {"TESTING": True}).test_client()
    assert log_in(client, email, PASSWORD).status_code == 302
    return client


def post(client, url: str, **fields: str):
    """Send a form on the admin pages as a browser would, with the CSRF token a page carries."""
    token = csrf(client.get("/admin/").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **fields})
