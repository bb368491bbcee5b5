"""Identification on the committed fixtures: the front end embeds each cut, the enrolled attendant
is named, the customer is a customer, unsure or empty evidence says nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from balto.audio.frontend import FrontEnd
from balto.speaker import embedding_of, voice_of
from balto.speaker.enroll import decode, enroll
from balto.speaker.features import DIM
from balto.speaker.identify import (
    ATTENDANT_MAX_DISTANCE,
    CUSTOMER_MIN_DISTANCE,
    Enrolled,
    Identification,
    identify,
    score_of,
)
from balto.speaker.voiceprint import Scorer, Voiceprint
from tests.conftest import FIXTURES

TURNS = json.loads((FIXTURES / "speaker_dialogue.json").read_text())["turns"]


@pytest.fixture(scope="module")
def ana() -> Enrolled:
    made = enroll((FIXTURES / "speaker_enroll.webm").read_bytes(), "audio/webm")
    return Enrolled("id-ana", "Ana", Scorer.of(made.voiceprint))


@pytest.fixture(scope="module")
def cuts() -> list:
    pcm = decode((FIXTURES / "speaker_dialogue.webm").read_bytes(), "matroska")
    front = FrontEnd(16_000, 0.5, 15.0)
    out = []
    for at in range(0, len(pcm), 8000):
        out += front.feed(pcm[at : at + 8000])
    return out + front.flush()


def test_front_end_cuts_carry_voices_and_roles_come_out_right(ana: Enrolled, cuts: list) -> None:
    assert [turn["role"] for turn in TURNS] == ["atendente", "cliente"]
    assert len(cuts) == 2 and all(cut.voice is not None for cut in cuts)
    first, second = (identify(embedding_of(cut.voice), [ana]) for cut in cuts)
    assert (first.falante, first.atendente_id, first.nome) == ("atendente", "id-ana", "Ana")
    assert (second.falante, second.atendente_id, second.nome) == ("cliente", None, None)
    assert first.score is not None and second.score is not None
    assert score_of(ATTENDANT_MAX_DISTANCE) <= first.score <= 1.0
    assert 0.0 <= second.score <= score_of(CUSTOMER_MIN_DISTANCE)


def test_nothing_is_said_without_voiceprints_or_without_speech(ana: Enrolled, cuts: list) -> None:
    assert identify(embedding_of(cuts[0].voice), []) == Identification()
    assert identify(None, [ana]) == Identification()
    assert voice_of(b"\0" * 32_000 * 3, 16_000) is None  # silence: no voice
    assert voice_of(cuts[0].pcm[:6400], 16_000) is None  # 0.2 s: too little to tell
    assert voice_of(cuts[0].pcm, 8000) is None  # another rate: not this model's
    assert embedding_of(b"short") is None


def test_between_the_thresholds_the_label_is_unknown(ana: Enrolled) -> None:
    # Walk from the voiceprint outward along one direction until the distance lands in the band.
    mean = ana.scorer.mean
    direction = np.zeros(DIM)
    direction[0] = 1.0
    unit = ana.scorer.distance((mean + direction).astype(np.float32))
    middle = (ATTENDANT_MAX_DISTANCE + CUSTOMER_MIN_DISTANCE) / 2
    probe = (mean + direction * middle / unit).astype(np.float32)
    assert ATTENDANT_MAX_DISTANCE < ana.scorer.distance(probe) < CUSTOMER_MIN_DISTANCE
    got = identify(probe, [ana])
    assert got.falante is None and got.atendente_id is None and got.score is not None


def test_voiceprints_round_trip_and_refuse_garbage(ana: Enrolled) -> None:
    made = enroll((FIXTURES / "speaker_enroll.webm").read_bytes(), "audio/webm")
    data = made.voiceprint.to_bytes()
    assert len(data) == 2 * DIM * 4
    again = Voiceprint.from_bytes(data)
    assert np.array_equal(again.mean, made.voiceprint.mean)
    with pytest.raises(ValueError):
        Voiceprint.from_bytes(b"\0" * 12)
    with pytest.raises(ValueError):
        Voiceprint.from_bytes(np.full(2 * DIM, np.nan, dtype="<f4").tobytes())
