"""The keeper's read of ``postmaster.pid``: PostgreSQL writes it in steps while it starts and
removes it when it stops, so the keeper (which polls it twice a second) must read any part of
it, or none, without raising. A landing CI once caught pgserver's reader, which asserts all
eight lines, mid-write: the keeper raised and took the server down with it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from balto.store.embedded import postmaster_pid

WHOLE = (
    f"{os.getpid()}\n/data/pg\n1796598937\n5432\n/tmp\nlocalhost\n  8826964     65536\nready   \n"
)


@pytest.mark.parametrize("lines", range(1, 9))
def test_a_pid_file_written_in_part_gives_its_pid(tmp_path: Path, lines: int) -> None:
    (tmp_path / "postmaster.pid").write_text("\n".join(WHOLE.split("\n")[:lines]))
    assert postmaster_pid(tmp_path) == os.getpid()


@pytest.mark.parametrize("text", ["", "\n", "12a\n", "\x00\x00"])
def test_a_pid_file_just_created_or_garbled_gives_none(tmp_path: Path, text: str) -> None:
    (tmp_path / "postmaster.pid").write_text(text)
    assert postmaster_pid(tmp_path) is None


def test_no_pid_file_gives_none(tmp_path: Path) -> None:
    assert postmaster_pid(tmp_path) is None
    assert postmaster_pid(tmp_path / "missing") is None
