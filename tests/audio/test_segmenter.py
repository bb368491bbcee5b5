"""Segmenter on the fixtures and on synthetic noises: boundaries, rejections, splits, streaming."""

from __future__ import annotations

import itertools
import json
import subprocess
import wave
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
import webrtcvad

from balto.audio.segmenter import CutReason, CutSegment, Segmenter, SegmenterParams
from tests.audio.noises import slam, tone
from tests.fixtures import make_audio as synth  # the generator doubles as a synth library

FIXTURES = Path(__file__).parent.parent / "fixtures"
SR = 16000
PARAMS = SegmenterParams()
# The designed margins, written out so that changing a default has to change a test too. Segments
# are trimmed to their speech (balto.audio.trim): pre-roll before the onset, pad after the end.
PRE_ROLL_S = 0.09
HANGOVER_S = 0.12  # the end pad after the speech's offset (`end_pad_s`)
# Boundary tolerance on top of the pre-roll / hangover.
TOLERANCE_S = 0.15


def _fixture_pcm() -> bytes:
    with wave.open(str(FIXTURES / "two_utterances.wav")) as w:
        return w.readframes(w.getnframes())


def _intervals() -> list[tuple[float, float]]:
    meta = json.loads((FIXTURES / "two_utterances.json").read_text())
    return [(s, e) for s, e in meta["utterances"]]


def _run(pcm: bytes, piece: int = 8000, segmenter: Segmenter | None = None) -> list[CutSegment]:
    seg = segmenter or Segmenter()
    out: list[CutSegment] = []
    for i in range(0, len(pcm), piece):
        out += seg.feed(pcm[i : i + piece])
    return out + seg.flush()


def _with_hiss(event: np.ndarray, at: float = 1.5, total: float = 4.0, seed: int = 9) -> bytes:
    signal = synth.hiss(seed, total)
    start = int(at * SR)
    signal[start : start + len(event)] += event
    return bytes(synth.to_pcm16(signal))


def _assert_matches_fixture(segments: list[CutSegment]) -> None:
    intervals = _intervals()
    assert len(segments) == len(intervals), segments
    for seg, (start, end) in zip(segments, intervals, strict=True):
        assert abs(seg.start - (start - PRE_ROLL_S)) <= TOLERANCE_S, (seg.start, start)
        assert abs(seg.end - (end + HANGOVER_S)) <= TOLERANCE_S, (seg.end, end)
        assert seg.reason is CutReason.PAUSE
        assert seg.voiced_s >= 0.8 * (end - start)
        assert len(seg.pcm) == round(seg.duration * SR) * 2


def test_fixture_wav_in_quarter_second_pieces() -> None:
    pcm = _fixture_pcm()
    segments = _run(pcm, piece=8000)
    _assert_matches_fixture(segments)
    # The audio handed out is the original audio at those times.
    for seg in segments:
        first = round(seg.start * SR) * 2
        assert seg.pcm == pcm[first : first + len(seg.pcm)]


def test_fixture_webm_decoded_by_ffmpeg() -> None:
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error"]
    cmd += ["-f", "matroska", "-i", str(FIXTURES / "two_utterances.webm")]
    cmd += ["-ac", "1", "-ar", "16000", "-f", "s16le", "-"]
    pcm = subprocess.run(cmd, capture_output=True, check=True).stdout
    assert len(pcm) / 2 / SR == pytest.approx(8.0, abs=0.03)
    _assert_matches_fixture(_run(pcm, piece=8000))


@pytest.mark.parametrize("piece", [1, 959, 961, 4001, 10**7])
def test_segments_do_not_depend_on_how_the_stream_is_cut(piece: int) -> None:
    pcm = _fixture_pcm()
    assert _run(pcm, piece=piece) == _run(pcm, piece=8000)


def test_segments_are_emitted_a_pause_after_speech_ends() -> None:
    segmenter = Segmenter()
    emitted_at: list[float] = []
    pcm = _fixture_pcm()
    for i in range(0, len(pcm), 960):
        if segmenter.feed(pcm[i : i + 960]):
            emitted_at.append(segmenter.position)
    for at, (_, end) in zip(emitted_at, _intervals(), strict=True):
        # Cut once pause_s of non-speech follows the last voiced frame (webrtcvad's own
        # overhang may add a few frames).
        assert end + 0.5 <= at <= end + 0.5 + 0.2


def test_utterance_at_the_very_start_of_a_stream_is_mostly_found() -> None:
    # With no background heard yet the floor starts at speech level, so the very first words can
    # be missed until the first gap between words teaches it the room (measured coverage: mean
    # 0.97, worst 0.70 over 60 starts).
    coverages = []
    for seed in range(60, 70):
        signal = synth.hiss(2, 4.0)
        utterance = synth.utterance(seed, 2.0)
        signal[: len(utterance)] += utterance
        segments = _run(bytes(synth.to_pcm16(signal)))
        assert len(segments) == 1
        assert segments[0].start <= 0.5
        assert segments[0].end == pytest.approx(2.0 + HANGOVER_S, abs=TOLERANCE_S)
        coverages.append((min(segments[0].end, 2.0) - segments[0].start) / 2.0)
    assert float(np.mean(coverages)) >= 0.9


def test_digital_silence_before_noise_does_not_open_the_gate() -> None:
    n = 6 * SR
    hum = sum(np.sin(2 * np.pi * 100 * k * np.arange(n) / SR + k) / k for k in range(1, 30))
    hum = hum / np.sqrt(np.mean(hum**2)) * 10 ** (-25 / 20)
    pcm = bytes(int(0.2 * SR) * 2) + bytes(synth.to_pcm16(hum + synth.hiss(1, 6.0)))
    assert _run(pcm) == []
    # The reason: with the zeros in the floor history the gate opens for the hum.
    zeros_count = Segmenter(params=SegmenterParams(digital_silence_dbfs=-200.0))
    assert len(_run(pcm, segmenter=zeros_count)) == 1


def test_open_segment_is_emitted_by_flush() -> None:
    signal = synth.hiss(2, 2.0)
    utterance = synth.utterance(22, 1.6)
    signal[int(0.6 * SR) :] += utterance[: int(1.4 * SR)]  # still talking when the stream ends
    segmenter = Segmenter()
    assert segmenter.feed(bytes(synth.to_pcm16(signal))) == []
    assert segmenter.in_speech
    (segment,) = segmenter.flush()
    assert segment.reason is CutReason.END_OF_STREAM
    assert segment.end == pytest.approx(2.0, abs=0.03)
    assert not segmenter.in_speech


@pytest.mark.parametrize(
    "pcm",
    [bytes(SR * 2 * 10), _with_hiss(np.zeros(1), total=10.0), _with_hiss(np.zeros(1), seed=3)],
    ids=["digital-silence", "hiss-10s", "hiss-4s"],
)
def test_silence_and_hiss_give_nothing(pcm: bytes) -> None:
    segmenter = Segmenter()
    assert _run(pcm, segmenter=segmenter) == []
    if any(pcm):
        assert segmenter.noise_floor_dbfs == pytest.approx(-51.5, abs=1.5)  # -50 dBFS hiss
    else:
        assert segmenter.noise_floor_dbfs is None  # digital silence says nothing about the room


@pytest.mark.parametrize(
    "event",
    [
        tone(2700, 0.1, -30.0),
        tone(2000, 0.1),
        slam(0, 0.1, 0.02),
        slam(1, 0.15, 0.03),
    ],
    ids=["beep-2k7", "beep-2k", "slam-short", "slam-crack"],
)
def test_short_impulses_never_start_a_segment(event: np.ndarray) -> None:
    pcm = _with_hiss(event)
    # webrtcvad alone does take these for speech: the segmenter is what rejects them.
    vad = webrtcvad.Vad(PARAMS.vad_mode)
    frames = [pcm[i : i + 960] for i in range(int(1.5 * SR) * 2, int(2.0 * SR) * 2, 960)]
    assert sum(vad.is_speech(f, SR) for f in frames) >= 3
    no_tone_no_impulse = SegmenterParams(tonal_ratio=None, impulse_decay_db=None)
    assert _run(pcm, segmenter=Segmenter(params=no_tone_no_impulse)) == []
    assert _run(pcm) == []


@pytest.mark.parametrize(
    "event",
    [
        tone(1000, 0.6),
        tone(2000, 0.6),
        np.concatenate([tone(2000, 0.1), np.zeros(int(0.1 * SR)), tone(2000, 0.1)]),
    ],
    ids=["1k-600ms", "2k-600ms", "double-beep"],
)
def test_long_beep_is_rejected_as_atone(event: np.ndarray) -> None:
    pcm = _with_hiss(event)
    assert _run(pcm) == []
    # Proof that the tone test is what rejects it: without it the beep becomes a segment.
    assert len(_run(pcm, segmenter=Segmenter(params=SegmenterParams(tonal_ratio=None)))) == 1


@pytest.mark.parametrize(("seconds", "decay_s"), [(0.25, 0.05), (0.4, 0.1), (0.6, 0.15)])
def test_ringing_slam_is_rejected_as_an_impulse(seconds: float, decay_s: float) -> None:
    pcm = _with_hiss(slam(2, seconds, decay_s))
    assert _run(pcm) == []
    assert len(_run(pcm, segmenter=Segmenter(params=SegmenterParams(impulse_decay_db=None)))) == 1


def test_speech_after_a_slam_is_kept() -> None:
    signal = synth.hiss(5, 4.0)
    door = slam(3, 0.4, 0.1)
    utterance = synth.utterance(23, 1.0)
    signal[SR : SR + len(door)] += door
    signal[int(1.8 * SR) : int(1.8 * SR) + len(utterance)] += utterance
    segments = _run(bytes(synth.to_pcm16(signal)))
    assert len(segments) == 1
    assert segments[0].end == pytest.approx(2.8 + HANGOVER_S, abs=TOLERANCE_S)


def test_overlong_utterance_is_split_and_nothing_is_lost() -> None:
    signal = synth.hiss(4, 23.0)
    utterance = synth.utterance(7, 20.0)
    signal[SR : SR + len(utterance)] += utterance
    segments = _run(bytes(synth.to_pcm16(signal)), segmenter=Segmenter(max_segment_s=8.0))
    assert [s.reason for s in segments] == [
        CutReason.MAX_LENGTH,
        CutReason.MAX_LENGTH,
        CutReason.PAUSE,
    ]
    assert all(s.duration <= 8.0 + 1e-9 for s in segments)
    assert all(s.duration >= 8.0 - PARAMS.split_search_s for s in segments[:-1])
    for before, after in itertools.pairwise(segments):
        assert after.start == pytest.approx(before.end)  # contiguous: no audio dropped
    assert segments[0].start == pytest.approx(1.0 - PRE_ROLL_S, abs=TOLERANCE_S)
    assert segments[-1].end == pytest.approx(21.0 + HANGOVER_S, abs=TOLERANCE_S)


def test_split_falls_on_a_quiet_frame() -> None:
    # Two phrases with a 300 ms gap (shorter than pause_s) inside the search window.
    signal = synth.hiss(6, 16.0)
    first, second = synth.utterance(30, 7.0), synth.utterance(31, 6.0)
    signal[SR : SR + len(first)] += first
    signal[int(8.3 * SR) : int(8.3 * SR) + len(second)] += second
    segments = _run(bytes(synth.to_pcm16(signal)), segmenter=Segmenter(max_segment_s=9.0))
    assert segments[0].reason is CutReason.MAX_LENGTH
    assert 8.0 <= segments[0].end <= 8.3
    assert segments[1].reason is CutReason.PAUSE


def test_decide_signal_drives_the_vad_but_original_audio_is_cut() -> None:
    pcm = _fixture_pcm()
    silent_decide = bytes(len(pcm))
    segmenter = Segmenter()
    # webrtcvad hears only silence, so nothing is voiced whatever the energy gate says.
    assert segmenter.feed(pcm, decide=silent_decide) + segmenter.flush() == []
    segmenter = Segmenter()
    segments = segmenter.feed(pcm, decide=pcm) + segmenter.flush()
    assert segments == _run(pcm)
    with pytest.raises(ValueError, match="decide"):
        Segmenter().feed(pcm, decide=pcm[:-2])


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="sample_rate"):
        Segmenter(sample_rate=44100)
    with pytest.raises(ValueError, match="max_segment_s"):
        Segmenter(max_segment_s=2.0)


def test_other_sample_rate_gives_the_same_segments() -> None:
    pcm16 = np.frombuffer(_fixture_pcm(), dtype="<i2")
    pcm8 = pcm16.reshape(-1, 2).mean(axis=1).astype("<i2").tobytes()  # crude 2:1 decimation
    segments = _run(pcm8, piece=4000, segmenter=Segmenter(sample_rate=8000))
    assert len(segments) == 2
    for seg, (start, end) in zip(segments, _intervals(), strict=True):
        assert abs(seg.start - (start - PRE_ROLL_S)) <= TOLERANCE_S
        assert abs(seg.end - (end + HANGOVER_S)) <= TOLERANCE_S


def test_next_segment_pre_roll_reaches_into_the_previous_segments_silence() -> None:
    signal = synth.hiss(3, 6.0)
    first, second = synth.utterance(40, 1.5), synth.utterance(41, 1.5)
    signal[SR : SR + len(first)] += first
    signal[int(3.2 * SR) : int(3.2 * SR) + len(second)] += second  # 0.7 s after the first
    segments = _run(bytes(synth.to_pcm16(signal)))
    assert len(segments) == 2
    assert segments[1].start == pytest.approx(3.2 - PRE_ROLL_S, abs=0.05)
    assert segments[1].start >= segments[0].end


@pytest.mark.parametrize("period_s", [0.3, 0.4])
def test_a_slow_click_train_never_starts_a_segment(period_s: float) -> None:
    rng = np.random.default_rng(1)
    signal = synth.hiss(2, 5.0)
    n = int(0.02 * SR)
    for k in range(int(3 / period_s)):
        at = int((1 + k * period_s) * SR)
        signal[at : at + n] += 0.5 * rng.standard_normal(n) * np.exp(-np.arange(n) / (0.004 * SR))
    pcm = bytes(synth.to_pcm16(signal))
    assert _run(pcm) == []
    # What the start rule (150 ms voiced within 300 ms) is for: with one frame enough, and the
    # impulse test (which drops each click's burst too) off, it starts.
    eager = Segmenter(params=SegmenterParams(start_voiced_s=0.03, impulse_decay_db=None))
    assert len(_run(pcm, segmenter=eager)) == 1


def test_energy_gate_rejects_steady_noise_that_webrtcvad_calls_speech() -> None:
    rng = np.random.default_rng(0)
    white = rng.standard_normal(12 * SR)
    rumble = np.zeros_like(white)
    for i in range(1, len(white)):  # one-pole low-pass: a ventilation-like rumble
        rumble[i] = 0.9 * rumble[i - 1] + white[i]
    rumble = rumble[2 * SR :]  # skip the filter's start-up
    rumble = rumble / np.sqrt(np.mean(rumble**2)) * 10 ** (-25 / 20)
    pcm = bytes(synth.to_pcm16(rumble + synth.hiss(1, 10.0)))
    vad = webrtcvad.Vad(PARAMS.vad_mode)
    frames = [pcm[i : i + 960] for i in range(0, len(pcm) - 959, 960)]
    assert sum(vad.is_speech(f, SR) for f in frames) > 0.9 * len(frames)
    assert _run(pcm) == []
    always_open = Segmenter(params=SegmenterParams(gate_margin_db=-100.0))
    assert len(_run(pcm, segmenter=always_open)) >= 1


def test_floor_leaves_the_noise_dips_after_the_warmup() -> None:
    # Noise whose 30 ms frames sit at -50 dBFS (a quarter of them) or -46 dBFS (the rest): its
    # 10th percentile is the dips, its 40th the noise itself.
    rng = np.random.default_rng(4)
    frames = synth.hiss(8, 6.0)[: 200 * 480].reshape(200, 480)
    frames *= np.where(rng.random(200) < 0.25, 1.0, 10 ** (4 / 20))[:, None]
    pcm = bytes(synth.to_pcm16(frames.reshape(-1)))

    def floor_at(seconds: float, params: SegmenterParams | None = None) -> float | None:
        segmenter = Segmenter(params=params)
        assert segmenter.feed(pcm[: int(seconds * SR) * 2]) == []
        return segmenter.noise_floor_dbfs

    assert floor_at(2.5) == pytest.approx(-50.0, abs=1.0)  # warming up: the dips
    assert floor_at(4.0) == pytest.approx(-46.0, abs=1.0)  # the 40th percentile
    # Waiting for the whole 5 s window, as before, kept the floor in the dips for longer.
    assert floor_at(4.0, SegmenterParams(floor_warmup_s=5.0)) == pytest.approx(-50.0, abs=1.0)
