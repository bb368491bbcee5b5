"""Round 8 probe: a neural d-vector (Resemblyzer's GE2E encoder) beside the shipped embedding.

Why: rounds 1-7 concluded the shipped `mfcc-f0-v1` embedding itself overlaps customers and
attendants on recorded (MBROLA) voices; the neural encoders in PyPI packages had only been
rejected on an estimate of their CPU. This measures the one whose weights ship in its wheel
(Resemblyzer 0.1.4, Apache-2.0: a 3-layer LSTM, 256 units, on 40 mel bands; trained on English
read speech) on the same cuts, to see whether a better embedding is worth its CPU.

It needs torch, so it runs in a venv of its own (nothing here is shipped or imported by `balto`):

    python3 -m venv /tmp/rz
    /tmp/rz/bin/pip install torch==2.13.0 librosa scipy webrtcvad-wheels
    /tmp/rz/bin/pip install --no-deps resemblyzer==0.1.4

The steps, after the corpora (`bench/speaker_corpus.py`, `bench/speaker_mbrola.py --fresh`):

    .venv/bin/python bench/speaker_dvector.py cuts        # every split's VAD cuts + truth (~1 min)
    .venv/bin/python bench/speaker_dvector.py denoise     # the clips through the sessions' Denoiser
    /tmp/rz/bin/python bench/speaker_dvector.py embed [--denoised | --middle]   # (~2 min)
    /tmp/rz/bin/python bench/speaker_dvector.py cpu      # a numpy encoder checked and timed
    .venv/bin/python bench/speaker_dvector.py table [--denoised | --middle] [--tnorm] [--sweep|-t T]
    .venv/bin/python bench/speaker_dvector.py fuse [--middle] [--weight W] [--sweep | -t T -d D]

``--sweep`` prints 10 dB figures over thresholds on the tuning splits only (``tune``,
``mbrola_tune``); a threshold chosen there is then given with ``-t`` for every split. ``--tnorm``
scores a cut against its split's voiceprints in units of its similarity to the other splits'
voiceprints (test normalisation: noise that pulls a cut away from every clean voiceprint at once
cancels). ``fuse`` labels a cut an attendant only when the shipped embedding (the rows of
``bench/speaker_session.py rows``) and the test-normalised d-vector name the same one; with
``--weight W``, when the best of z - W × the shipped distance reaches ``-t`` instead. The cut's
truth and the role / taken / named counts are `bench/speaker_eval.py`'s.
"""

from __future__ import annotations

import argparse
import json
import sys
import wave
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CACHE = ROOT / "var" / "speaker_corpus"  # bench.speaker_corpus.CACHE (not imported: torch venv)
WORK = CACHE / "dvector"
INDEXES = ("corpus.json", "mbrola.json", "mbrola3.json")
TUNING = ("tune", "mbrola_tune")
HEADER = (
    "| split | SNR | cuts | role accuracy | customer taken for attendant"
    " | right attendant named |\n"
    "|---|---|---|---|---|---|"
)
RATE = 16_000


def _pcm(path: Path) -> bytes:
    with wave.open(str(path)) as w:
        return w.readframes(w.getnframes())


def _clip_rows(clip: dict[str, Any]) -> list[dict[str, Any]]:
    from bench.speaker_eval import _cuts, overlapped

    out = []
    for cut in _cuts(_pcm(CACHE / clip["file"]), voice=False):
        best = overlapped(clip["turns"], cut.start, cut.end)
        out.append(
            {
                "clip": clip["file"],
                "split": clip["split"],
                "snr": clip["snr"],
                "start": cut.start,
                "end": cut.end,
                "voice": best["voice"] if best else None,
                "role": best["role"] if best else None,
            }
        )
    return out


def cuts() -> None:
    """Every split's cuts (the sessions' `FrontEnd`) and enrollment files into `WORK/rows.json`."""
    jobs, enroll = [], {}
    for file in INDEXES:
        if not (CACHE / file).exists():
            print(f"{file}: missing, skipped", file=sys.stderr)
            continue
        meta = json.loads((CACHE / file).read_text())
        jobs += meta["clips"]
        enroll |= {n: {"split": i["split"], "file": i["file"]} for n, i in meta["enroll"].items()}
    with Pool(2) as pool:
        rows = [r for c in pool.map(_clip_rows, jobs, chunksize=4) for r in c]
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "rows.json").write_text(json.dumps({"rows": rows, "enroll": enroll}))
    print(f"{len(rows)} cuts, {len(enroll)} attendants")


def _denoise_one(file: str) -> None:
    from balto.audio.denoise import Denoiser

    pcm, d = _pcm(CACHE / file), Denoiser(RATE)
    out = b"".join(d.process(pcm[i : i + 8000]) for i in range(0, len(pcm), 8000))
    with wave.open(str(WORK / "denoised" / file), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(out)


def denoise() -> None:
    """Each clip through a session's `Denoiser`, as the VAD hears it."""
    rows = json.loads((WORK / "rows.json").read_text())["rows"]
    (WORK / "denoised").mkdir(parents=True, exist_ok=True)
    with Pool(2) as pool:
        pool.map(_denoise_one, sorted({r["clip"] for r in rows}))


def _kind(denoised: bool, middle: bool) -> str:
    return "den" if denoised else "mid" if middle else "raw"


def embed(denoised: bool, middle: bool) -> None:
    """Resemblyzer d-vectors of every cut (its clip's samples) and of every enrollment.

    `middle`: only the cut's middle 1.6 s (one partial: the CPU a session could afford)."""
    import torch
    from resemblyzer import VoiceEncoder, preprocess_wav
    from resemblyzer.audio import normalize_volume

    torch.set_num_threads(1)
    doc = json.loads((WORK / "rows.json").read_text())
    encoder = VoiceEncoder("cpu", verbose=False)
    prints = {
        n: encoder.embed_utterance(preprocess_wav(CACHE / e["file"]))
        for n, e in doc["enroll"].items()
    }
    folder = WORK / "denoised" if denoised else CACHE
    clip, x, out = "", np.zeros(0, np.float32), []
    for r in doc["rows"]:
        if r["clip"] != clip:
            clip = r["clip"]
            x = np.frombuffer(_pcm(folder / clip), "<i2").astype(np.float32) / 32768
        if middle:
            mid = (r["start"] + r["end"]) / 2
            r = {**r, "start": max(r["start"], mid - 0.8), "end": min(r["end"], mid + 0.8)}
        cut = normalize_volume(
            x[int(r["start"] * RATE) : int(r["end"] * RATE)], -30, increase_only=True
        )
        out.append(encoder.embed_utterance(cut))
    np.savez(
        WORK / f"emb_{_kind(denoised, middle)}.npz",
        rows=np.array(out),
        names=np.array(list(prints)),
        prints=np.array(list(prints.values())),
    )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # type: ignore[no-any-return]


def encode(weights: dict[str, np.ndarray], mels: np.ndarray) -> np.ndarray:
    """The encoder's forward pass in numpy: (frames, 40) mel powers → the L2-normed d-vector.

    Layer by layer, so each layer's input projection is one matrix product over all frames and
    only the recurrent product (256 × 1024) runs per frame; PyTorch's gate order (i, f, g, o)."""
    x = mels.astype(np.float32)
    for layer in range(3):
        w_ih, w_hh = weights[f"lstm.weight_ih_l{layer}"], weights[f"lstm.weight_hh_l{layer}"]
        bias = weights[f"lstm.bias_ih_l{layer}"] + weights[f"lstm.bias_hh_l{layer}"]
        pre = x @ w_ih.T + bias
        w_hh_t = np.ascontiguousarray(w_hh.T)
        h = np.zeros(256, np.float32)
        c = np.zeros(256, np.float32)
        out = np.empty((len(x), 256), np.float32)
        for t in range(len(x)):
            gates = pre[t] + h @ w_hh_t
            i, f = _sigmoid(gates[:256]), _sigmoid(gates[256:512])
            g, o = np.tanh(gates[512:768]), _sigmoid(gates[768:])
            c = f * c + i * g
            h = o * np.tanh(c)
            out[t] = h
        x = out
    e = np.maximum(weights["linear.weight"] @ h + weights["linear.bias"], 0.0)
    return e / np.linalg.norm(e)  # type: ignore[no-any-return]


def cpu() -> None:
    """The numpy encoder against PyTorch's on real mels (equal within float error), and the CPU
    of one 1.6 s partial each way, one thread."""
    import time

    import torch
    from resemblyzer import VoiceEncoder, audio

    torch.set_num_threads(1)
    encoder = VoiceEncoder("cpu", verbose=False)
    weights = {k: v.numpy() for k, v in encoder.state_dict().items()}
    doc = json.loads((WORK / "rows.json").read_text())
    first = doc["rows"][0]
    x = np.frombuffer(_pcm(CACHE / first["clip"]), "<i2").astype(np.float32) / 32768
    mels = audio.wav_to_mel_spectrogram(x[int(first["start"] * RATE) :][: int(1.6 * RATE)])
    ours = encode(weights, mels)
    with torch.no_grad():
        theirs = encoder(torch.from_numpy(mels[None])).numpy()[0]
    print(f"numpy vs torch: max |difference| {np.abs(ours - theirs).max():.2e}")
    for name, run in (
        ("numpy", lambda: encode(weights, mels)),
        ("torch", lambda: encoder(torch.from_numpy(mels[None]))),
        ("mel spectrogram", lambda: audio.wav_to_mel_spectrogram(x[: int(1.6 * RATE)])),
    ):
        with torch.no_grad():
            run()
            t0 = time.process_time()
            for _ in range(20):
                run()
        print(f"{name}: {1000 * (time.process_time() - t0) / 20:.1f} ms CPU per 1.6 s partial")


class Scores:
    """Cosine similarities of each cut to its split's voiceprints (optionally test-normalised)."""

    def __init__(self, denoised: bool, tnorm: bool, middle: bool = False) -> None:
        doc = json.loads((WORK / "rows.json").read_text())
        z = np.load(WORK / f"emb_{_kind(denoised, middle)}.npz")
        self.rows: list[dict[str, Any]] = doc["rows"]
        names = [str(n) for n in z["names"]]
        split_of = [doc["enroll"][n]["split"] for n in names]
        self.best: list[tuple[float, str]] = []
        self.each: list[dict[str, float]] = []  # per attendant of the cut's split
        for r, e in zip(self.rows, z["rows"], strict=True):
            own = [k for k, s in enumerate(split_of) if s == r["split"]]
            sims = z["prints"][own] @ e
            if tnorm:
                cohort = z["prints"][[k for k, s in enumerate(split_of) if s != r["split"]]] @ e
                sims = (sims - cohort.mean()) / cohort.std()
            b = int(np.argmax(sims))
            self.best.append((float(sims[b]), names[own[b]]))
            self.each.append({names[k]: float(v) for k, v in zip(own, sims, strict=True)})

    def table(self, split: str, snr: int, t: float) -> tuple[int, float, float, float]:
        """`count` with each cut labelled its best attendant when the score reaches `t`."""
        return count(self.rows, [who if sim >= t else None for sim, who in self.best], split, snr)


def count(
    rows: list[dict[str, Any]], labels: list[str | None], split: str, snr: int
) -> tuple[int, float, float, float]:
    """(cuts, role accuracy, customers taken for attendant, right attendant named), % of one
    split at one SNR; `labels`: per cut the attendant it was labelled with, None for `cliente`."""
    n = ok = cus = taken = att = named = 0
    for r, who in zip(rows, labels, strict=True):
        if r["split"] != split or r["snr"] != snr or r["role"] is None:
            continue
        n += 1
        ok += ("cliente" if who is None else "atendente") == r["role"]
        if r["role"] == "cliente":
            cus, taken = cus + 1, taken + (who is not None)
        else:
            att, named = att + 1, named + (who == r["voice"])
    return n, 100 * ok / max(n, 1), 100 * taken / max(cus, 1), 100 * named / max(att, 1)


def fuse(
    tnorm_t: float, max_distance: float, sweep: bool, middle: bool, weight: float | None
) -> None:
    """Both embeddings must name the same attendant (the shipped one within `max_distance`, the
    d-vector's test-normalised score at least `tnorm_t`); anything else is `cliente`. With
    `weight`, one score per attendant instead: z - weight × shipped distance, at least `tnorm_t`.

    The shipped embedding's cuts come from `bench/speaker_session.py rows` (the same front end
    over the same clips in the same order; checked cut by cut)."""
    from bench.speaker_session import load

    scores = Scores(False, True, middle)
    shipped, voices = load()
    assert [(r["clip"], r["role"], r["voice"]) for r in shipped] == [
        (r["clip"], r["role"], r["voice"]) for r in scores.rows
    ], "the two row sets do not hold the same cuts"
    far = float("inf")
    dists = [
        {e.nome: e.scorer.distance(r["embedding"]) for e in voices[r["split"]]}
        if r["embedding"] is not None
        else {}
        for r in shipped
    ]

    def decide(each: dict[str, float], dist: dict[str, float], t: float, d: float) -> str | None:
        """The attendant the cut is labelled with, or None (`cliente`)."""
        if weight is not None:  # one score: z - weight × distance, at least t
            fused = {k: z - weight * dist.get(k, far) for k, z in each.items()}
            who = max(fused, key=lambda k: fused[k])
            return who if fused[who] >= t else None
        who = max(each, key=lambda k: each[k])
        nearest = min(dist, key=lambda k: dist[k]) if dist else None
        return who if each[who] >= t and nearest == who and dist[who] <= d else None

    def cells(split: str, snr: int, t: float, d: float) -> tuple[int, float, float, float]:
        labels = [decide(e, dist, t, d) for e, dist in zip(scores.each, dists, strict=True)]
        return count(scores.rows, labels, split, snr)

    if sweep:
        grid = (
            [(d, float(t)) for d in (1.14, 1.3, 1.5, 2.0) for t in np.arange(0.5, 3.01, 0.25)]
            if weight is None
            else [(far, float(t)) for t in np.arange(-6.0, 3.01, 0.25)]
        )
        for d, t in grid:
            got = [cells(s, 10, float(t), d) for s in TUNING]
            line = "  ".join(
                f"{s}: role {c[1]:.1f} taken {c[2]:.1f} named {c[3]:.1f}"
                for s, c in zip(TUNING, got, strict=True)
            )
            print(f"d={d} t={t:.2f} sum {sum(c[1] for c in got):.1f}  {line}")
        return
    rule = f"z - {weight} x distance" if weight is not None else f"distance <= {max_distance} and z"
    print(f"fused: {rule} >= {tnorm_t}")
    print(HEADER)
    for split in sorted({r["split"] for r in scores.rows}):
        for snr in (20, 10, 5):
            n, role, taken, named = cells(split, snr, tnorm_t, max_distance)
            print(f"| {split} | {snr} dB | {n} | {role:.1f}% | {taken:.1f}% | {named:.1f}% |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=("cuts", "denoise", "embed", "cpu", "table", "fuse"))
    parser.add_argument("--denoised", action="store_true")
    parser.add_argument("--tnorm", action="store_true")
    parser.add_argument("--middle", action="store_true", help="one 1.6 s partial per cut")
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("-t", type=float, default=0.75)
    parser.add_argument("-d", type=float, default=1.14, help="fuse: the shipped model's distance")
    parser.add_argument("--weight", type=float, default=None, help="fuse: one linear score")
    args = parser.parse_args()
    if args.step == "cuts":
        return cuts()
    if args.step == "denoise":
        return denoise()
    if args.step == "embed":
        return embed(args.denoised, args.middle)
    if args.step == "cpu":
        return cpu()
    if args.step == "fuse":
        return fuse(args.t, args.d, args.sweep, args.middle, args.weight)
    scores = Scores(args.denoised, args.tnorm, args.middle)
    if args.sweep:
        grid = np.arange(0.5, 6.01, 0.25) if args.tnorm else np.arange(0.55, 0.951, 0.025)
        for t in grid:
            cells = [scores.table(s, 10, float(t)) for s in TUNING]
            line = "  ".join(
                f"{s}: role {c[1]:.1f} taken {c[2]:.1f} named {c[3]:.1f}"
                for s, c in zip(TUNING, cells, strict=True)
            )
            print(f"t={t:.3f} sum {sum(c[1] for c in cells):.1f}  {line}")
        return None
    print(HEADER)
    for split in sorted({r["split"] for r in scores.rows}):
        for snr in (20, 10, 5):
            n, role, taken, named = scores.table(split, snr, args.t)
            print(f"| {split} | {snr} dB | {n} | {role:.1f}% | {taken:.1f}% | {named:.1f}% |")
    return None


if __name__ == "__main__":
    main()
