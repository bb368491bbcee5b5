"""Per-frame features and truth for `bench/segment_learned.py`, over the segment corpora.

In: the segment corpus (`tests/fixtures/make_voice_corpus.py`) and the extra one
(`bench/segment_extra_corpus.py`). Out: each clip's design matrix (per 30 ms frame: 16 mel-band
levels over their causal floors and their mean, with three frames of context each side) and its
truth (the frame holds clean speech no more than 10 dB under the noise); the untrimmed and the
shipped segmenter's cuts of every clip. All cached under ``var/cache/segment_learned``.
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SR = 16_000
FRAME = 480  # the segmenter's 30 ms frame
FRAME_S = FRAME / SR
N_BANDS = 16
FLOOR_FRAMES = 100  # 3 s of history for each band's floor
FLOOR_Q = 10.0
CONTEXT = 3  # frames each side
WORK = ROOT / "var" / "cache" / "segment_learned"


def corpora() -> list[Path]:
    """The corpus directories: the segment corpus, then the extra one (generated if missing)."""
    from bench.segment_extra_corpus import ensure as extra
    from tests.fixtures.make_voice_corpus import ensure

    return [ensure(), extra()]


def clips() -> dict[str, tuple[Path, dict[str, Any]]]:
    """Every clip of both corpora: its directory and its metadata."""
    out: dict[str, tuple[Path, dict[str, Any]]] = {}
    for where in corpora():
        for c, m in json.loads((where / "corpus.json").read_text())["clips"].items():
            out[c] = (where, m)
    return out


def band_matrix() -> np.ndarray:
    """Mel-spaced triangular bands over the 480-point FFT's bins, 100-7600 Hz."""
    freqs = np.fft.rfftfreq(FRAME, 1 / SR)
    mel = lambda f: 2595 * np.log10(1 + f / 700)  # noqa: E731
    edges_mel = np.linspace(mel(100), mel(7600), N_BANDS + 2)
    edges = 700 * (10 ** (edges_mel / 2595) - 1)
    m = np.zeros((len(freqs), N_BANDS))
    for b in range(N_BANDS):
        lo, mid, hi = edges[b], edges[b + 1], edges[b + 2]
        up = (freqs - lo) / (mid - lo)
        down = (hi - freqs) / (hi - mid)
        m[:, b] = np.clip(np.minimum(up, down), 0, None)
    return m


def band_levels(pcm: bytes) -> np.ndarray:
    """Each 30 ms frame's band powers in dB, (frames, N_BANDS)."""
    x = np.frombuffer(pcm, "<i2").astype(np.float64) / 32768
    n = len(x) // FRAME
    frames = x[: n * FRAME].reshape(n, FRAME) * np.hanning(FRAME)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    return 10 * np.log10(power @ band_matrix() + 1e-10)


def floors(levels: np.ndarray) -> np.ndarray:
    """Each frame's causal band floors: the `FLOOR_Q` percentile of the previous 3 s."""
    pad = np.concatenate([np.repeat(levels[:1], FLOOR_FRAMES - 1, axis=0), levels])
    win = np.lib.stride_tricks.sliding_window_view(pad, FLOOR_FRAMES, axis=0)
    return np.percentile(win, FLOOR_Q, axis=2)


def design(levels: np.ndarray) -> np.ndarray:
    """Per frame: band SNRs of the frame and `CONTEXT` frames each side, and their mean."""
    snr = levels - floors(levels)
    full = np.concatenate([snr, snr.mean(axis=1, keepdims=True)], axis=1)
    n = len(full)
    padded = np.pad(full, ((CONTEXT, CONTEXT), (0, 0)), mode="edge")
    return np.concatenate([padded[k : k + n] for k in range(2 * CONTEXT + 1)], axis=1)


def labels(meta: dict[str, Any], n: int) -> np.ndarray:
    """1 where a 30 ms frame holds speech heard in the mix (10 ms level >= noise - 10 dB)."""
    y = np.zeros(n, dtype=np.int8)
    heard = -meta["snr_db"] - 10.0
    for (a, _b), levels in zip(meta["utterances"], meta["levels"], strict=True):
        for i, lv in enumerate(levels):
            if lv >= heard:
                k = int((a + (i + 0.5) * 0.01) / FRAME_S)
                if k < n:
                    y[k] = 1
    return y


def features() -> None:
    """Design matrices and labels of every clip of both corpora."""
    from tests.fixtures.make_voice_corpus import read_pcm

    out = {}
    for clip, (where, meta) in clips().items():
        x = design(band_levels(read_pcm(where / f"{clip}.wav")))
        out[clip] = (x.astype(np.float32), labels(meta, len(x)))
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "features.pkl").write_bytes(pickle.dumps(out))
    print(f"{len(out)} clips, {out[clip][0].shape[1]} features per frame")


def cuts(kind: str) -> dict[str, Any]:
    """Every clip's metadata and cuts: ``untrimmed``, ``shipped`` or ``nofaint`` (cached).

    ``untrimmed``: `bench/segment_eval.py`'s `UNTRIMMED` margins; ``shipped``: the defaults;
    ``nofaint``: the defaults without the faint fallback (the energy onset everywhere).
    """
    from balto.audio.segmenter import SegmenterParams
    from bench.segment_eval import UNTRIMMED, run
    from tests.fixtures.make_voice_corpus import read_pcm

    params = {
        "untrimmed": SegmenterParams(**UNTRIMMED),  # type: ignore[arg-type]
        "shipped": SegmenterParams(),
        "nofaint": SegmenterParams(faint_headroom_db=None),
    }[kind]
    cache = WORK / f"cuts_{kind}_{'_'.join(w.name for w in corpora())}.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())  # type: ignore[no-any-return]
    doc = {c: (m, run(read_pcm(w / f"{c}.wav"), params)) for c, (w, m) in clips().items()}
    cache.write_bytes(pickle.dumps(doc))
    return doc
