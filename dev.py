#!/usr/bin/env python3
"""Bootstrap and run Balto with nothing but Python 3.11+ and the package index.

    python3 dev.py serve       # start the server (embedded PostgreSQL unless BALTO_DATABASE_URL)
    python3 dev.py test        # run the test suite (extra arguments go to pytest)
    python3 dev.py check       # mypy --strict and ruff on balto, actors, supervisors
    python3 dev.py device ...  # the device simulator
    python3 dev.py demo        # Balto with provider fakes and one simulated counter (a first look)

The first run creates ``.venv`` and installs the project into it; later runs reinstall only when
``pyproject.toml`` changed.

``test`` runs pytest in ``BALTO_TEST_WORKERS`` processes (pytest-xdist, default 3) unless the
arguments choose (``-n 0``: one process). Most of the suite waits: devices stream audio in real
time to real servers, so three processes on two cores finish in well under half the time of one.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".balto-installed"


def ensure_env() -> None:
    """Create the venv and install the project with its test extras, if not already current."""
    if sys.version_info < (3, 11):  # noqa: UP036  # dev.py runs on whatever python3 is
        sys.exit(f"Balto needs Python 3.11 or 3.12; this is {sys.version.split()[0]}")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    if not (BIN / "python").exists():
        print("dev.py: creating .venv", flush=True)
        venv.create(VENV, with_pip=True)
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    print("dev.py: installing balto and its dependencies into .venv", flush=True)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(digest)


def _workers(args: list[str]) -> list[str]:
    """pytest-xdist's ``-n`` for the suite, unless `args` already set it or turned xdist off."""
    chosen = any(a.startswith("-n") or a.startswith("--numprocesses") for a in args)
    off = any(a in {"no:xdist", "-pno:xdist"} for a in args)
    return [] if chosen or off else ["-n", os.environ.get("BALTO_TEST_WORKERS", "3")]


def main() -> int:
    """Dispatch the sub-command."""
    if len(sys.argv) < 2 or sys.argv[1] not in {"serve", "test", "check", "device", "demo"}:
        print(__doc__)
        return 2
    ensure_env()
    command, rest = sys.argv[1], sys.argv[2:]
    python = str(BIN / "python")
    if command == "test":
        argv = [python, "-m", "pytest", *_workers(rest), *rest]
    elif command == "check":
        code = subprocess.call([python, "-m", "mypy"], cwd=ROOT)
        code |= subprocess.call([python, "-m", "ruff", "check", "."], cwd=ROOT)
        return code
    else:
        argv = [python, "-m", "balto", command, *rest]
    os.chdir(ROOT) if command == "test" else None
    os.execv(python, argv)
    return 0  # pragma: no cover - execv does not return


if __name__ == "__main__":
    sys.exit(main())
