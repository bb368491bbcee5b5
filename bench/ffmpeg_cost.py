"""What one decoder costs with a given ffmpeg binary: CPU per audio-second while streaming, memory.

For each binary (default: the one imageio-ffmpeg ships; others by path, e.g. the binary inside
another imageio-ffmpeg wheel), runs the command the decoder used before Opus was decoded in process
10 at a time over a corpus clip fed in 250 ms chunks as devices send them (20 ms apart, so the
run is short; the cost is per chunk), and prints the children's CPU per audio-second; then starts
6 more on a clip held open and reads one's ``/proc/<pid>/smaps_rollup``: RSS, the private part,
the shared part (the binary's text, the same page-cache pages in every decoder), and its threads.

    .venv/bin/python bench/ffmpeg_cost.py [PATH_TO_FFMPEG ...]
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import imageio_ffmpeg
import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from balto.audio.formats import AudioFormat, ffmpeg_input_args  # noqa: E402
from balto.device import plan_chunks  # noqa: E402

CLIP = ROOT / "tests" / "fixtures" / "corpus" / "receita_shop_10db.webm"
STREAMS = 10
PACE_S = 0.02


def _command(exe: str) -> list[str]:
    """The decoder's former ffmpeg command: forced input format, 16 kHz mono s16le out."""
    return [exe, "-hide_banner", "-loglevel", "error", *ffmpeg_input_args(AudioFormat.WEBM),
            "-i", "pipe:0", "-ac", "1", "-ar", "16000", "-f", "s16le", "-flush_packets", "1",
            "pipe:1"]  # fmt: skip


async def _stream(exe: str, chunks: list[tuple[float, bytes]]) -> None:
    proc = await trio.lowlevel.open_process(
        _command(exe), stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout

    async def feed() -> None:
        async with stdin:
            for _, chunk in chunks:
                await stdin.send_all(chunk)
                await trio.sleep(PACE_S)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(feed)
        while await stdout.receive_some(1 << 16):
            pass
    await proc.wait()


def _memory(exe: str) -> dict[str, int]:
    """smaps_rollup (kB) and threads of one of 6 decoders holding a stream open."""
    data = CLIP.read_bytes()[:20_000]
    procs = [
        subprocess.Popen(_command(exe), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        for _ in range(6)
    ]
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(data)
        proc.stdin.flush()
    time.sleep(1.5)
    pid = procs[0].pid
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":")[:2]
        out[name] = int(value.split()[0])
    out["Threads"] = len(list(Path(f"/proc/{pid}/task").iterdir()))
    for proc in procs:
        proc.kill()
        proc.wait()
    return out


async def main(exes: list[str]) -> None:
    """Measure each binary and print one line each."""
    chunks = plan_chunks(CLIP.read_bytes(), 0.25)
    audio_s = len(chunks) * 0.25
    for exe in exes:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        async with trio.open_nursery() as nursery:
            for _ in range(STREAMS):
                nursery.start_soon(_stream, exe, chunks)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        mem = _memory(exe)
        print(
            f"{Path(exe).name}: {1000 * cpu / STREAMS / audio_s:.2f} ms CPU per audio-second "
            f"(start included); RSS {mem['Rss'] / 1024:.1f} MB, private "
            f"{(mem['Private_Clean'] + mem['Private_Dirty']) / 1024:.1f} MB, shared "
            f"{(mem['Shared_Clean'] + mem['Shared_Dirty']) / 1024:.1f} MB; "
            f"{mem['Threads']} threads",
            flush=True,
        )


if __name__ == "__main__":
    trio.run(main, sys.argv[1:] or [imageio_ffmpeg.get_ffmpeg_exe()])
