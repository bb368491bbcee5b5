"""VAD actor contract: decoded frames in, speech segments on the audio clock out (denoise on)."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest
import trio
import trio.lowlevel

from actors.context import ActorContext, ActorHealth, SessionInfo, SessionStats
from actors.vad import run_vad
from balto.messages import PcmFrame, Segment

FIXTURES = Path(__file__).parent.parent / "fixtures"
SR = 16_000
# The segment margins (balto.audio.trim): pre-roll before the speech onset, pad after its end.
PRE_ROLL_S = 0.09
END_PAD_S = 0.12


def _context() -> ActorContext:
    info = SessionInfo(session_id="s" * 36, balcao_id="b", cliente_id="c", nome_balcao="teste")
    return ActorContext(info, ActorHealth("vad"), SessionStats())


def _frames(gap_after_s: float | None = None, gap_s: float = 0.0) -> list[PcmFrame]:
    with wave.open(str(FIXTURES / "two_utterances.wav")) as w:
        pcm = w.readframes(w.getnframes())
    step = 640  # 20 ms, as the decoder emits Opus packets
    frames, shift = [], 0.0
    for i in range(0, len(pcm), step):
        start = i / 2 / SR
        if gap_after_s is not None and start >= gap_after_s:
            shift = gap_s
        frames.append(PcmFrame(pcm=pcm[i : i + step], sample_rate=SR, start=start + shift))
    return frames


async def _segments(frames: list[PcmFrame], ctx: ActorContext) -> list[Segment]:
    in_tx, in_rx = trio.open_memory_channel[PcmFrame](len(frames))
    out_tx, out_rx = trio.open_memory_channel[Segment](16)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(lambda: run_vad(in_rx, out_tx, ctx, pause_s=0.5, max_segment_s=15.0))
        async with in_tx:
            for k in range(0, len(frames), 12):  # a device chunk's worth of packets at a time
                for frame in frames[k : k + 12]:
                    await in_tx.send(frame)
                await trio.lowlevel.checkpoint()
        return [s async for s in out_rx]


async def test_fixture_gives_its_two_utterances_on_the_audio_clock() -> None:
    ctx = _context()
    segments = await _segments(_frames(), ctx)
    truth = json.loads((FIXTURES / "two_utterances.json").read_text())["utterances"]
    assert [s.seq for s in segments] == [0, 1]
    for seg, (start, end) in zip(segments, truth, strict=True):
        assert seg.start == pytest.approx(start - PRE_ROLL_S, abs=0.15)
        assert seg.end == pytest.approx(end + END_PAD_S, abs=0.15)
        assert len(seg.pcm) == round((seg.end - seg.start) * SR) * 2
    assert ctx.health.detail is not None and "denoise" in ctx.health.detail
    assert ctx.health.messages_in == len(_frames())


async def test_a_clock_gap_keeps_later_segments_at_their_true_time() -> None:
    # 0.3 s of audio lost at 3.5 s (between the utterances): later times shift by exactly that.
    segments = await _segments(_frames(gap_after_s=3.5, gap_s=0.3), _context())
    assert len(segments) == 2
    assert segments[1].start == pytest.approx(4.6 + 0.3 - PRE_ROLL_S, abs=0.15)
