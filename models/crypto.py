"""Encryption at rest for children's data, and a keyed hash to find a contact by address.

Keys come from ``RHI_DATA_KEY``: a comma-separated list of Fernet keys. The first key encrypts and every
key decrypts, so rotation is: put a new key first, run ``models.rotation.reencrypt_all``, and keep the old
ones until that has run. The LAST key also keys the address hash (see ``address_hash``), so it stays in
the list for as long as stored contacts must be found by their address.

Encrypted values are randomised (Fernet adds an IV and a timestamp), so a WHERE clause on an encrypted
column never matches: look contacts up by ``address_hash`` instead.
"""

import base64
import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.engine import Dialect

ADDRESS_HASH_INFO = b"rhi address hash"


class DecryptionError(RuntimeError):
    """A stored value that none of the configured keys opens."""


@dataclass(frozen=True)
class _KeyRing:
    fernet: MultiFernet
    address_hash_key: bytes


_key_ring: _KeyRing | None = None


def generate_key() -> str:
    """A new random Fernet key, as text fit for ``RHI_DATA_KEY``."""
    return Fernet.generate_key().decode("ascii")


def keys_from_setting(value: str) -> list[str]:
    """The keys in an ``RHI_DATA_KEY`` value: comma-separated, newest first."""
    keys = [key.strip() for key in value.split(",") if key.strip()]
    if not keys:
        raise ValueError("RHI_DATA_KEY is empty: set it to one or more comma-separated Fernet keys")
    return keys


def configure_keys(keys: list[str]) -> None:
    """Use these keys from now on: the first encrypts, all decrypt, the last keys the address hash."""
    global _key_ring
    if not keys:
        raise ValueError("RHI_DATA_KEY holds no key: set it to one or more comma-separated Fernet keys")
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            # The key itself is never echoed: it is a secret.
            raise ValueError(
                f"RHI_DATA_KEY: key {position} of {len(keys)} is not a Fernet key "
                "(32 url-safe base64-encoded bytes); make one with models.crypto.generate_key()"
            ) from None
    oldest = base64.urlsafe_b64decode(keys[-1])
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=ADDRESS_HASH_INFO)
    _key_ring = _KeyRing(MultiFernet(fernets), hkdf.derive(oldest))


def load_or_create_key_file(path: Path) -> str:
    """The key stored in ``path``, creating the file (mode 0600) with a new key the first time.

    For the demo, which must run with no settings: its data is still encrypted, with a key kept beside
    the database rather than in the environment.
    """
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    # O_EXCL and an explicit mode: the file is never readable by others, even for a moment.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as key_file:
        key_file.write(key + "\n")
    return key


def _keys() -> _KeyRing:
    if _key_ring is None:
        raise RuntimeError(
            "encryption keys are not configured: set RHI_DATA_KEY (comma-separated Fernet keys) "
            "and call models.crypto.configure_keys() at start-up"
        )
    return _key_ring


def encrypt(plaintext: bytes) -> str:
    return _keys().fernet.encrypt(plaintext).decode("ascii")


def decrypt(token: str) -> bytes:
    try:
        return _keys().fernet.decrypt(token.encode("ascii"))
    except InvalidToken:
        raise DecryptionError(
            "a stored value cannot be decrypted with any key in RHI_DATA_KEY: was a key removed?"
        ) from None


def rotate_token(token: str) -> str:
    """The same plaintext, re-encrypted under the first (newest) key."""
    try:
        return _keys().fernet.rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise DecryptionError(
            "a stored value cannot be decrypted with any key in RHI_DATA_KEY: was a key removed?"
        ) from None


def normalise_address(channel: str, address: str) -> str:
    """The canonical form of an address, so that one person always hashes the same way.

    Whitespace is removed everywhere. For SMS the number keeps its E.164 form: separators are dropped and
    an international ``00`` prefix becomes ``+`` (``+44 7700-900 123`` -> ``+447700900123``).
    """
    value = "".join(address.split())
    if channel == "sms":
        value = re.sub(r"[()\-.]", "", value)
        if value.startswith("00"):
            value = "+" + value[2:]
    return value


def address_hash(channel: str, address: str) -> str:
    """Hex HMAC-SHA256 of the normalised address, to find a contact without decrypting every row.

    Keyed (not a plain hash) because phone numbers are few enough to guess by brute force. The HMAC key
    is derived with HKDF-SHA256 (info ``b"rhi address hash"``) from the OLDEST configured key, the last in
    ``RHI_DATA_KEY``: rotation prepends keys, so stored hashes keep matching after a rotation.
    """
    message = f"{channel}:{normalise_address(channel, address)}".encode()
    return hmac.new(_keys().address_hash_key, message, hashlib.sha256).hexdigest()


class Sealed(str):
    """A value already encrypted for an Encrypted column (``seal_text``, ``seal_json``), stored as it is.

    Encrypting before a write lets a writer do the work before it takes its turn (SQLite has one at a time).
    """


def seal_text(value: str) -> Sealed:
    """``value`` encrypted as an EncryptedText column stores it."""
    return Sealed(encrypt(value.encode("utf-8")))


def seal_json(value: Any) -> Sealed:
    """``value`` encrypted as an EncryptedJSON column stores it."""
    return Sealed(encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")))


class EncryptedText(sa.TypeDecorator[str]):
    """Text stored as a Fernet token."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return str(value if isinstance(value, Sealed) else seal_text(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else decrypt(value).decode("utf-8")


class EncryptedJSON(sa.TypeDecorator[Any]):
    """A JSON-serialisable value stored as a Fernet token.

    Changes inside a stored dict or list are not tracked: assign a new value to save a change.
    """

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return str(value if isinstance(value, Sealed) else seal_json(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(decrypt(value))
