"""Print the Balto image's requirements: pyproject.toml's pinned dependencies, leaner.

    python3 deploy/image_requirements.py pyproject.toml > requirements.txt     # pip install -r
    python3 deploy/image_requirements.py --no-deps pyproject.toml > nodeps.txt  # pip --no-deps

Two pins are adjusted for the container image (``Containerfile``):

- ``pgserver`` (the embedded PostgreSQL, ~35 MB) is left out: the image always runs with
  ``BALTO_DATABASE_URL``.
- ``noisereduce`` is installed without its dependencies, and the ones Balto's denoiser imports
  are listed instead: its ``matplotlib`` dependency (~90 MB with fonttools and pillow) is only
  used by noisereduce's plotting helpers. The image build imports the server's modules, so a
  noisereduce that needed matplotlib would fail the build, not a running server.
"""

from __future__ import annotations

import re
import sys
import tomllib

LEFT_OUT = {"pgserver"}
WITHOUT_DEPS = {"noisereduce": ["scipy", "tqdm", "joblib"]}


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    if match is None:
        raise SystemExit(f"unparsable requirement {requirement!r}")
    return match.group(0).lower().replace("_", "-")


def main(argv: list[str]) -> int:
    """Print one requirement per line."""
    no_deps = "--no-deps" in argv
    paths = [arg for arg in argv if arg != "--no-deps"]
    with open(paths[0] if paths else "pyproject.toml", "rb") as file:
        dependencies: list[str] = tomllib.load(file)["project"]["dependencies"]
    lines: list[str] = []
    for requirement in dependencies:
        name = _name(requirement)
        if name in LEFT_OUT:
            continue
        if (name in WITHOUT_DEPS) == no_deps:
            lines.append(requirement)
        if name in WITHOUT_DEPS and not no_deps:
            lines.extend(WITHOUT_DEPS[name])
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
