"""Sealing secrets at rest (`balto.sealing`): what a sealed value holds, which keys open it, what
is refused, how keys are read from the environment and kept for the embedded database."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from balto.config import Settings
from balto.errors import ConfigError
from balto.sealing import (
    KEY_FILE,
    TOTP,
    WEBHOOK,
    Box,
    Unreadable,
    box_for,
    key_id,
    new_key_text,
    parse_key,
    sealed_key_id,
)

K1 = parse_key(new_key_text(), "K1")
K2 = parse_key(new_key_text(), "K2")
SECRET = "whsec_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"


def test_a_sealed_value_names_its_key_hides_the_secret_and_opens_again() -> None:
    box = Box(K1)
    sealed = box.seal(WEBHOOK, SECRET)
    assert sealed.startswith(f"s1.{key_id(K1)}.") and sealed_key_id(sealed) == key_id(K1)
    assert SECRET not in sealed and "0123456789" not in sealed
    assert box.seal(WEBHOOK, SECRET) != sealed  # a fresh nonce each time
    assert box.open(WEBHOOK, sealed) == SECRET
    assert not box.stale(sealed)


def test_older_keys_open_and_mark_the_value_for_resealing() -> None:
    sealed = Box(K1).seal(TOTP, "JBSWY3DPEHPK3PXP")
    rotated = Box(K2, (K1,))
    assert rotated.open(TOTP, sealed) == "JBSWY3DPEHPK3PXP"
    assert rotated.stale(sealed) and not rotated.stale(rotated.seal(TOTP, "x"))
    assert rotated.known_ids() == {key_id(K1), key_id(K2)}


def test_an_unknown_key_an_altered_value_or_another_purpose_is_refused() -> None:
    sealed = Box(K1).seal(WEBHOOK, SECRET)
    with pytest.raises(Unreadable, match=key_id(K1)):
        Box(K2).open(WEBHOOK, sealed)
    with pytest.raises(Unreadable, match=key_id(K1)):
        Box().open(WEBHOOK, sealed)  # no key at all: still refused, never passed through
    head, body = sealed.rsplit(".", 1)
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(Unreadable, match="altered"):
        Box(K1).open(WEBHOOK, f"{head}.{flipped}")
    with pytest.raises(Unreadable, match="altered"):
        Box(K1).open(TOTP, sealed)  # a webhook's secret copied into a TOTP column


def test_without_a_key_values_are_kept_and_read_as_they_are() -> None:
    assert Box().seal(TOTP, "JBSWY3DPEHPK3PXP") == "JBSWY3DPEHPK3PXP"
    assert Box().open(TOTP, "JBSWY3DPEHPK3PXP") == "JBSWY3DPEHPK3PXP"
    assert not Box().stale("JBSWY3DPEHPK3PXP")
    assert Box(K1).open(WEBHOOK, SECRET) == SECRET  # a row from before sealing
    assert Box(K1).stale(SECRET)


def test_keys_are_read_from_the_environment_in_base64_and_refused_otherwise() -> None:
    raw = bytes(range(32))
    assert parse_key(base64.b64encode(raw).decode(), "X") == raw
    assert parse_key(base64.urlsafe_b64encode(raw).decode().rstrip("=") + "\n", "X") == raw
    for bad in ("", "change-me", base64.b64encode(raw[:16]).decode(), raw.hex()):
        with pytest.raises(ConfigError, match="X must be 32 random bytes"):
            parse_key(bad, "X")
    text1, text2 = new_key_text(), new_key_text()
    settings = Settings.from_env(
        {"BALTO_SECRETS_KEY": text1, "BALTO_SECRETS_KEYS_OLD": f"{text2}, "}
    )
    assert settings.secrets_key == parse_key(text1, "")
    assert settings.secrets_keys_old == (parse_key(text2, ""),)
    assert text1 not in repr(settings)
    with pytest.raises(ConfigError, match="BALTO_SECRETS_KEYS_OLD"):
        Settings.from_env({"BALTO_SECRETS_KEY": text1, "BALTO_SECRETS_KEYS_OLD": "nope"})


def test_the_embedded_database_keeps_a_key_of_its_own_readable_by_its_user_only(
    tmp_path: Path,
) -> None:
    first = box_for(None, (), tmp_path / "var")
    path = tmp_path / "var" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = box_for(None, (), tmp_path / "var")
    assert first.current is not None and again.current == first.current
    # a key given wins, and an external database gets no file
    assert box_for(K1, (), tmp_path / "other").current == K1
    assert box_for(None, (), None).current is None
    assert not (tmp_path / "other").exists()


def test_a_value_cut_short_is_refused_not_a_crash() -> None:
    for cut in ("s1.", "s1.abcd", f"s1.{key_id(K1)}"):
        with pytest.raises(Unreadable):
            Box(K1).open(WEBHOOK, cut)
