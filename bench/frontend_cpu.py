"""CPU per audio-second of each front-end stage, as a worker spends it, on a fixed recorded stream.

    .venv/bin/python bench/frontend_cpu.py [--repeats 5] [--dump cuts.json]

The stream is the capacity bench's (``receita_shop_10db+gripe_babble_10db+dor_ac_10db``, 87 s of
48 kHz WebM/Opus built as `bench/capacity.py` builds it, cached in ``var/cache/``), cut into the
device's 250 ms chunks (`balto.device.plan_chunks`) and demuxed as the server does (not counted).
Each chunk then goes through what a front-end worker does for one ``feed_opus`` request
(`balto.audio.worker_loop.answer`): the request unpickled, the Opus packets decoded
(`OpusDecoder`), the PCM fed to a `FrontEnd` (denoise on, default settings), the reply pickled;
both pickles are also undone/done once more as the server's side of the IPC. Per stage: thread CPU
per audio-second, the best and the median over the repeats (run it under
``flock /work/bench.lock``). ``--dump`` writes every cut (times, reason, a hash of its audio and of
its voice embedding) of the stream and of every corpus clip, for comparing two versions' outputs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from balto.audio.formats import AudioFormat  # noqa: E402
from balto.audio.frontend import FrontEnd  # noqa: E402
from balto.audio.opus_decoder import OpusDecoder  # noqa: E402
from balto.audio.opus_demux import OpusDemuxer  # noqa: E402
from balto.audio.segmenter import CutSegment  # noqa: E402
from balto.device import plan_chunks  # noqa: E402

CACHE = ROOT / "var" / "cache" / "frontend_cpu"
MIX = "receita_shop_10db+gripe_babble_10db+dor_ac_10db"
CORPUS = ROOT / "tests" / "fixtures" / "corpus"
STAGES = ("ipc", "decode", "denoise", "vad", "voice", "total")


def _stream() -> bytes:
    path = CACHE / "mix.webm"
    if not path.exists():
        from bench.capacity import build_mix

        CACHE.mkdir(parents=True, exist_ok=True)
        build_mix(MIX, CACHE)
    return path.read_bytes()


def _requests(webm: bytes) -> tuple[bytes | None, list[list[bytes]]]:
    """The stream's OpusHead and, per device chunk, its packets (as the server hands them on)."""
    demux = OpusDemuxer(AudioFormat.WEBM)
    chunks = [[p.data for p in demux.feed(chunk)] for _, chunk in plan_chunks(webm, 0.25)]
    return demux.head, chunks


def run_once(head: bytes | None, chunks: list[list[bytes]]) -> tuple[dict[str, float], float]:
    """One pass over the stream as a worker; CPU seconds per stage and audio seconds."""
    spent = dict.fromkeys(STAGES, 0.0)
    front, decoder = FrontEnd(), OpusDecoder(head)
    clock = time.thread_time
    start = clock()
    for k, packets in enumerate(chunks):
        t0 = clock()
        arg = ([(0, tuple(packets))], head, k == 0, False, 0.25)
        request = pickle.dumps((k, "feed_opus", 1, arg), protocol=5)
        _, _, _, (runs, *_) = pickle.loads(request)
        t1 = clock()
        pcm = b"".join(bytes(2 * gap) + decoder.decode(list(p)) for gap, p in runs)
        t2 = clock()
        before = (front.denoise_cpu_s, front.vad_cpu_s, front.voice_cpu_s)
        cuts = front.feed(pcm)
        after = (front.denoise_cpu_s, front.vad_cpu_s, front.voice_cpu_s)
        denoise, vad, voice = (a - b for a, b in zip(after, before, strict=True))
        t3 = clock()
        reply = (cuts, front.describe(), (0.25, denoise, vad), 0.0, len(pcm) // 2)
        pickle.loads(pickle.dumps((k, True, reply), protocol=5))
        t4 = clock()
        spent["ipc"] += (t1 - t0) + (t4 - t3)
        spent["decode"] += t2 - t1
        spent["denoise"] += denoise
        spent["vad"] += vad - voice
        spent["voice"] += voice
    front.flush()
    spent["total"] = clock() - start
    return spent, front.audio_s


def cut_record(cuts: list[CutSegment]) -> list[dict[str, object]]:
    """What must stay equal between two versions: times, reason, audio and voice hashes."""
    out: list[dict[str, object]] = []
    for c in cuts:
        voice = b"" if c.voice is None else pickle.dumps(c.voice, protocol=5)
        out.append({
            "start": round(c.start, 4), "end": round(c.end, 4),
            "speech": [round(c.speech_start, 4), round(c.speech_end, 4)],
            "reason": c.reason.value, "pcm": hashlib.sha1(c.pcm).hexdigest()[:12],
            "voice": hashlib.sha1(voice).hexdigest()[:12],
        })  # fmt: skip
    return out


def dump(path: Path) -> None:
    """Every cut of the stream and of each corpus clip, decoded the way the workers decode."""
    result: dict[str, object] = {}
    clips = {MIX: _stream()} | {p.stem: p.read_bytes() for p in sorted(CORPUS.glob("*.webm"))}
    for name, webm in clips.items():
        head, chunks = _requests(webm)
        front, decoder = FrontEnd(), OpusDecoder(head)
        cuts = [c for packets in chunks for c in front.feed(decoder.decode(packets))]
        result[name] = cut_record(cuts + front.flush())
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"cuts written to {path}")


def main() -> None:
    """Print the per-stage table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dump", type=Path)
    args = parser.parse_args()
    head, chunks = _requests(_stream())
    runs = [run_once(head, chunks) for _ in range(args.repeats)]
    audio_s = runs[0][1]
    print(f"{audio_s:.1f} s of audio, {len(chunks)} chunks, {args.repeats} repeats")
    for stage in STAGES:
        per = [1000.0 * r[0][stage] / audio_s for r in runs]
        print(
            f"{stage:8} best {min(per):5.2f}  median {statistics.median(per):5.2f} ms per audio-s"
        )
    if args.dump:
        dump(args.dump)


if __name__ == "__main__":
    main()
