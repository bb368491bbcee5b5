"""What decoding browser Opus to 16 kHz mono costs in process, per candidate decoder.

Candidates: libopus asked for 16 kHz mono through ctypes (what `balto.audio.opus_decoder` uses,
`balto.audio.libopus`), PyAV's native ``opus`` decoder + its resampler (its fallback), PyAV's
``libopus`` decoder (which FFmpeg opens at 48 kHz) + the resampler, and another libopus binding
decoding straight to 16 kHz mono (``opuslib``, ctypes over the system's libopus; skipped when
either is missing). For a corpus clip
as 48 kHz mono and stereo WebM/Opus (32 kbit/s), packets found by `balto.audio.opus_demux` and
decoded a device chunk (13 packets) per call: CPU per audio-second, and the memory 200 live
decoders add (RSS of this process, after each has decoded a second).

    .venv/bin/python bench/opus_decode_cost.py
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import av
import imageio_ffmpeg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from balto.audio.formats import AudioFormat  # noqa: E402
from balto.audio.opus_decoder import OpusDecoder  # noqa: E402
from balto.audio.opus_demux import OpusDemuxer  # noqa: E402

CLIP = ROOT / "tests" / "fixtures" / "corpus" / "receita_shop_10db.webm"
PER_CALL = 13  # packets in a 250 ms chunk of 20 ms packets
LIVE = 200


def _webm(channels: int) -> bytes:
    layout = ["-af", "pan=stereo|c0=c0|c1=c0"] if channels == 2 else ["-ac", "1"]
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(CLIP), *layout]
    cmd += ["-ar", "48000", "-c:a", "libopus", "-b:a", "32k", "-f", "webm", "pipe:1"]
    return subprocess.run(cmd, capture_output=True, check=True).stdout


class _PyAv:
    """PyAV with another decoder than `OpusDecoder`'s (same resampling)."""

    def __init__(self, name: str, head: bytes | None) -> None:
        self.codec = av.CodecContext.create(name, "r")
        if head:
            self.codec.extradata = head
        self.resampler = av.AudioResampler(format="s16", layout="mono", rate=16_000)

    def decode(self, packets: list[bytes]) -> bytes:
        out = []
        for data in packets:
            for frame in self.codec.decode(av.Packet(data)):
                for pcm in self.resampler.resample(frame):
                    out.append(bytes(pcm.planes[0])[: 2 * pcm.samples])
        return b"".join(out)


class _OpusLib:
    """libopus straight to 16 kHz mono (it downmixes and resamples internally)."""

    def __init__(self, head: bytes | None) -> None:
        import opuslib  # type: ignore[import-untyped]  # optional, bench only

        self.decoder = opuslib.Decoder(16_000, 1)

    def decode(self, packets: list[bytes]) -> bytes:
        return b"".join(self.decoder.decode(data, 1920) for data in packets)


def _candidates() -> dict[str, Callable[[bytes | None], object]]:
    found: dict[str, Callable[[bytes | None], object]] = {
        "libopus at 16 kHz mono, ctypes (chosen)": lambda head: OpusDecoder(head),
        "PyAV opus + resampler": lambda head: OpusDecoder(head, libopus=False),
        "PyAV libopus + resampler": lambda head: _PyAv("libopus", head),
    }
    try:
        import opuslib  # noqa: F401

        _OpusLib(None)
        found["opuslib (system libopus) at 16 kHz mono"] = _OpusLib
    except Exception as exc:  # a missing module or a missing libopus
        print(f"opuslib skipped: {exc!r}")
    return found


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    """Print one line per (candidate, layout)."""
    for channels in (1, 2):
        demux = OpusDemuxer(AudioFormat.WEBM)
        packets = [p.data for p in demux.feed(_webm(channels))]
        seconds = len(packets) * 0.02
        for name, make in _candidates().items():
            best = float("inf")
            for _ in range(3):
                decoder = make(demux.head)
                t0 = time.process_time()
                for at in range(0, len(packets), PER_CALL):
                    decoder.decode(packets[at : at + PER_CALL])  # type: ignore[attr-defined]
                best = min(best, time.process_time() - t0)
            before = _rss_kb()
            live = [make(demux.head) for _ in range(LIVE)]
            for decoder in live:
                decoder.decode(packets[:50])  # type: ignore[attr-defined]
            per = (_rss_kb() - before) / LIVE / 1024
            print(
                f"{'stereo' if channels == 2 else 'mono  '} 48 kHz | {name:42} | "
                f"{1000 * best / seconds:.2f} ms CPU per audio-second | "
                f"{per:.2f} MB RSS per live decoder",
                flush=True,
            )
            del live


if __name__ == "__main__":
    main()
