"""A young person asks their provider what the service holds about them, then asks for it to be erased. Each
look and the erasure are in the audit log; another provider sees none of it."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from auxil.admin import post, staff_member
from auxil.providers import demo_login, other_provider, self_referral
from conftest import Conversation

from models import Contact, Message, Referral, StaffRole
from webhooks.app import create_app


def a_young_person_refers(runtime, dispatcher) -> tuple[int, int]:
    person = Conversation(dispatcher, "sms", "+447700900301")
    person.says(*self_referral())
    with runtime.session() as session:
        referral = session.scalars(sa.select(Referral)).one()
        return referral.id, referral.contact_id


def test_a_provider_admin_exports_a_young_persons_data_then_erases_it_on_request(runtime, dispatcher):
    referral_id, contact_id = a_young_person_refers(runtime, dispatcher)
    manager = staff_member(runtime, "manager@demo.example", StaffRole.PROVIDER_ADMIN, "demo")
    found = post(manager, "/admin/people", referral=str(referral_id))
    assert found.headers["Location"] == f"/admin/people/{contact_id}"
    by_phone = post(manager, "/admin/people", phone="+447700900301")
    assert by_phone.headers["Location"] == f"/admin/people/{contact_id}"
    page = manager.get(f"/admin/people/{contact_id}").get_data(as_text=True)
    assert "+447700900301" in page and "home" in page  # their number and their answers
    held = manager.get(f"/admin/people/{contact_id}.json").get_json()
    assert held["person"]["address"] == "+447700900301" and "address_hash" not in held["person"]
    assert held["referrals"][0]["id"] == referral_id and held["messages"] and held["bookings"]

    assert post(manager, f"/admin/people/{contact_id}/erase", confirm="no").status_code == 302
    with runtime.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Message)) > 0  # not confirmed: nothing gone
    assert post(manager, f"/admin/people/{contact_id}/erase", confirm="erase").status_code == 302
    with runtime.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0
        assert session.get(Contact, contact_id).address.startswith("deleted-")
        assert session.get(Referral, referral_id).status is not None  # the provider's record stays
    after = manager.get(f"/admin/people/{contact_id}.json").get_json()
    assert after["messages"] == [] and after["person"]["address"].startswith("deleted-") and after["referrals"]

    log = manager.get("/admin/audit").get_data(as_text=True)
    assert log.count("manager@demo.example") >= 4 and "erased at their request" in log
    rows = list(csv.DictReader(io.StringIO(manager.get("/admin/audit.csv").get_data(as_text=True))))
    assert [row["action"] for row in rows][-1] == "subject_access"  # the look after the erasure
    assert "erasure" in [row["action"] for row in rows]
    assert {row["who"] for row in rows} == {"manager@demo.example"} and {row["provider"] for row in rows} == {"demo"}
    assert all("+4477" not in value for row in rows for value in row.values())  # never their number


def test_another_provider_cannot_find_see_or_erase_them(runtime, dispatcher):
    referral_id, contact_id = a_young_person_refers(runtime, dispatcher)
    other_provider(runtime, staff=False)
    theirs = staff_member(runtime, "manager@valleys.example", StaffRole.PROVIDER_ADMIN, "valleys")
    assert post(theirs, "/admin/people", referral=str(referral_id)).status_code == 404
    assert post(theirs, "/admin/people", phone="+447700900301").status_code == 404
    assert theirs.get(f"/admin/people/{contact_id}").status_code == 404
    assert theirs.get(f"/admin/people/{contact_id}.json").status_code == 404
    assert post(theirs, f"/admin/people/{contact_id}/erase", confirm="erase").status_code == 404
    with runtime.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Message)) > 0
    assert "demo" not in theirs.get("/admin/audit.csv").get_data(as_text=True)


def test_a_duty_worker_has_no_admin_pages(runtime, dispatcher):
    _, contact_id = a_young_person_refers(runtime, dispatcher)
    duty = staff_member(runtime, "duty@demo.example", StaffRole.DUTY_WORKER, "demo")
    for page in ("/admin/", f"/admin/people/{contact_id}", "/admin/audit", "/admin/audit.csv", "/admin/staff"):
        assert duty.get(page).status_code == 403


def test_every_look_at_a_childs_record_is_in_the_audit_log_with_who_looked(runtime, dispatcher):
    referral_id, contact_id = a_young_person_refers(runtime, dispatcher)
    worker = staff_member(runtime, "night@demo.example", StaffRole.DUTY_WORKER, "demo")
    assert worker.get(f"/provider/people/{contact_id}").status_code == 200
    assert worker.get(f"/provider/referrals/{referral_id}").status_code == 200
    case_system = create_app(runtime, {"TESTING": True}).test_client()
    token = demo_login(runtime, staff=False).token
    headers = {"Authorization": f"Bearer {token}"}
    assert case_system.get(f"/api/v1/referrals/{referral_id}", headers=headers).status_code == 200

    manager = staff_member(runtime, "manager@demo.example", StaffRole.PROVIDER_ADMIN, "demo")
    rows = list(csv.DictReader(io.StringIO(manager.get("/admin/audit.csv").get_data(as_text=True))))
    looks = [(row["who"], row["action"], row["person"], row["what"]) for row in rows if row["action"] == "viewed"]
    assert looks == [
        ("night@demo.example", "viewed", str(contact_id), "a person's page"),
        ("night@demo.example", "viewed", str(contact_id), f"referral {referral_id}"),
        ("api", "viewed", str(contact_id), f"referral {referral_id} (API)"),
    ]
    assert all("+4477" not in value for row in rows for value in row.values())  # never their number
