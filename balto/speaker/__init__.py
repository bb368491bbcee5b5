"""Who is speaking: attendants identified by voice, every segment labelled by role.

- `features`: a segment's voice embedding (numpy; computed where the audio is, in the front end).
- `voiceprint`: an attendant's voiceprint from enrollment speech, and the distance to it.
- `identify`: the label of one segment against a cliente's voiceprints.
- `enroll`: an uploaded recording → decoded, speech found, quality verdict, voiceprint.
- `source`: a cliente's voiceprints for the sessions, re-read when they change (cluster-wide).

`voice_of` / `embedding_of` carry an embedding across processes and links as bytes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from balto.speaker.features import DIM, embed


def voice_of(pcm: bytes, rate: int) -> bytes | None:
    """The embedding of `pcm` as bytes (float32), or None when it holds too little speech."""
    e = embed(pcm, rate)
    return None if e is None else e.astype("<f4").tobytes()


def embedding_of(voice: bytes | None) -> npt.NDArray[np.float32] | None:
    """The embedding `voice_of` made, or None (missing or not of this model)."""
    if voice is None or len(voice) != 4 * DIM:
        return None
    return np.frombuffer(voice, dtype="<f4")
