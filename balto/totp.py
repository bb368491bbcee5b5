"""Two-step verification for gestores: time-based codes (TOTP, RFC 6238) and recovery codes.

An account that turns it on holds a secret shared with an authenticator app (Google
Authenticator, Microsoft Authenticator, FreeOTP…: 6 digits, SHA-1, 30 s, the defaults every such
app reads from an ``otpauth://`` URI or its QR code). A sign-in then asks, after the password, for
the code the app shows. pyotp makes the codes and segno the QR (both plain Python, no network).

A code is accepted in the 30 s step it belongs to and one step either side (clocks drift), and
only for a step after the last one accepted for the account (`accepted_step`): a code seen over a
shoulder or replayed from a log cannot be used again. Recovery codes (`RECOVERY_COUNT` of them,
shown once) stand in for a lost phone, each once; only their SHA-256 is stored, which is enough
for 50 random bits (nothing to brute-force offline in a useful time, unlike a password).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
import trio

ISSUER = "Balto"
STEP_S = 30
DRIFT_STEPS = 1
RECOVERY_COUNT = 10
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off paper
_RECOVERY_HALF = 5
_CODE = re.compile(r"[0-9]{6}")


@dataclass(frozen=True, slots=True)
class Enrollment:
    """What an account needs to add itself to an authenticator app."""

    segredo: str
    uri: str
    qr: str


def new_secret() -> str:
    """A fresh 160-bit secret in base32, as the apps expect."""
    return pyotp.random_base32(length=32)


def enrollment(secret: str, email: str) -> Enrollment:
    """The secret, its ``otpauth://`` URI and that URI as a QR image (an SVG data URI)."""
    uri = pyotp.TOTP(secret, interval=STEP_S).provisioning_uri(name=email, issuer_name=ISSUER)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    return Enrollment(segredo=secret, uri=uri, qr=qr)


async def enrollment_off_loop(secret: str, email: str) -> Enrollment:
    """`enrollment` on a worker thread.

    Drawing the QR takes ~15 ms of CPU: too long to hold the event loop the live sessions share.
    """
    return await trio.to_thread.run_sync(enrollment, secret, email)


def code_at(secret: str, step: int) -> str:
    """The 6-digit code of time step `step` (tests and the demo use it too)."""
    return pyotp.TOTP(secret, interval=STEP_S).generate_otp(step)


def current_step(now: float | None = None) -> int:
    """The time step `now` (default: the wall clock) falls in."""
    return int((time.time() if now is None else now) // STEP_S)


def accepted_step(secret: str, code: str, last_step: int, now: float | None = None) -> int | None:
    """The step `code` belongs to when it is valid now and newer than `last_step`, else None."""
    code = code.strip().replace(" ", "")
    if not _CODE.fullmatch(code):
        return None
    here = current_step(now)
    found: int | None = None
    for step in range(here - DRIFT_STEPS, here + DRIFT_STEPS + 1):
        # every candidate compared, in constant time: no early answer to time
        if hmac.compare_digest(code_at(secret, step), code) and step > last_step:
            found = step
    return found


def new_recovery_codes() -> list[str]:
    """`RECOVERY_COUNT` fresh codes, ``XXXXX-XXXXX``, to show the person once."""

    def half() -> str:
        return "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_HALF))

    return [f"{half()}-{half()}" for _ in range(RECOVERY_COUNT)]


def recovery_hash(code: str) -> str | None:
    """The stored form of a recovery code as typed, or None when it cannot be one.

    Any case; the hyphen and spaces are optional.
    """
    plain = re.sub(r"[\s-]", "", code).upper()
    if len(plain) != 2 * _RECOVERY_HALF or any(c not in _RECOVERY_ALPHABET for c in plain):
        return None
    return hashlib.sha256(plain.encode()).hexdigest()


def looks_like_totp(code: str) -> bool:
    """Whether `code` is shaped as an authenticator code (six digits, spaces allowed)."""
    return _CODE.fullmatch(code.strip().replace(" ", "")) is not None
