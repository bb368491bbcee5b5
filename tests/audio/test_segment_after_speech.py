"""Segmenter around the end of an utterance: a beep or a slam right after speech neither
stretches the segment nor delays its cut, and a phrase resumed after a short pause stays one."""

from __future__ import annotations

import numpy as np
import pytest

from balto.audio.segmenter import CutSegment, Segmenter, SegmenterParams
from tests.audio.noises import SR, slam, tone
from tests.fixtures import make_audio as synth

PARAMS = SegmenterParams()


def _run(pcm: bytes) -> list[CutSegment]:
    return [segment for segment, _ in _cut_times(pcm)]


def _double_beep() -> np.ndarray:
    return np.concatenate(
        [tone(2900, 0.1, -16.0), np.zeros(int(0.08 * SR)), tone(2900, 0.1, -16.0)]
    )


def _cut_times(pcm: bytes, params: SegmenterParams | None = None) -> list[tuple[CutSegment, float]]:
    """Segments with the audio-clock time each was emitted at, fed one 30 ms frame at a time."""
    segmenter = Segmenter(params=params)
    out: list[tuple[CutSegment, float]] = []
    for i in range(0, len(pcm), 960):
        out += [(s, segmenter.position) for s in segmenter.feed(pcm[i : i + 960])]
    return out + [(s, segmenter.position) for s in segmenter.flush()]


def _speech_then(event: np.ndarray, gap_s: float) -> bytes:
    """Hiss, a 1.5 s utterance from 1.0 s to 2.5 s, then `event` starting `gap_s` after it."""
    signal = synth.hiss(5, 5.0)
    utterance = synth.utterance(23, 1.5)
    signal[SR : SR + len(utterance)] += utterance
    at = int((2.5 + gap_s) * SR)
    signal[at : at + len(event)] += event
    return bytes(synth.to_pcm16(signal))


_BEEP = tone(2900, 0.15, -16.0)  # a scanner beep, as loud as the corpus's
_WAIT_S = PARAMS.burst_wait_s


@pytest.mark.parametrize(
    ("event", "gap_s", "may_wait_s", "stretches_without_the_test"),
    [
        pytest.param(_BEEP, 0.2, 0.0, False, id="beep-200ms"),
        pytest.param(_BEEP, 0.3, 0.0, False, id="beep-300ms"),
        pytest.param(_BEEP, 0.4, 0.0, False, id="beep-400ms"),
        pytest.param(_double_beep(), 0.25, 0.0, True, id="double-beep-250ms"),
        pytest.param(_double_beep(), 0.4, 0.0, True, id="double-beep-400ms"),
        # A slam still ringing when the pause runs out may hold the cut for `burst_wait_s`.
        pytest.param(slam(3, 0.4, 0.1), 0.3, _WAIT_S, True, id="slam-300ms"),
        pytest.param(slam(3, 0.4, 0.1), 0.4, _WAIT_S, True, id="slam-400ms"),
        pytest.param(slam(5, 1.0, 0.25), 0.3, _WAIT_S, True, id="long-slam-300ms"),
        pytest.param(slam(5, 1.0, 0.25), 0.4, _WAIT_S, True, id="long-slam-400ms"),
    ],
)
def test_event_right_after_speech_neither_stretches_nor_delays_the_segment(
    event: np.ndarray, gap_s: float, may_wait_s: float, stretches_without_the_test: bool
) -> None:
    ((quiet, quiet_cut_at),) = _cut_times(_speech_then(np.zeros(1), 0.0))
    assert quiet.speech_end == pytest.approx(2.5, abs=0.1)  # webrtcvad's own overhang: ~90 ms
    ((segment, cut_at),) = _cut_times(_speech_then(event, gap_s))
    # Ends where the speech ends, cut when the pause after it runs out: one frame of tolerance (a
    # beep's onset frame may hold the cut until the next one shows the tone).
    assert segment.speech_end == pytest.approx(quiet.speech_end, abs=0.03)
    assert segment.end == pytest.approx(quiet.end, abs=0.03)
    assert cut_at <= quiet_cut_at + may_wait_s + 0.03 + 1e-9
    if stretches_without_the_test:
        # What the burst test is for: without it, the event stretches the segment and holds the
        # cut for its whole length plus the pause. (A single beep's voiced edges are too few
        # for that: the tone test and the gate handle it alone.)
        off = SegmenterParams(impulse_decay_db=None)
        ((stretched, late_at),) = _cut_times(_speech_then(event, gap_s), off)
        assert stretched.speech_end >= quiet.speech_end + 0.3
        assert late_at >= quiet_cut_at + 0.3


@pytest.mark.parametrize(
    ("gap_s", "level_db", "seed"), [(0.3, 15.0, 0), (0.4, 0.0, 0), (0.4, 10.0, 9)]
)
def test_phrase_resumed_after_a_short_pause_stays_one_segment(
    gap_s: float, level_db: float, seed: int
) -> None:
    signal = synth.hiss(seed, 5.0) * 10 ** (level_db / 20)
    first, second = synth.utterance(100 + seed, 1.5), synth.utterance(200 + seed, 1.0)
    signal[SR : SR + len(first)] += first
    at = int((2.5 + gap_s) * SR)
    signal[at : at + len(second)] += second
    pcm = bytes(synth.to_pcm16(signal))
    (segment,) = _run(pcm)
    assert segment.speech_start == pytest.approx(1.0, abs=0.1)
    assert segment.speech_end == pytest.approx(2.5 + gap_s + 1.0, abs=0.12)
    # The resumed phrase's first syllable looks like a ring-down until the next one rises: without
    # waiting `burst_wait_s` for that, the pause runs out first and the phrase is cut in two.
    assert len(_cut_times(pcm, SegmenterParams(burst_wait_s=0.0))) == 2
