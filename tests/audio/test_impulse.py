"""Impulse rejection: which bursts of voiced frames are an event, frame energies as measured.

The energies are the segmenter's own 30 ms frames of two corpus clips (``bench/segment_eval.py``'s
corpus, printed from `Segmenter._emit`): a door slam in far babble at 20 dB, whose ring-down the
gate's hold keeps "voiced" while the babble wobbles 7 dB under the room's floor; and a customer's
word at 5 dB in babble, whose syllables barely clear the gate.
"""

from __future__ import annotations

from balto.audio.impulse import BurstTracker, speech_frames
from balto.audio.segment_types import Frame

GATE_DB = -31.6  # the slam clip's floor (-38.6 dB) + the gate margin (7 dB)
RISE_DB = 5.0
DECAY_DB = 6.0
GAP_N = 5

# tune_receita_babble_20db, 15.66-16.17 s: the slam, then the room through the gate's hold.
SLAM_IN_BABBLE = [
    (-16.9, True), (-15.4, True), (-18.8, True), (-22.1, True), (-25.0, True), (-26.3, True),
    (-27.5, True), (-31.3, True), (-35.1, True), (-36.2, True), (-36.1, True), (-38.7, False),
    (-43.5, True), (-39.5, True), (-36.2, True), (-39.1, True), (-42.3, True), (-43.3, True),
]  # fmt: skip
# tune_dor_babble_5db, 19.47-19.80 s: a word's syllables; gate level -18.2 dB.
WORD_AT_5_DB = [
    (-17.0, True), (-16.0, True), (-21.1, True), (-32.5, True), (-24.6, True), (-24.2, True),
    (-26.0, True), (-26.0, True), (-21.3, True), (-24.3, True), (-35.2, True), (-25.5, True),
]  # fmt: skip
WORD_GATE_DB = -18.2


def _frames(levels: list[tuple[float, bool]], gate_db: float) -> list[Frame]:
    return [Frame(b"", voiced, energy, loud=energy >= gate_db) for energy, voiced in levels]


def test_a_slam_in_babble_is_an_event_though_the_room_wobbles_after_it() -> None:
    frames = _frames(SLAM_IN_BABBLE, GATE_DB)
    upto = len(frames) - 1
    assert speech_frames(frames, upto, GAP_N, DECAY_DB, RISE_DB, 12.0) == []
    # Without the quiet limit the room's 7 dB wobble after the ring-down reads as a syllable.
    assert speech_frames(frames, upto, GAP_N, DECAY_DB, RISE_DB, None) != []


def test_a_faint_word_whose_syllables_stay_near_its_peak_is_speech() -> None:
    frames = _frames(WORD_AT_5_DB, WORD_GATE_DB)
    upto = len(frames) - 1
    kept = speech_frames(frames, upto, GAP_N, DECAY_DB, RISE_DB, 12.0)
    assert kept == [k for k, f in enumerate(frames) if f.voiced]
    # Demanding the gate level of every rise (no quiet allowance at all) drops the word.
    assert speech_frames(frames, upto, GAP_N, DECAY_DB, RISE_DB, 0.0) == []


def _last_counted(levels: list[tuple[float, bool]], gate_db: float, quiet: float | None) -> int:
    """Live verdict on a burst that follows a segment's opening burst (frames 0-3)."""
    opening = _frames([(-20.0, True)] * 4, gate_db) + _frames(
        [(-45.0, False)] * (GAP_N + 1), gate_db
    )
    frames = opening + _frames(levels, gate_db)
    tracker = BurstTracker(GAP_N, DECAY_DB, RISE_DB, quiet)
    tracker.begin(0, 3)
    for k in range(len(frames)):
        tracker.step(k, frames, 0)
    return tracker.last_counted


def test_the_live_tracker_does_not_count_a_slam_in_babble_for_the_pause() -> None:
    assert _last_counted(SLAM_IN_BABBLE, GATE_DB, 12.0) == 3  # the opening burst's last frame
    assert _last_counted(SLAM_IN_BABBLE, GATE_DB, None) > 3


def test_the_live_tracker_counts_a_faint_word() -> None:
    assert _last_counted(WORD_AT_5_DB, WORD_GATE_DB, 12.0) > 3
