"""An admin sets up providers, areas, tokens and staff on the admin pages; a provider admin manages their own
provider's people and nothing else."""

from __future__ import annotations

import re

from auxil.admin import post, staff_member
from auxil.providers import other_provider
from auxil.staff import log_in

from bot.routing import provider_for_area
from models import StaffRole
from webhooks.app import create_app


def test_an_admin_adds_a_provider_covers_an_area_and_gives_it_a_token(runtime):
    admin = staff_member(runtime, "root@rhi.example", StaffRole.ADMIN)
    added = post(admin, "/admin/providers", slug="valleys", name="Valleys Return Home", areas="rhondda_cynon_taf")
    assert added.status_code == 200 and "Added valleys" in added.get_data(as_text=True)
    clash = post(admin, "/admin/providers", slug="hills", name="Hills", areas="cardiff")
    assert clash.status_code == 400 and "already covered by the provider demo" in clash.get_data(as_text=True)
    assert "Hills" not in admin.get("/admin/providers").get_data(as_text=True)  # refused: nothing added

    assert (
        post(admin, "/admin/areas", key="powys", name_en="Powys", name_cy="Powys", provider="valleys").status_code
        == 200
    )
    with runtime.session() as session:
        assert provider_for_area(session, "powys").slug == "valleys"
    post(admin, "/admin/areas", key="powys", uncover="1")
    with runtime.session() as session:
        assert provider_for_area(session, "powys").slug == "demo"  # nobody covers it: the default
    assert "nobody: the default provider" in admin.get("/admin/areas").get_data(as_text=True)

    page = post(admin, "/admin/providers/valleys/token").get_data(as_text=True)
    token = re.search(r'id="api-token">(rhi_[^<]+)<', page).group(1)
    assert admin.get("/api/v1/workers", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert post(admin, "/admin/providers/nobody/token").status_code == 404


def test_an_admin_adds_staff_who_choose_their_password_at_their_first_login(runtime):
    admin = staff_member(runtime, "root@rhi.example", StaffRole.ADMIN)
    page = post(admin, "/admin/staff", email="cy@rhi.example", role="coordinator").get_data(as_text=True)
    one_time = re.search(r"one-time password: <code>([^<]+)<", page).group(1)
    client = create_app(runtime, {"TESTING": True}).test_client()
    assert log_in(client, "cy@rhi.example", one_time).headers["Location"] == "/password"


def test_a_provider_admin_manages_only_their_own_providers_people(runtime):
    other_provider(runtime, staff=False)
    valleys_admin = staff_member(runtime, "boss@valleys.example", StaffRole.PROVIDER_ADMIN, "valleys")
    staff_member(runtime, "duty@demo.example", StaffRole.DUTY_WORKER, "demo")
    for page in ("/admin/providers", "/admin/areas"):
        assert valleys_admin.get(page).status_code == 403
    listing = valleys_admin.get("/admin/staff").get_data(as_text=True)
    assert "boss@valleys.example" in listing and "duty@demo.example" not in listing
    added = post(valleys_admin, "/admin/staff", email="dai@valleys.example", role="duty_worker")
    assert added.status_code == 200 and "one-time password" in added.get_data(as_text=True)
    assert "dai@valleys.example" in valleys_admin.get("/admin/staff").get_data(as_text=True)
    promoted = post(valleys_admin, "/admin/staff", email="x@valleys.example", role="admin")
    assert promoted.status_code == 400
    for action in ("reset", "disable"):
        refused = post(valleys_admin, "/admin/staff", email="duty@demo.example", action=action)
        assert refused.status_code == 400 and "no member of staff" in refused.get_data(as_text=True)
