"""Who is speaking: attendants identified by voice, every segment labelled by role.

- `frames`: a segment's frame-level voice features (numpy).
- `gmm`: the shipped background model (UBM) and cohort; a segment's statistics against the UBM
  (computed in the front end, where the audio is), MAP adaptation, the likelihood ratio.
- `voiceprint`: an attendant's voiceprint (an adapted GMM) from enrollment speech, and the score.
- `identify`: the label of one segment against a cliente's voiceprints.
- `enroll`: an uploaded recording → decoded, speech found, quality verdict, voiceprint.
- `source`: a cliente's voiceprints for the sessions, re-read when they change (cluster-wide).

`voice_of` / `embedding_of` carry a segment's statistics across processes and links as bytes
(~10 kB float32 per segment, beside its audio).
"""

from __future__ import annotations

from balto.speaker.frames import frame_features
from balto.speaker.gmm import Stats, ubm


def voice_of(pcm: bytes, rate: int) -> bytes | None:
    """The segment's statistics against the UBM as bytes; None with too little speech in it."""
    frames = frame_features(pcm, rate)
    return None if frames is None else ubm().stats(frames).to_bytes()


def embedding_of(voice: bytes | None) -> Stats | None:
    """The statistics `voice_of` made, or None (missing or not of this model)."""
    return None if voice is None else Stats.from_bytes(voice)
