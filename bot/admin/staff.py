"""Staff accounts: adding someone with a one-time password, listing, disabling and resetting.

Whoever adds or resets an account chooses no password: one is made, shown once, and must be changed at the
first login (``must_change_password``), so no one but its owner ever knows a password in use. A provider admin
manages only their own provider's people (``scope``); an admin manages everyone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from bot.admin import Refused
from bot.admin.providers import find_provider
from bot.providers import two_factor
from bot.providers.accounts import end_sessions, find_staff, new_password, set_password
from models import StaffRole, StaffUser

EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"
MAX_EMAIL = 254
MAX_STAFF_NAME = 100
# Roles that work for one provider and must name it; the others may name one (an admin who also works there).
PROVIDER_ROLES = frozenset({StaffRole.DUTY_WORKER, StaffRole.PROVIDER_ADMIN})
# What a provider admin may give their own people (never admin or coordinator, which are deployment-wide).
ROLES_A_PROVIDER_ADMIN_GIVES = PROVIDER_ROLES


@dataclass(frozen=True)
class OneTimePassword:
    user: StaffUser
    password: str  # shown once; the person must choose their own at their first login


def staff_role(value: str) -> StaffRole:
    try:
        return StaffRole(value.strip().lower())
    except ValueError:
        roles = ", ".join(role.value for role in StaffRole)
        raise Refused(f"{value!r} is not a role: one of {roles}") from None


def add_staff(
    session: Session,
    email: str,
    role: StaffRole,
    provider_slug: str | None = None,
    name: str | None = None,
    *,
    scope: int | None = None,
) -> OneTimePassword:
    """A new account with a one-time password. ``scope``: the provider id of the provider admin doing it."""
    email = email.strip()
    if not re.fullmatch(EMAIL, email) or len(email) > MAX_EMAIL:
        raise Refused(f"{email!r} is not an email address")
    if find_staff(session, email) is not None:
        raise Refused(f"there is already a member of staff with the email {email}")
    provider = find_provider(session, provider_slug) if provider_slug else None
    if role in PROVIDER_ROLES and provider is None:
        raise Refused(f"a {role.value} works for a provider: name it with --provider SLUG")
    if role == StaffRole.COMMISSIONER and provider is not None:
        raise Refused("a commissioner sees the partnership's counts across providers: give no --provider")
    if scope is not None and (role not in ROLES_A_PROVIDER_ADMIN_GIVES or provider is None or provider.id != scope):
        raise Refused("a provider admin adds duty workers and provider admins to their own provider only")
    display_name = " ".join((name or email.split("@")[0]).split())[:MAX_STAFF_NAME]
    user = StaffUser(email=email, display_name=display_name, role=role, provider_id=provider.id if provider else None)
    session.add(user)
    return _one_time_password(user)


def find_account(session: Session, email: str, *, scope: int | None = None) -> StaffUser:
    """The account with ``email``; within a provider admin's own provider when ``scope`` is given (another
    provider's person is refused exactly as one who does not exist)."""
    user = find_staff(session, email)
    if user is None or (scope is not None and user.provider_id != scope):
        raise Refused(f"no member of staff has the email {email}")
    return user


def disable_staff(session: Session, email: str, *, scope: int | None = None) -> StaffUser:
    """The person can no longer log in, and every login they have ends now."""
    user = find_account(session, email, scope=scope)
    user.active = False
    end_sessions(user)
    return user


def reset_staff(session: Session, email: str, *, scope: int | None = None) -> OneTimePassword:
    """A forgotten password or a lost phone: a new one-time password and no second factor until they enrol
    again; every login they had ends. The account is active again."""
    user = find_account(session, email, scope=scope)
    user.active = True
    two_factor.clear(user)  # a lost phone is the other common reason to ask
    return _one_time_password(user)


def _one_time_password(user: StaffUser) -> OneTimePassword:
    password = new_password()
    set_password(user, password)
    user.must_change_password = True
    return OneTimePassword(user, password)


def all_staff(session: Session, *, scope: int | None = None) -> list[StaffUser]:
    query = sa.select(StaffUser).options(selectinload(StaffUser.provider)).order_by(StaffUser.email)
    if scope is not None:
        query = query.where(StaffUser.provider_id == scope)
    return list(session.scalars(query))
