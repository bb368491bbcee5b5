"""The device simulator's ``cafile`` option (used against the TLS proxy in ``deploy/check``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from balto.device import stream_file
from balto.errors import BaltoError
from tests.conftest import FIXTURES

WEBM = FIXTURES / "two_utterances.webm"


async def test_a_ca_file_with_a_plain_ws_url_is_refused() -> None:
    with pytest.raises(BaltoError, match="only applies to wss://"):
        await stream_file("ws://127.0.0.1:9/ws", "bk_x", WEBM, cafile=WEBM)


async def test_an_unreadable_ca_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BaltoError, match="cannot load the CA file"):
        await stream_file("wss://127.0.0.1:9/ws", "bk_x", WEBM, cafile=tmp_path / "missing.pem")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(BaltoError, match="cannot load the CA file"):
        await stream_file("wss://127.0.0.1:9/ws", "bk_x", WEBM, cafile=garbage)
