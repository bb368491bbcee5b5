"""Speaker benchmark: attendants identified by voice and segments labelled by role, in shop noise.

The corpus (``bench/speaker_corpus.py``, generated into ``var/speaker_corpus`` on first run):
espeak-ng pt-BR voices in five splits sharing no voice, ``tune`` (the model's choices and the
thresholds are made on it), ``holdout`` … ``holdout4`` (measured), and 56 background voices the
shipped UBM and cohort are trained on. Each
attendant is enrolled through `balto.speaker.enroll.enroll` (ffmpeg decode, the sessions' front
end, the quality verdict) from a ~25 s WAV of sentences that never occur in the dialogues. Each
dialogue clip goes through the sessions' `FrontEnd` (the VAD cuts, each with its voice statistics)
and each cut is labelled by `balto.speaker.identify.identify` against its split's three
attendants; its truth is the turn it overlaps most (cuts overlapping no turn, i.e. noise, are
counted apart).

Figures per split and SNR: role accuracy (the label is the true role; unknown counts as wrong),
unknown share, customers taken for an attendant (share of customer segments), attendant named
right (share of attendant segments labelled with the right attendant), and cuts of noise labelled
attendant. ``--cpu`` measures the front end's CPU per audio-second with and without the voice
statistics on six dialogues (run it under ``flock /work/bench.lock``). ``--fit`` retrains
``balto/speaker/ubm.npz`` (the UBM, scikit-learn's GaussianMixture, and the cohort's adapted
models) from the corpus's 56 background voices, which no split holds (then rerun without it);
``--sweep`` re-chooses the thresholds on the tune split.

    .venv/bin/python bench/speaker_eval.py [--fit] [--cpu] [--sweep]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import wave
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from balto.audio.frontend import FrontEnd  # noqa: E402
from balto.speaker import embedding_of, gmm  # noqa: E402
from balto.speaker import identify as ident  # noqa: E402
from balto.speaker.enroll import decode, enroll, speech_of  # noqa: E402
from balto.speaker.frames import frame_features  # noqa: E402
from balto.speaker.voiceprint import Scorer, augment  # noqa: E402
from bench.speaker_corpus import SNRS, SPLITS, build, build_background  # noqa: E402

COMPONENTS = 64  # Gaussians in the UBM (128 did worse on tune: docs/BENCHMARKS.md)
UBM_FRAMES = 150_000  # frames sampled to train it


def _pcm(path: Path) -> bytes:
    with wave.open(str(path)) as w:
        return w.readframes(w.getnframes())


def _cuts(pcm: bytes, *, voice: bool = True) -> list:
    front = FrontEnd(16_000, 0.5, 15.0, voices=voice)
    out = []
    for at in range(0, len(pcm), 8000):
        out += front.feed(pcm[at : at + 8000])
    return out + front.flush()


def segments(index: Path, splits: tuple[str, ...] | None = None) -> list[dict]:
    """Every cut of every clip (of `splits`) with its truth (voice, role) and voice statistics."""
    meta = json.loads(index.read_text())
    rows = []
    for clip in meta["clips"]:
        if splits is not None and clip["split"] not in splits:
            continue
        for cut in _cuts(_pcm(index.parent / clip["file"])):
            best, overlap = None, 0.0
            for turn in clip["turns"]:
                a, b = turn["interval"]
                o = min(b, cut.end) - max(a, cut.start)
                if o > overlap:
                    best, overlap = turn, o
            rows.append(
                {
                    "clip": clip["file"],
                    "split": clip["split"],
                    "snr": clip["snr"],
                    "voice": best["voice"] if best else None,
                    "role": best["role"] if best else None,
                    "embedding": embedding_of(cut.voice),
                    "seconds": cut.end - cut.start,
                }
            )
    return rows


def fit(index: Path) -> None:
    """Train the UBM and the cohort on the background voices and write balto/speaker/ubm.npz.

    Voices of no split (`bench.speaker_corpus.BACKGROUND`): their dialogue lines at every SNR and
    their enrollment speech (clean and every third noisy copy) train a diagonal GMM; each voice
    is then enrolled on it as an attendant would be (`voiceprint.build`) to make the cohort.
    """
    from sklearn.mixture import GaussianMixture

    from balto.speaker import voiceprint

    meta = json.loads(index.read_text())
    frames = []
    for clip in meta["clips"]:
        for cut in _cuts(_pcm(index.parent / clip["file"]), voice=False):
            if any(min(b, cut.end) - max(a, cut.start) > 0 for a, b in _intervals(clip)):
                frames.append(frame_features(cut.pcm))
    speech = {}
    for name, info in meta["enroll"].items():
        cuts, _, _ = speech_of(decode((index.parent / info["file"]).read_bytes(), "wav"))
        speech[name] = [c for c in cuts if frame_features(c) is not None]
        for k, pcm in enumerate(speech[name]):
            frames += [frame_features(p) for p in [pcm, *augment(pcm, seed=k)[::3]]]
    x = np.concatenate([f for f in frames if f is not None])
    sample = x[np.random.default_rng(0).choice(len(x), min(len(x), UBM_FRAMES), replace=False)]
    mix = GaussianMixture(
        COMPONENTS, covariance_type="diag", max_iter=60, reg_covar=1e-3, random_state=0
    ).fit(sample)
    background = gmm.Ubm(mix.weights_, mix.means_, 1.0 / mix.covariances_)
    cohort = []
    for cuts in speech.values():
        made = voiceprint.build(cuts, background)
        assert made is not None
        cohort.append(made[0].offsets)
    out = ROOT / "balto" / "speaker" / "ubm.npz"
    np.savez_compressed(
        out,
        weights=mix.weights_.astype(np.float32),
        means=mix.means_.astype(np.float32),
        variances=mix.covariances_.astype(np.float32),
        cohort=np.stack(cohort).astype(np.float16),
    )
    print(f"wrote {out}: {COMPONENTS} Gaussians from {len(x)} frames, cohort of {len(cohort)}")


def _intervals(clip: dict) -> list[tuple[float, float]]:
    return [(t["interval"][0], t["interval"][1]) for t in clip["turns"]]


def enrolled(index: Path, splits: tuple[str, ...] | None = None) -> dict[str, list[ident.Enrolled]]:
    """Per split (of `splits`), its attendants enrolled from their enrollment recordings."""
    meta = json.loads(index.read_text())
    out: dict[str, list[ident.Enrolled]] = defaultdict(list)
    for name, info in meta["enroll"].items():
        if splits is not None and info["split"] not in splits:
            continue
        body = (index.parent / info["file"]).read_bytes()
        e = enroll(body, "audio/wav")
        print(f"  enrolled {name} ({info['split']}): {e.fala_s:.1f} s usable, {e.qualidade}")
        out[info["split"]].append(ident.Enrolled(name, name, Scorer.of(e.voiceprint)))
    return out


def evaluate(rows: list[dict], voices: dict[str, list[ident.Enrolled]]) -> dict:
    """The figures per (split, snr)."""
    table = {}
    for split in SPLITS:
        for snr in SNRS:
            sel = [r for r in rows if r["split"] == split and r["snr"] == snr]
            n = defaultdict(int)
            for r in sel:
                got = ident.identify(r["embedding"], voices[split])
                if r["role"] is None:
                    n["noise"] += 1
                    n["noise_att"] += got.falante == "atendente"
                    continue
                n["all"] += 1
                n["right_role"] += got.falante == r["role"]
                n["unknown"] += got.falante is None
                if r["role"] == "cliente":
                    n["cus"] += 1
                    n["cus_att"] += got.falante == "atendente"
                else:
                    n["att"] += 1
                    n["att_named"] += got.atendente_id == r["voice"]
                    n["att_wrong"] += got.falante == "atendente" and got.atendente_id != r["voice"]
            if n:
                table[(split, snr)] = n
    return table


def report(table: dict) -> None:
    print(
        "| split | SNR | segments (att/cus) | role accuracy | unknown | customer taken for"
        " attendant | right attendant named | another attendant named |"
        " noise cuts taken for attendant |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for (split, snr), n in table.items():
        pct = lambda a, b: f"{100 * a / max(b, 1):.1f}%"  # noqa: E731
        print(
            f"| {split} | {snr} dB | {n['all']} ({n['att']}/{n['cus']}) |"
            f" {pct(n['right_role'], n['all'])} | {pct(n['unknown'], n['all'])} |"
            f" {pct(n['cus_att'], n['cus'])} ({n['cus_att']}) |"
            f" {pct(n['att_named'], n['att'])} | {n['att_wrong']} |"
            f" {n['noise_att']}/{n['noise']} |"
        )


def cpu(index: Path) -> None:
    """Front-end CPU per audio-second with and without the voice statistics, six dialogues."""
    meta = json.loads(index.read_text())
    clips = [c for c in meta["clips"] if c["snr"] == 10][:6]
    pcm = b"".join(_pcm(index.parent / c["file"]) for c in clips)
    seconds = len(pcm) / 32000
    for voice in (False, True, False, True):
        t0 = time.thread_time()
        _cuts(pcm, voice=voice)
        spent = time.thread_time() - t0
        print(
            f"front end {'with' if voice else 'without'} voice:"
            f" {1000 * spent / seconds:.2f} ms CPU per audio-second"
        )
    rows = [r for r in segments(index) if r["embedding"] is not None][:200]
    voices = enrolled(index)["tune"]
    t0 = time.thread_time()
    for r in rows:
        ident.identify(r["embedding"], voices)
    each = 1e6 * (time.thread_time() - t0) / len(rows)
    print(f"scoring against 3 voiceprints: {each:.0f} µs per segment")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fit", action="store_true")
    parser.add_argument("--cpu", action="store_true")
    parser.add_argument("--sweep", action="store_true")
    args = parser.parse_args()
    index = build()
    if args.cpu:
        cpu(index)
        return
    if args.fit:
        fit(build_background())
        return
    if args.sweep:
        # The held-out splits are not looked at while choosing.
        rows, voices = segments(index, ("tune",)), enrolled(index, ("tune",))
        report({k: v for k, v in evaluate(rows, voices).items() if k[0] == "tune"})
        sweep(rows, voices)
        return
    report(evaluate(segments(index), enrolled(index)))


def sweep(rows: list[dict], voices: dict[str, list[ident.Enrolled]]) -> None:
    """How the thresholds were chosen: the best role accuracy on the tune split at 10 dB.

    Grid: attendant threshold 2.0-16.0 by 0.1, unknown band 0.5 or 1.0 below it. A threshold is
    judged by its worst role accuracy over itself and its neighbours within ±`_SWEEP_MARGIN`
    (a threshold letting more than 2% of the customers through counts 0), so a lone lucky grid
    point is not chosen; the best such, the middle one on ties, equal bands to the wider
    (unknown rather than wrong). Only the tune split is evaluated.
    """
    best: tuple[float, float, float] | None = None
    for band in (0.5, 1.0):
        grid = [round(float(a), 1) for a in np.arange(2.0, 16.001, 0.1)]
        role = {}
        for att in grid:
            ident.ATTENDANT_MIN_SCORE, ident.CUSTOMER_MAX_SCORE = att, att - band
            t = evaluate(rows, voices)[("tune", 10)]
            role[att] = 0.0 if t["cus_att"] > 0.02 * t["cus"] else t["right_role"] / t["all"]
        robust = {a: min(role[b] for b in grid if abs(b - a) <= _SWEEP_MARGIN + 1e-9) for a in grid}
        top = max(robust.values())
        plateau = [a for a in grid if robust[a] >= top - 1e-9]
        middle = plateau[len(plateau) // 2]
        print(
            f"band {band}: best lone {max(role.values()):.3f}; best over ±{_SWEEP_MARGIN}"
            f" {top:.3f} at {plateau[0]:.1f}-{plateau[-1]:.1f} (there {role[middle]:.3f})"
        )
        if best is None or top >= best[0] - 1e-9:
            best = (top, middle, middle - band)
    assert best is not None
    print(f"chosen on tune: ATTENDANT_MIN_SCORE={best[1]:.1f} CUSTOMER_MAX_SCORE={best[2]:.1f}")


_SWEEP_MARGIN = 0.3


if __name__ == "__main__":
    main()
