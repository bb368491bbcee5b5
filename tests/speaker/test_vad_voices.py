"""The VAD actor has each segment's voice embedding made after handing the segment on, whichever
way its front end runs: in a worker process (made there) or in this process (made in a worker
thread, off the event loop), delivered through the session's `VoiceNeed`; and makes none while
the `VoiceNeed` says nobody would score it."""

from __future__ import annotations

import pytest
import trio

from actors.context import ActorContext, ActorHealth, SessionInfo, SessionStats
from actors.ports import VoiceNeed
from actors.vad import run_vad
from balto.audio.workers import FrontEndPool, open_front_end_pool
from balto.messages import PcmFrame, Segment
from balto.speaker import embedding_of
from balto.speaker.enroll import decode
from tests.conftest import FIXTURES


async def _segments(pcm: bytes, pool: FrontEndPool | None, need: VoiceNeed) -> list[Segment]:
    info = SessionInfo(session_id="s" * 36, balcao_id="b", cliente_id="c", nome_balcao="teste")
    ctx = ActorContext(info, ActorHealth("vad"), SessionStats())
    in_tx, in_rx = trio.open_memory_channel[PcmFrame](8)
    out_tx, out_rx = trio.open_memory_channel[Segment](8)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(
            lambda: run_vad(
                in_rx,
                out_tx,
                ctx,
                pause_s=0.5,
                max_segment_s=15.0,
                front_ends=pool,
                voice_need=need,
            )
        )
        async with in_tx:
            for at in range(0, len(pcm), 8000):
                await in_tx.send(PcmFrame(pcm[at : at + 8000], 16_000, at / 32_000))
        return [s async for s in out_rx]


@pytest.mark.parametrize("workers", [0, 1], ids=["in-process", "worker"])
async def test_segments_carry_their_voice(workers: int) -> None:
    pcm = await trio.to_thread.run_sync(
        decode, (FIXTURES / "speaker_dialogue.webm").read_bytes(), "matroska"
    )
    need = VoiceNeed()
    async with open_front_end_pool(workers) as pool:
        segments = await _segments(pcm, pool, need)
    assert len(segments) == 2
    assert all(s.voice is None for s in segments)  # handed on before its voice was made
    voices = [await need.voice(s.id, 5.0) for s in segments]
    assert all(embedding_of(v) is not None for v in voices)
    assert voices[0] != voices[1]


@pytest.mark.parametrize("workers", [0, 1], ids=["in-process", "worker"])
async def test_no_voice_is_made_when_nobody_would_score_it(workers: int) -> None:
    pcm = await trio.to_thread.run_sync(
        decode, (FIXTURES / "speaker_dialogue.webm").read_bytes(), "matroska"
    )
    need = VoiceNeed()
    need.wanted = False
    async with open_front_end_pool(workers) as pool:
        segments = await _segments(pcm, pool, need)
        need.wanted = True  # a voiceprint enrolled: the next session's front end embeds again
        again = await _segments(pcm, pool, need)
    assert len(segments) == 2
    assert [await need.voice(s.id, 0.1) for s in segments] == [None, None]
    assert len(again) == 2
    voices = [await need.voice(s.id, 5.0) for s in again]
    assert all(embedding_of(v) is not None for v in voices)
