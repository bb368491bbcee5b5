"""Probe: segment edges placed by a neural VAD (Silero VAD 6) inside the segmenter's untrimmed cuts.

Why: issue 17's boundary bar fails at 5 dB (start |lead| p90 ~300 ms, words clipped) and on some
held-out sets at 10 dB, with webrtcvad + the energy gate deciding what is speech. Pipecat, the
peer the issue measures against, uses Silero. This asks what Silero's frame probabilities would
give as the edge rule, before anyone pays for running it: the segmenter still finds the segments
(untrimmed margins: 300 ms pre-roll, 150 ms pad), and each cut's start and end are moved to the
first / last 32 ms frame Silero calls speech (probability >= `--threshold`) inside what the cut
may hold, minus `--pre` / plus `--pad`; the end may also grow into the pause up to the moment the
cut was handed out (that audio has arrived). A cut with no Silero speech is kept as it was
(``--drop`` removes it instead). Scored exactly as `bench/segment_eval.py`.

Silero needs torch or onnxruntime, so its probabilities are computed in a venv of its own (the
one `bench/speaker_dvector.py` describes, plus ``pip install onnxruntime packaging`` and
``pip install --no-deps silero-vad==6.2.3``):

    /tmp/rz/bin/python bench/segment_silero.py probs     # every clip's frame probabilities
    .venv/bin/python bench/segment_silero.py table [--set tune,tune2] [--threshold 0.5]
        [--pre 0.06] [--pad 0.1] [--drop]

Nothing here is shipped; tune only on ``tune`` / ``tune2``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pickle
import sys
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FRAME_S = 512 / 16_000  # Silero's window at 16 kHz
WORK = ROOT / "var" / "cache" / "segment_silero"


def probs() -> None:
    """Silero VAD's speech probability per 32 ms frame of every corpus clip (original audio)."""
    import torch
    from silero_vad import load_silero_vad

    torch.set_num_threads(1)
    # The corpus `tests.fixtures.make_voice_corpus.ensure()` made last (not imported: this venv
    # need not hold balto's dependencies).
    corpora = (ROOT / "var" / "cache" / "segment_eval").glob("*/corpus.json")
    where = max(corpora, key=lambda p: p.stat().st_mtime).parent
    model = load_silero_vad(onnx=True)
    out, cpu, audio = {}, 0.0, 0.0
    for f in sorted(where.glob("*.wav")):
        with wave.open(str(f)) as w:
            x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
        model.reset_states()
        t0 = time.process_time()
        out[f.stem] = model.audio_forward(torch.from_numpy(x), 16_000).numpy().ravel()
        cpu, audio = cpu + time.process_time() - t0, audio + len(x) / 16_000
    WORK.mkdir(parents=True, exist_ok=True)
    np.savez(WORK / "probs.npz", **out)
    print(
        f"{len(out)} clips; Silero (onnxruntime, 1 thread): "
        f"{1000 * cpu / audio:.2f} ms CPU per audio-second"
    )


def _cuts() -> dict[str, Any]:
    """The untrimmed segmenter's cuts of every clip, cached."""
    from balto.audio.segmenter import SegmenterParams
    from bench.segment_eval import UNTRIMMED, run
    from tests.fixtures.make_voice_corpus import ensure, read_pcm

    where = ensure()
    cache = WORK / f"cuts_{where.name}.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())  # type: ignore[no-any-return]
    clips = json.loads((where / "corpus.json").read_text())["clips"]
    params = SegmenterParams(**UNTRIMMED)
    doc = {c: (m, run(read_pcm(where / f"{c}.wav"), params)) for c, m in clips.items()}
    cache.write_bytes(pickle.dumps(doc))
    return doc


def refine(
    cuts: list[Any], p: np.ndarray, threshold: float, pre: float, pad: float, drop: bool
) -> list[Any]:
    """Each cut's edges moved to Silero's first / last speech frame within what it may hold."""
    out: list[Any] = []
    for c, at in cuts:
        lo = max(c.start, out[-1][0].end if out else 0.0)
        hi = at
        k0, k1 = int(np.ceil(lo / FRAME_S)), int(hi / FRAME_S)
        speech = np.flatnonzero(p[k0:k1] >= threshold)
        if not len(speech):
            if not drop:
                out.append((c, at))
            continue
        start = max(lo, (k0 + speech[0]) * FRAME_S - pre)
        end = min(hi, (k0 + speech[-1] + 1) * FRAME_S + pad)
        out.append((dataclasses.replace(c, start=start, end=end), at))
    return out


def table(sets: list[str], threshold: float, pre: float, pad: float, drop: bool) -> None:
    """The segment_eval table for the refined cuts (the untrimmed cuts as its baseline)."""
    from bench.segment_eval import HEADER, SNRS, Tally, row, score

    doc = _cuts()
    z = np.load(WORK / "probs.npz")
    got: dict[tuple[str, int | None], Tally] = {}
    base: dict[tuple[str, int | None], Tally] = {}
    for clip, (meta, cuts) in doc.items():
        if meta["set"] not in sets:
            continue
        new = refine(cuts, z[clip], threshold, pre, pad, drop)
        for key in ((meta["set"], meta["snr_db"]), (meta["set"], None)):
            score(clip, meta, new, got.setdefault(key, Tally()))
            score(clip, meta, cuts, base.setdefault(key, Tally()))
    print(f"threshold {threshold}, pre {pre}, pad {pad}, drop {drop}")
    print(HEADER)
    for s in sets:
        for snr in SNRS:
            print(row(f"{s} {snr} dB", got[(s, snr)], base[(s, snr)]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=("probs", "table"))
    parser.add_argument("--set", default="tune,tune2")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--pre", type=float, default=0.06)
    parser.add_argument("--pad", type=float, default=0.1)
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()
    if args.step == "probs":
        return probs()
    from tests.fixtures.make_voice_corpus import SETS

    sets = list(SETS) if args.set == "all" else args.set.split(",")
    return table(sets, args.threshold, args.pre, args.pad, args.drop)


if __name__ == "__main__":
    main()
