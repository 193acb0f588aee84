"""Password hashing: argon2id at OWASP's parameters, done in Python.

OWASP's Password Storage Cheat Sheet lists equivalent argon2id settings; we
take m=19 MiB, t=2, p=1 (its second line), which keeps a sign-in near 20 ms
on these machines. A hash made with weaker parameters is rehashed on the next
successful sign-in (``needs_rehash``). Passwords are never logged: nothing in
this module or its callers formats one into a message.
"""

from __future__ import annotations

import logging

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError

log = logging.getLogger(__name__)

HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)

# The most a stored hash may ask of a sign-in: a hash's own parameters decide
# what verifying it costs, so one stored with m=4 GiB would let anyone who can
# sign up make every attempt on that account take a worker's memory. The
# database refuses such hashes (007's bounded_argon2id); this is the second lock.
MAX_MEMORY_KIB, MAX_TIME_COST, MAX_PARALLELISM = 64 * 1024, 10, 4

# Verified against when the email is unknown, so that a wrong email costs the
# same time as a wrong password and response times do not reveal accounts.
_DUMMY_HASH = HASHER.hash("not a password anyone has")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def _affordable(stored_hash: str) -> bool:
    try:
        p = extract_parameters(stored_hash)
    except InvalidHashError:
        return False
    return p.memory_cost <= MAX_MEMORY_KIB and p.time_cost <= MAX_TIME_COST and p.parallelism <= MAX_PARALLELISM


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash (or one that would cost
    more than a sign-in may) still spends the usual time, then fails."""
    if stored_hash is not None and not _affordable(stored_hash):
        log.warning("a stored password hash asks for more than a sign-in may spend; refused")
        stored_hash = None
    try:
        return HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return HASHER.check_needs_rehash(stored_hash)
