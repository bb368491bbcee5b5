"""Gestores' passwords: Argon2id hashes (argon2-cffi), made and checked off the Trio thread.

Parameters are OWASP's minimum for Argon2id (19 MiB, 2 passes, 1 lane): about 20 ms of one core
per check here, made on a worker thread so a sign-in cannot stall the live sessions' event loop,
and one at a time (`PARALLEL`) so a burst of sign-ins takes at most one core and little memory. A
hash made with other parameters still verifies (they are in the hash), and is re-made at the next
good sign-in.

Rules for a new password: `MIN_LEN` to `MAX_LEN` characters, not only spaces.
"""

from __future__ import annotations

import argon2
import trio

MIN_LEN = 10
MAX_LEN = 200
PARALLEL = 1

_HASHER = argon2.PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_LIMITER = trio.CapacityLimiter(PARALLEL)
# checked against when the e-mail is unknown, so that answer takes as long as a wrong password
_DECOY = _HASHER.hash("balto-decoy-password")


def problem(password: str) -> str | None:
    """Why `password` cannot be a new password (Portuguese), or None when it can."""
    if len(password) < MIN_LEN:
        return f"a senha deve ter pelo menos {MIN_LEN} caracteres"
    if len(password) > MAX_LEN:
        return f"a senha deve ter no máximo {MAX_LEN} caracteres"
    if not password.strip():
        return "a senha não pode ser só espaços"
    return None


async def make_hash(password: str) -> str:
    """The Argon2id hash to store for `password`."""
    async with _LIMITER:
        return await trio.to_thread.run_sync(_HASHER.hash, password)


def _check(stored: str, password: str) -> tuple[bool, bool]:
    try:
        _HASHER.verify(stored, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False, False
    return True, _HASHER.check_needs_rehash(stored)


async def check(stored: str | None, password: str) -> tuple[bool, bool]:
    """Whether `password` matches `stored` (None: an unknown account, checked against a decoy).

    Returns (matches, should be re-hashed with today's parameters).
    """
    async with _LIMITER:
        ok, stale = await trio.to_thread.run_sync(_check, stored or _DECOY, password)
    return ok and stored is not None, stale
