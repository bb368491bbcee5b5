"""The webhooks' signature as a receiver checks it: any v1 under its secret, within the time
tolerance, over the exact body; nothing else."""

from __future__ import annotations

from balto.webhooks.signing import TOLERANCE_S, sign, verify

BODY = b'{"evento":"alerta","id":"x"}'
NOW = 1_780_000_000


def test_a_signature_holds_for_its_secret_body_and_time_only() -> None:
    header = sign(["whsec_a"], BODY, NOW)
    assert header.startswith(f"t={NOW},v1=") and header.count("v1=") == 1
    assert verify("whsec_a", BODY, header, now=NOW)
    assert verify("whsec_a", BODY, header, now=NOW + TOLERANCE_S)
    assert not verify("whsec_a", BODY, header, now=NOW + TOLERANCE_S + 1)  # a replay
    assert not verify("whsec_a", BODY, header, now=NOW - TOLERANCE_S - 1)
    assert not verify("whsec_b", BODY, header, now=NOW)
    assert not verify("whsec_a", BODY + b" ", header, now=NOW)
    # the time is signed: moved, the signature no longer holds
    moved = header.replace(f"t={NOW}", f"t={NOW + 1}")
    assert not verify("whsec_a", BODY, moved, now=NOW)


def test_while_a_secret_is_replaced_both_sign_and_either_is_accepted() -> None:
    header = sign(["whsec_new", "whsec_old"], BODY, NOW)
    assert header.count("v1=") == 2
    assert verify("whsec_new", BODY, header, now=NOW)
    assert verify("whsec_old", BODY, header, now=NOW)
    assert not verify("whsec_other", BODY, header, now=NOW)


def test_malformed_headers_are_refused() -> None:
    for header in ("", "t=", "v1=abc", f"t=x,v1={'0' * 64}", "garbage", f"t={NOW}"):
        assert not verify("whsec_a", BODY, header, now=NOW), header
