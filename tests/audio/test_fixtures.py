"""The committed fixtures are what the generator makes, and webrtcvad hears them as intended."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest
import webrtcvad

from tests.fixtures import make_audio as synth  # the generator doubles as a synth library

FIXTURES = Path(__file__).parent.parent / "fixtures"
SR = 16000
FRAME = 480  # 30 ms


def _fixture_pcm() -> bytes:
    with wave.open(str(FIXTURES / "two_utterances.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (SR, 1, 2)
        return w.readframes(w.getnframes())


def test_committed_wav_and_json_match_the_generator() -> None:
    signal, intervals = synth.two_utterances()
    assert synth.to_pcm16(signal) == _fixture_pcm()
    meta = json.loads((FIXTURES / "two_utterances.json").read_text())
    assert meta["utterances"] == [[round(s, 6), round(e, 6)] for s, e in intervals]
    assert meta["duration"] == len(signal) / SR == 8.0
    assert intervals == [(0.8, 2.8), (4.6, 6.8)]


def test_webrtcvad_hears_speech_in_the_utterances_and_not_between() -> None:
    pcm = _fixture_pcm()
    vad = webrtcvad.Vad(3)
    n = len(pcm) // (2 * FRAME)
    flags = np.array(
        [vad.is_speech(pcm[i * 2 * FRAME : (i + 1) * 2 * FRAME], SR) for i in range(n)]
    )
    mid = (np.arange(n) + 0.5) * FRAME / SR
    inside = np.zeros(n, dtype=bool)
    near = np.zeros(n, dtype=bool)  # webrtcvad adapts over its first frames and overhangs ends
    near[:4] = True
    for start, end in json.loads((FIXTURES / "two_utterances.json").read_text())["utterances"]:
        inside |= (mid >= start) & (mid < end)
        near |= (mid >= end) & (mid < end + 0.12)
    assert flags[inside].mean() > 0.9
    assert flags[~inside & ~near].mean() < 0.01


def test_utterance_level_and_extent_are_exact() -> None:
    utterance = synth.utterance(5, 1.234, -25.0)
    assert len(utterance) == round(1.234 * SR)
    assert abs(utterance[0]) < 1 / 32768 and abs(utterance[-1]) < 1 / 32768  # below one LSB
    peak_db = 20 * np.log10(np.abs(utterance).max())
    assert -25.0 < peak_db < -3.0
    hiss = synth.hiss(1, 2.0)
    assert 20 * np.log10(np.sqrt(np.mean(hiss**2))) == pytest.approx(-50.0, abs=0.2)
