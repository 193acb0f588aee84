"""Payment details sealed by the application, never stored in plain text.

The threat model (shared/spec/access-model.md) asks that the database hold
only ciphertext, with the key id beside it for rotation. An envelope is

    v1.<key id>.<base64url(12-byte nonce || AES-256-GCM ciphertext and tag)>

which is exactly what ``instructor_settings.payment_details`` accepts (its
CHECK, schema/007). The associated data binds an envelope to its owner's row,
so a ciphertext copied onto another instructor's row does not open.

Keys come from ``PAYMENT_DETAILS_KEYS``: ``<id>:<base64url 32 bytes>`` pairs
separated by commas, the first one sealing, every one opening (rotation: put
the new key first, keep the old ones until every row has been sealed again).
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
ENVELOPE = re.compile(r"^v1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]{38,4000})$")
NONCE_BYTES = 12


class SecretBoxError(ValueError):
    """A key ring or an envelope that cannot be used: the message says why."""


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def parse_keys(value: str) -> dict[str, bytes]:
    """The key ring from ``PAYMENT_DETAILS_KEYS``, in order (the first seals)."""
    ring: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in (value or "").split(","))):
        key_id, _, encoded = item.partition(":")
        if not KEY_ID.match(key_id):
            raise SecretBoxError(f"key id {key_id!r}: letters, digits, '-' and '_' only, 1 to 32")
        try:
            key = _b64decode(encoded)
        except (binascii.Error, ValueError) as exc:
            raise SecretBoxError(f"key {key_id!r} is not base64url") from exc
        if len(key) != 32:
            raise SecretBoxError(f"key {key_id!r} must be 32 bytes (AES-256), not {len(key)}")
        ring[key_id] = key
    if not ring:
        raise SecretBoxError("no key: set PAYMENT_DETAILS_KEYS to <id>:<base64url 32 bytes>")
    return ring


def new_key() -> str:
    """A fresh random key, base64url: what to put after ``<id>:``."""
    return _b64encode(os.urandom(32))


def _associated(owner_id) -> bytes:
    return f"instructor_settings.payment_details:{owner_id}".encode()


def seal(plaintext: str, owner_id, ring: dict[str, bytes]) -> str:
    """The envelope of ``plaintext`` for the row of ``owner_id``, under the first key."""
    if not plaintext:
        raise SecretBoxError("nothing to seal")
    key_id, key = next(iter(ring.items()))
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), _associated(owner_id))
    return f"{VERSION}.{key_id}.{_b64encode(nonce + sealed)}"


def open_envelope(envelope: str, owner_id, ring: dict[str, bytes]) -> str:
    """The plaintext of an envelope sealed for ``owner_id``'s row; raises when it
    is not an envelope, its key is not in the ring, or it was altered or moved."""
    found = ENVELOPE.match(envelope or "")
    if not found:
        raise SecretBoxError("not a sealed envelope")
    key_id, body = found.groups()
    if key_id not in ring:
        raise SecretBoxError(f"key {key_id!r} is not in PAYMENT_DETAILS_KEYS")
    try:
        data = _b64decode(body)
    except (binascii.Error, ValueError) as exc:  # written past the app: the CHECK does not decode
        raise SecretBoxError("the envelope is not base64url") from exc
    if len(data) < NONCE_BYTES + 16:  # the nonce and the tag at least
        raise SecretBoxError("the envelope is too short to be one")
    try:
        plain = AESGCM(ring[key_id]).decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], _associated(owner_id))
        return plain.decode("utf-8")
    except InvalidTag as exc:
        raise SecretBoxError("the envelope was altered or belongs to another row") from exc
    except UnicodeDecodeError as exc:
        raise SecretBoxError("the envelope does not hold text") from exc


def last_four(plaintext: str) -> str:
    """What a page may show of payment details: at most the last four characters."""
    tail = "".join(plaintext.split())[-4:]
    return f"•••• {tail}" if tail else ""
