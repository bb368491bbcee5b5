"""`Segmenter.cut_after_s`: less audio than it says never ends a segment (what lets the front-end
workers hold such requests, `balto.audio.workers`)."""

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


@pytest.mark.parametrize("clip", ["gripe_babble_5db", "receita_shop_10db", "dor_ac_20db"])
def test_less_audio_than_cut_after_s_never_cuts(clip: str) -> None:
    pcm = _pcm(CORPUS / f"{clip}.webm")
    rng = random.Random(clip)
    front = FrontEnd(SR, 0.5)
    at, below, cuts = 0, 0, 0
    while at < len(pcm):
        # Device-sized pieces, pieces around the bound, and pieces long enough to hold a segment.
        seconds = rng.choice([0.25, 0.25, 0.3, rng.uniform(0.01, 0.7), rng.uniform(0.7, 2.5)])
        piece = pcm[at : at + 2 * round(seconds * SR)]
        bound = front.segmenter.cut_after_s
        out = front.feed(piece)
        if len(piece) / (2 * SR) < bound:
            below += 1
            assert out == [], f"cut with {len(piece) / (2 * SR):.3f} s < {bound:.3f} s"
        cuts += len(out)
        at += len(piece)
    assert below >= 5 and cuts > 2  # the bound was exercised, and segments were cut
