"""`Segmenter.cut_after_s`: less audio than it says never ends a segment, inside speech as well as
between turns (what lets a front-end worker serve the requests that can end one first,
`balto.audio.worker_loop`)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from balto.audio.formats import AudioFormat
from balto.audio.frontend import FrontEnd
from balto.audio.opus_decoder import OpusDecoder
from balto.audio.opus_demux import OpusDemuxer

CORPUS = Path(__file__).parent.parent / "fixtures" / "corpus"
SR = 16_000


def _pcm(path: Path) -> bytes:
    demux = OpusDemuxer(AudioFormat.WEBM)
    packets = [p.data for p in demux.feed(path.read_bytes())]
    return OpusDecoder(demux.head).decode(packets)


@pytest.mark.parametrize("max_segment_s", [15.0, 3.5])  # 3.5 s: splits at the maximum too
@pytest.mark.parametrize("clip", sorted(p.stem for p in CORPUS.glob("*.webm")))
def test_less_audio_than_cut_after_s_never_cuts(clip: str, max_segment_s: float) -> None:
    pcm = _pcm(CORPUS / f"{clip}.webm")
    rng = random.Random(f"{clip} {max_segment_s}")
    front = FrontEnd(SR, 0.5, max_segment_s)
    at, below, below_in_speech, cuts = 0, 0, 0, 0
    while at < len(pcm):
        # Device-sized pieces, pieces around the bound, and pieces long enough to hold a segment.
        seconds = rng.choice([0.25, 0.25, 0.3, rng.uniform(0.01, 0.7), rng.uniform(0.7, 2.5)])
        piece = pcm[at : at + 2 * round(seconds * SR)]
        bound, in_speech = front.segmenter.cut_after_s, front.segmenter.in_speech
        out = front.feed(piece)
        if len(piece) / (2 * SR) < bound:
            below += 1
            below_in_speech += in_speech
            assert out == [], f"cut with {len(piece) / (2 * SR):.3f} s < {bound:.3f} s"
        cuts += len(out)
        at += len(piece)
    # The bound was exercised between turns and inside speech, and segments were cut.
    assert below >= 5 and below_in_speech >= 2 and cuts >= 2
