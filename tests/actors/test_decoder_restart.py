"""Decoder resilience: a new incarnation resuming, browser-style chunks, garbage and lost bytes.

(A front-end worker killed mid-stream, which decodes the Opus when there are workers:
`tests/actors/test_vad_workers.py`.)

Browser MediaRecorder chunks are cut by time, not at element boundaries, so here the WebM bytes are
cut into equal byte runs that begin in the middle of blocks (and of Cluster headers).
"""

from __future__ import annotations

import itertools
import subprocess
import wave
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
import trio

from actors.context import ActorContext, ActorHealth, SessionInfo, SessionStats
from actors.decoder import DecoderMemory, run_decoder
from balto.messages import AudioChunk, PcmFrame

FIXTURES = Path(__file__).parent.parent / "fixtures"
WAV = FIXTURES / "two_utterances.wav"
SR = 16_000
CHUNK_S = 0.3  # Chromium's MediaRecorder timeslice in the issue


def _context() -> ActorContext:
    info = SessionInfo(session_id="s" * 36, balcao_id="b", cliente_id="c", nome_balcao="teste")
    return ActorContext(info, ActorHealth("decoder"), SessionStats())


def _original() -> np.ndarray:
    with wave.open(str(WAV)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)


def _encode(tmp: Path, *, channels: int = 1, cluster_ms: int = 250) -> bytes:
    """The fixture as a live (unseekable) 48 kHz Opus WebM stream, as a browser would send it."""
    layout = ["-af", "pan=stereo|c0=c0|c1=c0"] if channels == 2 else ["-ac", "1"]
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-i", str(WAV), *layout]
    cmd += ["-ar", "48000", "-c:a", "libopus", "-b:a", "32k"]
    cmd += ["-cluster_time_limit", str(cluster_ms), "-cluster_size_limit", "10000000"]
    cmd += ["-f", "webm", "pipe:1"]
    return subprocess.run(cmd, capture_output=True, check=True).stdout


def _browser_chunks(data: bytes, duration: float = 8.0) -> list[bytes]:
    """Equal byte runs of ~CHUNK_S each: they start mid-element, as MediaRecorder's do."""
    n = round(duration / CHUNK_S)
    cuts = [round(len(data) * k / n) for k in range(n + 1)]
    return [data[a:b] for a, b in itertools.pairwise(cuts)]


def _envelope(x: np.ndarray) -> np.ndarray:
    """Per-30 ms level in dB (what the VAD sees), for comparing lossy audio."""
    n = len(x) // 480
    frames = x[: n * 480].reshape(n, 480)
    return np.asarray(10 * np.log10(np.mean(frames**2, axis=1) + 1.0))


async def _drive(
    chunks: list[bytes],
    memory: DecoderMemory,
    *,
    on_chunk: object = None,
    incarnations: list[int] | None = None,
    again: set[int] | None = None,
) -> list[PcmFrame]:
    """Feed chunks one by one at ~20x real time; restart the decoder at the given chunk indices;
    after the chunks in `again`, restart it and hand the same chunk again (what the supervised
    link does with the message a restarted actor held)."""
    in_tx, in_rx = trio.open_memory_channel[AudioChunk](len(chunks))
    out_tx, out_rx = trio.open_memory_channel[PcmFrame](10_000)
    frames: list[PcmFrame] = []
    restarts = set(incarnations or [])
    async with trio.open_nursery() as nursery:

        async def collect() -> None:
            async with out_rx:
                async for frame in out_rx:
                    frames.append(frame)

        nursery.start_soon(collect)
        scope = trio.CancelScope()

        async def incarnation(scope: trio.CancelScope) -> None:
            with scope:
                await run_decoder(in_rx.clone(), out_tx.clone(), _context(), memory=memory)

        nursery.start_soon(incarnation, scope)
        async with in_tx:
            for seq, data in enumerate(chunks):
                if seq in restarts:  # what a supervisor restart does: a new call, same memory
                    scope.cancel()
                    await trio.sleep(0.05)
                    scope = trio.CancelScope()
                    nursery.start_soon(incarnation, scope)
                chunk = AudioChunk(seq=seq, data=data, received_at=trio.current_time())
                await in_tx.send(chunk)
                await trio.sleep(CHUNK_S / 20)
                if seq in (again or set()):
                    scope.cancel()
                    await trio.sleep(0.05)
                    scope = trio.CancelScope()
                    nursery.start_soon(incarnation, scope)
                    await in_tx.send(chunk)
                    await trio.sleep(CHUNK_S / 20)
                if callable(on_chunk):
                    on_chunk(seq)
        in_rx.close()
        out_tx.close()
    return frames


def _check_clock(frames: list[PcmFrame]) -> float:
    """Timestamps never go backwards; return the total forward jump (audio known lost)."""
    position, jumped = 0.0, 0.0
    for frame in frames:
        assert frame.sample_rate == SR
        assert frame.start >= position - 1e-9, "audio clock went backwards"
        jumped += frame.start - position
        position = frame.start + frame.duration
    return jumped


def _check_alignment(frames: list[PcmFrame], original: np.ndarray) -> float:
    """Audio sits at its true time on the clock; return the seconds of audio that came out."""
    decoded = np.zeros(len(original) + SR)
    covered = np.zeros(len(decoded), dtype=bool)
    for frame in frames:
        at = round(frame.start * SR)
        pcm = np.frombuffer(frame.pcm, dtype="<i2")
        pcm = pcm[: max(0, len(decoded) - at)]
        decoded[at : at + len(pcm)] = pcm
        covered[at : at + len(pcm)] = True
    mine, theirs = _envelope(decoded[: len(original)]), _envelope(original)
    mask = _envelope(covered[: len(original)].astype(np.float64) * 1000) > 50  # fully covered
    assert np.corrcoef(mine[mask], theirs[mask])[0, 1] > 0.97
    return float(covered[: len(original)].sum()) / SR


@pytest.mark.parametrize("channels", [1, 2], ids=["mono", "stereo"])
async def test_browser_chunks_cut_mid_element_decode_whole(tmp_path: Path, channels: int) -> None:
    chunks = _browser_chunks(_encode(tmp_path, channels=channels))
    memory = DecoderMemory()
    frames = await _drive(chunks, memory)
    assert _check_clock(frames) == pytest.approx(0.0, abs=1e-6)
    assert _check_alignment(frames, _original()) == pytest.approx(8.0, abs=0.03)
    assert memory.decoder_runs == 1


async def test_new_incarnation_resumes_from_the_memory(tmp_path: Path) -> None:
    chunks = _browser_chunks(_encode(tmp_path))
    memory = DecoderMemory()
    frames = await _drive(chunks, memory, incarnations=[9, 18])
    assert memory.decoder_runs == 3
    lost = _check_clock(frames)
    out = _check_alignment(frames, _original())
    print(f"\n2 restarts: clock gap {lost * 1000:.0f} ms, audio out {out:.3f} s of 8 s")
    assert lost <= CHUNK_S
    assert out >= 8.0 - CHUNK_S


async def test_a_chunk_handed_again_after_a_restart_is_not_decoded_twice(tmp_path: Path) -> None:
    chunks = _browser_chunks(_encode(tmp_path))
    memory = DecoderMemory()
    frames = await _drive(chunks, memory, again={5, 17})
    assert _check_clock(frames) == pytest.approx(0.0, abs=1e-6)
    assert _check_alignment(frames, _original()) == pytest.approx(8.0, abs=0.03)
    assert memory.opus is not None and memory.opus.resyncs == 0  # no bytes parsed twice


async def test_wav_and_pcm_resume_in_a_new_incarnation() -> None:
    data = WAV.read_bytes()
    step = 9601  # odd: cuts samples in half
    chunks = [data[i : i + step] for i in range(0, len(data), step)]
    memory = DecoderMemory()
    frames = await _drive(chunks, memory, incarnations=[5, 11])
    assert _check_clock(frames) == pytest.approx(0.0, abs=1e-6)
    assert b"".join(f.pcm for f in frames) == data[44:]
    raw = data[44:]
    memory = DecoderMemory()
    chunks = [raw[i : i + step] for i in range(0, len(raw), step)]
    frames = await _drive(chunks, memory, incarnations=[3])
    assert b"".join(f.pcm for f in frames) == raw


@pytest.mark.parametrize("damage", ["garbage", "lost-chunk"])
async def test_damage_resyncs_at_the_next_cluster_and_the_clock_moves_over_the_gap(
    tmp_path: Path, damage: str
) -> None:
    chunks = _browser_chunks(_encode(tmp_path))
    if damage == "garbage":
        middle = len(chunks[12]) // 2
        noise = bytes(np.random.default_rng(7).integers(0, 256, 37, dtype=np.uint8))
        chunks[12] = chunks[12][:middle] + noise + chunks[12][middle:]
    else:
        del chunks[12]  # the next chunk starts mid-element: the bytes in between are gone
    memory = DecoderMemory()
    frames = await _drive(chunks, memory)
    jumped = _check_clock(frames)
    out = _check_alignment(frames, _original())  # what came out sits at its true time
    print(f"\n{damage}: clock gap {jumped * 1000:.0f} ms, audio out {out:.3f} s of 8 s")
    assert memory.opus is not None and memory.opus.resyncs >= 1
    assert jumped == pytest.approx(memory.lost_s, abs=1e-6)
    # Lost: up to the next Cluster (250 ms apart), plus the missing chunk itself.
    assert 0.0 < jumped <= 0.25 + (CHUNK_S if damage == "lost-chunk" else 0.0) + 0.03
    assert out >= 8.0 - jumped - 0.03
