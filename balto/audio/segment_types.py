"""What the segmenter hands out, and the per-frame record it works on. Pure data, no logic.

In: nothing (type definitions only).
Out: `CutSegment` and `CutReason` (public, re-exported by `balto.audio.segmenter`), and `Frame`,
the segmenter's internal record of one analysed frame, shared by its modules.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple


class CutReason(enum.StrEnum):
    """Why a segment ended."""

    PAUSE = "pause"
    MAX_LENGTH = "max_length"
    END_OF_STREAM = "end_of_stream"


@dataclass(frozen=True, slots=True)
class CutSegment:
    """One stretch of speech.

    Attributes:
        pcm: The original audio (mono s16le at the segmenter's rate), pre-roll and pad
            included.
        start: Audio-clock time of its first sample, in seconds since the first byte fed.
        end: Audio-clock time just past its last sample.
        voiced_s: Seconds of voiced frames in it.
        reason: Why it ended; `CutReason.MAX_LENGTH` means the speech goes on in the next segment.
        speech_start: Start of its first voiced frame (the VAD's own boundary, before pre-roll).
        speech_end: End of its last voiced frame (before hangover).
        voice: Its voice embedding (`balto.speaker.voice_of`), set by the front end; None when
            it holds too little voiced speech to tell who spoke.
    """

    pcm: bytes
    start: float
    end: float
    voiced_s: float
    reason: CutReason
    speech_start: float = 0.0
    speech_end: float = 0.0
    voice: bytes | None = None

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


class Frame(NamedTuple):
    """One analysed frame (30 ms by default), as the segmenter keeps it.

    A named tuple rather than a frozen dataclass: one is made for every frame of every stream,
    and a frozen dataclass's `__init__` (one `object.__setattr__` per field) cost ~5x as much.

    Attributes:
        pcm: The original audio of the frame.
        voiced: webrtcvad said speech, the energy gate was open and the frame is not a tone.
        energy: Its energy in dBFS (of the original audio, as the gate measures it).
        beep: The tone test found a pure tone in it (see `SegmenterParams.tonal_ratio`) over the
            gate level: a beep, not the room's hum.
        loud: It was over the gate level (`gate_margin_db` over the noise floor), whatever the
            gate's hold says.
        band: Energy of the original audio in the speech band, in dB (see
            `SegmenterParams.band_margin_db`).
    """

    pcm: bytes
    voiced: bool
    energy: float
    beep: bool = False
    loud: bool = False
    band: float = -100.0
