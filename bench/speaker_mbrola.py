"""The speaker corpus's MBROLA splits: recorded human voices, driven by espeak-ng.

In: the voices of ``bench/speaker_voices.py``'s `MBROLA_SPLITS` (``mbrola1`` and ``mbrola2``
held out, ``mbrola_tune`` the only one anything may be chosen on). Out: their enrollments and
dialogues in ``var/speaker_corpus`` with their own index, ``mbrola.json``, generated exactly
like the espeak-ng splits (``bench/speaker_corpus.py``'s `write_split`: `ENROLL_TEXT`, the same
dialogue generator, noises and 20/10/5 dB), so the espeak-ng corpus and its files are untouched.

MBROLA is optional: it lives in Debian's contrib (the ``mbrola`` program) and non-free (the
``mbrola-<id>`` voices) components. `require` raises `MissingMbrola` with the ``apt-get`` line
to run when the program or a voice is missing, and when a voice renders the same audio as
espeak-ng's default (espeak-ng falls back silently for some names; round 4's lesson).

Licence (``/usr/share/doc/mbrola-<id>/copyright``): each voice may be used "for synthesizing
speech with and only with the Mbrola program", distributed on the MBROLA program's terms, and
"may not be sold or incorporated into any product which is sold without prior permission from
the Diphone Database Owner". So this audio is used to measure; no model parameter fitted on it
is shipped in ``balto/`` (docs/BENCHMARKS.md, Speaker, fifth round).

    python bench/speaker_mbrola.py [--background] [--fresh]   # generate (~1 min; background ~2 min)

``--fresh``: round 6's fresh held-out split ``mbrola3`` (`MBROLA_FRESH`: three MBROLA voices no
earlier round installed as attendants), index ``mbrola3.json``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.speaker_corpus import CACHE, SPLITS, write_background, write_split  # noqa: E402
from bench.speaker_voices import (  # noqa: E402
    MBROLA_BACKGROUND,
    MBROLA_FRESH,
    MBROLA_FRESH_VERSION,
    MBROLA_SPLITS,
    MBROLA_VERSION,
)

VOICES_DIR = Path("/usr/share/mbrola")
_PROBE = "Boa tarde, em que posso ajudar?"


class MissingMbrola(RuntimeError):
    """MBROLA or one of the MBROLA voices is not installed (the message says what to install)."""


def voice_ids(background: bool = False, fresh: bool = False) -> list[str]:
    """The MBROLA voice ids the splits (the background, the fresh split) use: ``br1``."""
    splits = MBROLA_FRESH if fresh else MBROLA_SPLITS
    voices = (
        MBROLA_BACKGROUND
        if background
        else tuple(v for split in splits.values() for g in split.values() for v in g)
    )
    return sorted({v.variant.removeprefix("mb-") for v in voices})


def _render(voice: str) -> bytes:
    out = subprocess.run(
        ["espeak-ng", "-v", voice, "--stdout", _PROBE], capture_output=True, check=False
    )
    return out.stdout if out.returncode == 0 else b""


def require(background: bool = False, fresh: bool = False) -> None:
    """Raise `MissingMbrola` unless mbrola and every voice used is installed and renders."""
    ids = voice_ids(background, fresh)
    missing = [i for i in ids if not (VOICES_DIR / i / i).exists()]
    absent = (["the mbrola program"] if shutil.which("mbrola") is None else []) + missing
    if absent:
        packages = " ".join(["mbrola"] + [f"mbrola-{i}" for i in (missing or ids)])
        raise MissingMbrola(
            f"the MBROLA splits need MBROLA (missing: {', '.join(absent)})."
            f" Install as root: apt-get install {packages}"
            " (Debian's contrib and non-free components must be in the APT sources, e.g."
            " 'Components: main contrib non-free' in /etc/apt/sources.list.d/debian.sources,"
            " then apt-get update). The espeak-ng splits run without them."
        )
    default = hashlib.md5(_render("pt-br")).hexdigest()
    broken = [i for i in ids if hashlib.md5(_render(f"mb-{i}")).hexdigest() in (default, _EMPTY)]
    if broken:
        raise MissingMbrola(
            f"espeak-ng does not render the MBROLA voices {' '.join(broken)} (no audio, or its"
            " default voice's): check `espeak-ng --voices=mb` and reinstall"
            f" {' '.join('mbrola-' + i for i in broken)}"
        )


_EMPTY = hashlib.md5(b"").hexdigest()


def build_mbrola(cache: Path = CACHE) -> Path:
    """Generate the MBROLA splits into `cache` unless there already; return their index file."""
    index = cache / "mbrola.json"
    if index.exists() and json.loads(index.read_text()).get("version") == MBROLA_VERSION:
        return index
    require()
    cache.mkdir(parents=True, exist_ok=True)
    meta: dict[str, object] = {"version": MBROLA_VERSION, "enroll": {}, "clips": []}
    for j, (split, voices) in enumerate(MBROLA_SPLITS.items()):
        write_split(cache, meta, split, voices, len(SPLITS) + j)
    index.write_text(json.dumps(meta, indent=1))
    return index


def build_mbrola_background(cache: Path = CACHE) -> Path:
    """Generate `MBROLA_BACKGROUND` (experiments only) unless there already; return its index."""
    index = cache / "mbrola_background.json"
    if index.exists() and json.loads(index.read_text()).get("version") == MBROLA_VERSION:
        return index
    require(background=True)
    cache.mkdir(parents=True, exist_ok=True)
    meta: dict[str, object] = {"version": MBROLA_VERSION, "enroll": {}, "clips": []}
    write_background(cache, meta, MBROLA_BACKGROUND, "mbrola_background", first=200)
    index.write_text(json.dumps(meta, indent=1))
    return index


def build_mbrola_fresh(cache: Path = CACHE) -> Path:
    """Generate round 6's fresh held-out split (`MBROLA_FRESH`) unless there; its index."""
    index = cache / "mbrola3.json"
    if index.exists() and json.loads(index.read_text()).get("version") == MBROLA_FRESH_VERSION:
        return index
    require(fresh=True)
    cache.mkdir(parents=True, exist_ok=True)
    meta: dict[str, object] = {"version": MBROLA_FRESH_VERSION, "enroll": {}, "clips": []}
    first = len(SPLITS) + len(MBROLA_SPLITS)
    for j, (split, voices) in enumerate(MBROLA_FRESH.items()):
        write_split(cache, meta, split, voices, first + j)
    index.write_text(json.dumps(meta, indent=1))
    return index


if __name__ == "__main__":
    try:
        print(build_mbrola())
        if "--background" in sys.argv[1:]:
            print(build_mbrola_background())
        if "--fresh" in sys.argv[1:]:
            print(build_mbrola_fresh())
    except MissingMbrola as exc:
        sys.exit(f"speaker_mbrola: {exc}")
