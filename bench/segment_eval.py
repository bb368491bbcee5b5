"""Segment boundaries on voices and rates the segmenter was tuned on, and on ones it never saw.

    .venv/bin/python bench/segment_eval.py [--set tune|tune2|heldout|heldout2|heldout3|heldout4|all]
        [--param NAME=VALUE] [--untrimmed] [--show-clipped]

The corpus is ``tests/fixtures/make_voice_corpus.py``'s (generated, seeded, into
``var/cache/segment_eval/`` on the first run: ~1 minute, needs Debian's espeak-ng). Each clip's
16 kHz audio (after a WebM/Opus round trip) goes through `balto.audio.frontend.FrontEnd` with the
default settings (denoise on) in 250 ms blocks, as the VAD actor gets it. Per set and SNR it prints:

- utterances found (some segment overlaps it) / total;
- false segments: segments overlapping no utterance, and of those how many overlap a beep or slam;
- start lead = utterance start - segment start (positive: audio sent before the speech; negative:
  the onset is cut), end lag = segment end - utterance end (positive: audio sent after the speech),
  for the first / last segment overlapping each utterance: signed p50 / p90 and |.| p50 / p90;
- clipped words: words (from espeak-ng's word events) with more than `CLIP_TOLERANCE_S` of their
  speech outside every segment, their speech being their 10 ms frames within 40 dB of the
  utterance's peak (so the silence of a comma pause, which the word events give to the word
  before it, is not counted), and utterances with a clipped word; "audibly clipped": the same
  counting only the word's frames no more than `UNDER_NOISE_DB` under the noise (what can be
  heard in the mix); then the words clipped (strictly / audibly) that the untrimmed margins
  (`UNTRIMMED`, run on the same clips) did not clip; also the worst speech of one word left out
  of every segment (ms);
- non-speech sent: seconds per segment not inside any utterance (what the STT is paid for on top);
- cut delay: audio-clock time the segment was handed out - utterance end, p50 / p90 (the
  streaming latency; includes up to one 250 ms block of waiting).

Then the segmenter's thread CPU per audio second, with this rule and untrimmed (the denoiser's
beside it), over all the clips run: run it under ``flock /work/bench.lock``. ``--untrimmed``
prints the untrimmed table too.

``--param`` overrides a `SegmenterParams` field (e.g. ``--param end_pad_s=0.08``) for tuning, which
is only honest on ``--set tune`` / ``--set tune2``; ``--base-param`` one of the untrimmed run;
``--denoise`` a `DenoiseParams` field of both runs (integers: e.g. ``--denoise n_fft=1024``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from balto.audio.denoise import DenoiseParams  # noqa: E402
from balto.audio.frontend import FrontEnd  # noqa: E402
from balto.audio.segmenter import CutSegment, SegmenterParams  # noqa: E402
from tests.fixtures.make_voice_corpus import SETS, ensure, read_pcm  # noqa: E402

SR = 16_000
BLOCK_BYTES = int(0.25 * SR) * 2  # a device chunk
CLIP_TOLERANCE_S = 0.02
"""Audible speech of one word that may fall outside its segment before the word counts as clipped:
under one 30 ms frame, and a 20 ms sliver at -40 dB of the peak is no phoneme."""
SNRS = (20, 10, 5)
DENOISE = DenoiseParams()
"""The denoiser's settings for every run (``--denoise NAME=VALUE`` overrides a field)."""
EXTENT_DB = 40.0
"""A word's speech: its 10 ms frames within this of its utterance's loudest (the corpus's audible
extent, frame by frame, so the silence of a comma pause that espeak-ng's WORD events give to the
word before it is not counted as the word)."""
UNDER_NOISE_DB = 10.0
"""Speech this far under the noise's power still counts as heard (a listener, or an STT, picks
speech out of noise a little below it); quieter parts of a word (espeak-ng's ring-downs 40 dB
under the peak) count only for the strict measure."""


@dataclass
class Tally:
    """Everything measured on one group of clips (a set at one SNR)."""

    utterances: int = 0
    found: int = 0
    segments: int = 0
    false_noise: int = 0
    false_event: int = 0
    leads: list[float] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    words: int = 0
    clipped_words: int = 0
    clipped_utterances: int = 0
    heard_clipped_words: int = 0
    heard_clipped_utterances: int = 0
    worst_outside_s: float = 0.0
    nonspeech_s: list[float] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    clipped: list[str] = field(default_factory=list)
    clipped_keys: set[str] = field(default_factory=set)
    heard_keys: set[str] = field(default_factory=set)
    vad_cpu_s: float = 0.0
    denoise_cpu_s: float = 0.0
    audio_s: float = 0.0


def run(
    pcm: bytes, params: SegmenterParams, t: Tally | None = None
) -> list[tuple[CutSegment, float]]:
    """The front end's segments with the audio-clock time each was handed out at.

    With `t`, the segmenter's thread CPU time and the audio's length are added to it.
    """
    front = FrontEnd(segmenter_params=params, denoise_params=DENOISE)
    out: list[tuple[CutSegment, float]] = []
    for i in range(0, len(pcm), BLOCK_BYTES):
        cuts = front.feed(pcm[i : i + BLOCK_BYTES])
        out += [(c, front.segmenter.position) for c in cuts]
    t0 = time.thread_time()
    out += [(c, front.segmenter.position) for c in front.flush()]
    if t is not None:
        t.vad_cpu_s += front.vad_cpu_s + time.thread_time() - t0
        t.denoise_cpu_s += front.denoise_cpu_s
        t.audio_s += front.audio_s
    return out


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def score(clip: str, meta: dict, cuts: list[tuple[CutSegment, float]], t: Tally) -> None:
    """Add one clip's measures to `t`."""
    utts = meta["utterances"]
    segs = [c for c, _ in cuts]
    t.utterances += len(utts)
    t.segments += len(segs)
    for k, (a, b) in enumerate(utts):
        hits = [(c, at) for c, at in cuts if _overlap(c.start, c.end, a, b) > 0]
        if not hits:
            continue
        t.found += 1
        t.leads.append(a - hits[0][0].start)
        t.lags.append(hits[-1][0].end - b)
        t.delays.append(hits[-1][1] - b)
        clipped_here = False
        heard_here = False
        levels = meta["levels"][k]
        extent_db = max(levels) - EXTENT_DB
        for j, w in enumerate(w for w in meta["words"] if w["utterance"] == k):
            w0, w1 = w["interval"]
            outside = _heard_outside(levels, a, w0, w1, segs, extent_db)
            t.words += 1
            t.worst_outside_s = max(t.worst_outside_s, outside)
            key = f"{clip} utt {k} word {j} {w['word']!r}"
            if outside > CLIP_TOLERANCE_S:
                t.clipped_words += 1
                clipped_here = True
                t.clipped.append(f"{key}: {outside * 1000:.0f} ms out")
                t.clipped_keys.add(key)
            heard_out = _heard_outside(levels, a, w0, w1, segs, -meta["snr_db"] - UNDER_NOISE_DB)
            if heard_out > CLIP_TOLERANCE_S:
                t.heard_clipped_words += 1
                heard_here = True
                t.heard_keys.add(key)
        t.clipped_utterances += clipped_here
        t.heard_clipped_utterances += heard_here
    for c in segs:
        speech = sum(_overlap(c.start, c.end, a, b) for a, b in utts)
        t.nonspeech_s.append(c.duration - speech)
        if speech == 0:
            on_event = any(_overlap(c.start, c.end, *e["interval"]) > 0 for e in meta["events"])
            t.false_event += on_event
            t.false_noise += not on_event


def _heard_outside(
    levels: list[int], a: float, w0: float, w1: float, segs: list[CutSegment], floor_db: float
) -> float:
    """Seconds of a word's 10 ms frames loud enough to be heard in the mix and outside segments."""
    out = 0.0
    for i in range(max(0, round((w0 - a) / 0.01)), min(len(levels), round((w1 - a) / 0.01))):
        mid = a + (i + 0.5) * 0.01
        if levels[i] >= floor_db and not any(c.start <= mid < c.end for c in segs):
            out += 0.01
    return out


def _pct(xs: list[float], q: float) -> float:
    return float(np.percentile(xs, q)) * 1000 if xs else float("nan")


def row(name: str, t: Tally, base: Tally) -> str:
    """One table row, times in ms; `base` is the same clips with the untrimmed margins."""
    lead_abs = [abs(x) for x in t.leads]
    lag_abs = [abs(x) for x in t.lags]
    return (
        f"| {name} | {t.found}/{t.utterances} | {t.false_event + t.false_noise} ({t.false_event})"
        f" | {_pct(t.leads, 50):.0f} / {_pct(t.leads, 90):.0f}"
        f" | {_pct(lead_abs, 50):.0f} / {_pct(lead_abs, 90):.0f}"
        f" | {_pct(t.lags, 50):.0f} / {_pct(t.lags, 90):.0f}"
        f" | {_pct(lag_abs, 50):.0f} / {_pct(lag_abs, 90):.0f}"
        f" | {t.clipped_words}/{t.words} ({t.clipped_utterances})"
        f" | {t.heard_clipped_words} ({t.heard_clipped_utterances})"
        f" | {len(t.clipped_keys - base.clipped_keys)} / {len(t.heard_keys - base.heard_keys)}"
        f" | {t.worst_outside_s * 1000:.0f}"
        f" | {float(np.mean(t.nonspeech_s)) if t.nonspeech_s else float('nan'):.2f}"
        f" | {_pct(t.delays, 50):.0f} / {_pct(t.delays, 90):.0f} |"
    )


HEADER = (
    "| set, SNR | found | false segments (beeps/slams) | start lead p50 / p90 | |lead| p50 / p90"
    " | end lag p50 / p90 | |lag| p50 / p90 | clipped words (utterances) | audibly clipped"
    " | clipped, not clipped untrimmed (audibly) | worst speech out ms"
    " | non-speech s / segment | cut delay p50 / p90 |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


UNTRIMMED: dict[str, object] = {
    "pre_roll_s": 0.3, "onset_margin_db": None, "offset_margin_db": None,
    "faint_headroom_db": None, "band_margin_db": None, "split_gap_s": None,
}  # fmt: skip
"""The `SegmenterParams` fields that give the margins of before trimming: 300 ms before the first
voiced frame, 150 ms after the last (the baseline no rule should clip more than)."""


def evaluate(sets: list[str], params: SegmenterParams, *, cache: Path | None = None) -> dict:
    """Run every clip of `sets`; the tallies per (set, SNR) and per set."""
    where = ensure(cache) if cache else ensure()
    clips = json.loads((where / "corpus.json").read_text())["clips"]
    tallies: dict[tuple[str, int | None], Tally] = {}
    for clip, meta in clips.items():
        if meta["set"] not in sets:
            continue
        group = tallies.setdefault((meta["set"], meta["snr_db"]), Tally())
        cuts = run(read_pcm(where / f"{clip}.wav"), params, group)
        for key in ((meta["set"], meta["snr_db"]), (meta["set"], None)):
            score(clip, meta, cuts, tallies.setdefault(key, Tally()))
    return tallies


def _param(text: str) -> tuple[str, object]:
    name, _, value = text.partition("=")
    kinds = {f.name: f.type for f in dataclasses.fields(SegmenterParams)}
    if name not in kinds:
        raise argparse.ArgumentTypeError(f"no SegmenterParams field {name!r}")
    if value == "None":
        return name, None
    return name, int(value) if kinds[name] == "int" else float(value)


def main() -> None:
    """Print the table for the chosen sets."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=[*SETS, "all"], default="all")
    parser.add_argument("--param", type=_param, action="append", default=[])
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--show-clipped", action="store_true", help="list every clipped word")
    parser.add_argument("--untrimmed", action="store_true", help="print the untrimmed table too")
    parser.add_argument(
        "--base-param", type=_param, action="append", default=[],
        help="override a field of the untrimmed baseline",
    )  # fmt: skip
    parser.add_argument(
        "--denoise", action="append", default=[], help="override a DenoiseParams field (int)"
    )
    args = parser.parse_args()
    global DENOISE
    DENOISE = dataclasses.replace(
        DENOISE, **{k: int(v) for k, _, v in (d.partition("=") for d in args.denoise)}
    )
    sets = list(SETS) if args.set == "all" else [args.set]
    params = SegmenterParams(**dict(args.param))
    untrimmed = SegmenterParams(**{**UNTRIMMED, **dict(args.base_param)})
    tallies = evaluate(sets, params, cache=args.cache)
    base = evaluate(sets, untrimmed, cache=args.cache)
    print(HEADER)
    for s in sets:
        for snr in SNRS:
            print(row(f"{s} {snr} dB", tallies[(s, snr)], base[(s, snr)]))
        print(row(f"**{s} all**", tallies[(s, None)], base[(s, None)]))
    if args.untrimmed:
        print("\nUntrimmed:\n")
        print(HEADER)
        for s in sets:
            for snr in SNRS:
                print(row(f"{s} {snr} dB", base[(s, snr)], base[(s, snr)]))
            print(row(f"**{s} all**", base[(s, None)], base[(s, None)]))
    groups = [k for k in tallies if k[1] is not None]
    for name, got in (("this rule", tallies), ("untrimmed", base)):
        audio = sum(got[k].audio_s for k in groups)
        cpu = sum(got[k].vad_cpu_s for k in groups) / audio
        denoise = sum(got[k].denoise_cpu_s for k in groups) / audio
        print(
            f"segmenter CPU, {name}: {cpu * 1000:.3f} ms per audio second"
            f" (denoiser: {denoise * 1000:.3f})"
        )
    if args.show_clipped:
        for s in sets:
            t, b = tallies[(s, None)], base[(s, None)]
            for line in t.clipped:
                new = line.split(":")[0] not in b.clipped_keys
                print(("NEW " if new else "    ") + line)


if __name__ == "__main__":
    main()
