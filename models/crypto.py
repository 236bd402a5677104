"""Encryption at rest for children's data, and a keyed hash to find a contact by address.

Keys come from ``RHI_DATA_KEY``: a comma-separated list of Fernet keys. The first key encrypts and every
key decrypts, so rotation is: put a new key first, run ``models.rotation.reencrypt_all``, and keep the old
ones until that has run. The LAST key also keys the address hash (see ``address_hash``), so it stays in
the list for as long as stored contacts must be found by their address.

Values are sealed with AES-256-GCM under a key derived from each Fernet key (HKDF-SHA256), as
``aes:`` + base64(nonce + ciphertext + tag): a fifth of Fernet's cost, paid on every message several times
(the message, the answers, the conversation). Values stored as Fernet tokens before that still open, and
``reencrypt_all`` turns them into the new form. The nonce is random (96 bits): safe for billions of values
under one key, far more than a service of this size writes between rotations.

Encrypted values are randomised (a new nonce each time), so a WHERE clause on an encrypted column never
matches: look contacts up by ``address_hash`` instead.
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
from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.engine import Dialect

ADDRESS_HASH_INFO = b"rhi address hash"
SEALING_KEY_INFO = b"rhi sealing key aes-256-gcm"
SEALED_PREFIX = "aes:"  # never the start of a Fernet token, which is base64 of a 0x80 byte first ("gA")
NONCE_BYTES = 12


class DecryptionError(RuntimeError):
    """A stored value that none of the configured keys opens."""


@dataclass(frozen=True)
class _KeyRing:
    sealers: tuple[AESGCM, ...]  # newest first: the first seals, all open
    fernet: MultiFernet  # opens what was stored as Fernet tokens
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
    sealers = tuple(AESGCM(_derived(key, SEALING_KEY_INFO)) for key in keys)
    _key_ring = _KeyRing(sealers, MultiFernet(fernets), _derived(keys[-1], ADDRESS_HASH_INFO))


def _derived(key: str, info: bytes) -> bytes:
    """A 32-byte key for one purpose, from a Fernet key's 32 bytes (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(base64.urlsafe_b64decode(key))


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
    """``plaintext`` sealed under the newest key."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = _keys().sealers[0].encrypt(nonce, plaintext, None)
    return SEALED_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def decrypt(token: str) -> bytes:
    """What ``encrypt`` sealed, under any configured key; a Fernet token stored before AES-GCM too."""
    keys = _keys()
    if token.startswith(SEALED_PREFIX):
        try:
            raw = base64.b64decode(token[len(SEALED_PREFIX) :], validate=True)
        except ValueError:
            raw = b""
        for sealer in keys.sealers:
            try:
                return sealer.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None)
            except (InvalidTag, ValueError):
                continue
    else:
        try:
            return keys.fernet.decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            pass
    raise DecryptionError("a stored value cannot be decrypted with any key in RHI_DATA_KEY: was a key removed?")


def rotate_token(token: str) -> str:
    """The same plaintext, sealed again under the first (newest) key."""
    return encrypt(decrypt(token))


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


def contact_reference(contact_id: int) -> str:
    """An opaque reference to one person for the provider's systems: the same for every event about them,
    telling nothing (not the contact's row number, not their address) to whoever reads it."""
    digest = hmac.new(_keys().address_hash_key, f"contact:{contact_id}".encode(), hashlib.sha256).hexdigest()
    return f"c_{digest[:24]}"


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
    """Text stored sealed (``encrypt``)."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return str(value if isinstance(value, Sealed) else seal_text(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else decrypt(value).decode("utf-8")


class EncryptedJSON(sa.TypeDecorator[Any]):
    """A JSON-serialisable value stored sealed (``encrypt``).

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
