"""Two-factor sign-in for staff: a code from an authenticator app (TOTP, RFC 6238, by pyotp) after the password,
or one of ten single-use recovery codes when the phone is lost.

It is required of every role that can read children's messages (duty workers, provider admins, admins) unless
``RHI_REQUIRE_TWO_FACTOR`` is off; a coordinator, who sees scripts but no child's words, may enrol too. Enrolment
starts with a new secret, shown once as a key and an ``otpauth://`` link, and ends when the person types a code
from it; only then is it asked at login. Each code works once (``totp_last_step``); a wrong code counts as a
failed login for the email (``bot.providers.accounts``), with the same growing wait. ``rhi staff reset`` clears
it, for someone who lost both phone and codes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp

from models import StaffRole, StaffUser

ISSUER = "Return Home Interviews"
RECOVERY_CODES = 10
# The code before and after the current one are accepted too: a phone's clock a little off still works.
VALID_WINDOW = 1
ROLES_THAT_READ_CHILDRENS_MESSAGES = frozenset({StaffRole.DUTY_WORKER, StaffRole.PROVIDER_ADMIN, StaffRole.ADMIN})


def is_enrolled(user: StaffUser) -> bool:
    return user.totp_secret is not None and user.totp_confirmed_at is not None


def must_enrol(user: StaffUser, required: bool) -> bool:
    """Whether this person must set up two-factor sign-in before any page opens."""
    return required and user.role in ROLES_THAT_READ_CHILDRENS_MESSAGES and not is_enrolled(user)


def start_enrolment(user: StaffUser) -> str:
    """A secret to enrol with (kept until confirmed, so the page can be reloaded); the ``otpauth://`` link an
    authenticator app reads."""
    if user.totp_secret is None:
        user.totp_secret = pyotp.random_base32()
    return provisioning_uri(user)


def provisioning_uri(user: StaffUser) -> str:
    return pyotp.TOTP(user.totp_secret or "").provisioning_uri(name=user.email, issuer_name=ISSUER)


def confirm_enrolment(user: StaffUser, code: str, now: datetime) -> list[str] | None:
    """The recovery codes (shown once) when ``code`` is right for the new secret, else None."""
    if user.totp_secret is None or is_enrolled(user) or not _totp_matches(user, code, now):
        return None
    user.totp_confirmed_at = now
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    user.recovery_code_hashes = [_hash(code) for code in codes]
    return codes


def check_second_factor(user: StaffUser, code: str, now: datetime) -> bool:
    """A current code from their app, or an unused recovery code (used up by this)."""
    code = "".join(code.split()).lower()
    if _totp_matches(user, code, now):
        return True
    hashes = list(user.recovery_code_hashes or [])
    matching = next((stored for stored in hashes if hmac.compare_digest(stored, _hash(code))), None)
    if matching is None:
        return False
    hashes.remove(matching)
    user.recovery_code_hashes = hashes
    return True


def clear(user: StaffUser) -> None:
    """No second factor any more: they enrol again at their next login."""
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    user.recovery_code_hashes = None


def _totp_matches(user: StaffUser, code: str, now: datetime) -> bool:
    if user.totp_secret is None or not code.isdigit():
        return False
    totp = pyotp.TOTP(user.totp_secret)
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        step = totp.timecode(now) + offset
        if hmac.compare_digest(totp.generate_otp(step), code) and step > (user.totp_last_step or -1):
            user.totp_last_step = step
            return True
    return False


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()
