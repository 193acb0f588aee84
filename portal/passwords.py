"""Password hashing: argon2id at OWASP's parameters, done in Python.

OWASP's Password Storage Cheat Sheet lists equivalent argon2id settings; we
take m=19 MiB, t=2, p=1 (its second line), which keeps a sign-in near 20 ms
on these machines. A hash made with weaker parameters is rehashed on the next
successful sign-in (``needs_rehash``). Passwords are never logged: nothing in
this module or its callers formats one into a message.
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)

# Verified against when the email is unknown, so that a wrong email costs the
# same time as a wrong password and response times do not reveal accounts.
_DUMMY_HASH = HASHER.hash("not a password anyone has")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash still spends the time."""
    try:
        return HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return HASHER.check_needs_rehash(stored_hash)
