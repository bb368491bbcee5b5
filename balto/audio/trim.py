"""Where an emitted segment's audio starts and ends: at its speech, plus a short pre-roll and pad.

In: the open segment's `Frame`s, the indices of its speech frames (voiced, events dropped), the
noise floors (of the frame energies and of the speech band), what the segmenter knows of the
stream (the previous segment ended just before; the speech is faint), and the frame counts of
`SegmenterParams`' trimming fields. Out: the half-open frame range [lo, hi) of the segment to
hand out. Pure, no state, no I/O.

Why: the voiced flags alone place a segment's ends badly for the STT. webrtcvad's overhang and the
gate's hold keep a word "voiced" ~80 ms (up to ~300 ms in babble) after it ends, and a fixed
300 ms pre-roll and 150 ms hangover on top sent ~0.5 s of room noise per segment to a provider
paid by the second. The speech's own energy is a sharper edge: the last voiced frame still
`offset_margin_db` over the floor ends the speech, carried on while the speech band (300-3000 Hz,
where a fading vowel or a final "s" still stands over a hum or a fan) stays `band_margin_db` over
its own floor; an onset is the first voiced frame taken back over the frames just before it that
stand `onset_margin_db` over the floor (a fricative or a breath webrtcvad does not call speech
yet). The pre-roll and pad then cover what energy cannot see at 30 ms: a weak final consonant
ringing down under the noise, an onset's first milliseconds.

Where energy cannot tell speech from noise, the untrimmed margins stay, so trimming never loses
what the untrimmed segmenter kept: faint speech (the stream's recent segments stand little over
the floor: its edges sink into the noise) keeps the full pre-roll and a long pad, and so does a
segment starting just after the previous one ended (the VAD may have split one utterance at an
inner pause, where the words on both sides are the least sure). A split at the maximum length is
never trimmed (the audio on both sides is speech).

Never larger than the untrimmed segment: the onset search reaches at most `onset_search_n`
frames before the first voiced frame, the end at most `hangover_n` frames after the last one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from balto.audio.segment_types import Frame

ONSET_DIP_FRAMES = 2
"""Quiet frames the onset search steps over: a stop's closure or the dip between two syllables
(< ~60 ms at 30 ms frames), so speech the VAD has not called voiced yet is not lost at its first
dip; a longer quiet run is the pause before the speech."""
FADE_FRAMES = 2
"""How far past the last voiced frame the speech may go on while its energy stays over the
margin: a word's last syllable fading out after webrtcvad stopped calling it speech."""
BAND_DIP_FRAMES = 1
"""Quiet frames the speech band's walk past the offset steps over (a final stop's closure before
its release); two quiet frames end the word. Tuning sets: none clipped 2 words at 10 dB, two
lengthened the 10 dB end lag p90 from 162 to 180 ms."""

Floors = tuple[float | None, float | None]
"""The noise floor of the frame energies and of the speech-band energies, in dB (None: unknown)."""


@dataclass(frozen=True, slots=True)
class TrimFrames:
    """The trimming rule in frames (see `SegmenterParams` for each field's reason).

    Attributes:
        pre_roll_n: Frames kept before the onset.
        onset_search_n: How far before the first voiced frame the onset may be found.
        onset_margin_db: Over the floor, a frame before the first voiced one is the onset's;
            None: the onset is the first voiced frame.
        pad_n: Frames kept after the speech's last loud frame.
        offset_margin_db: Over the floor, a voiced frame is still the speech's; None: the last
            voiced frame ends the speech (then `hangover_n` is kept after it).
        hangover_n: Most frames kept after the last voiced frame.
        band_margin_db: Over the speech band's floor, a frame after the offset edge still
            carries the word; None: the frame energy alone places the edge.
        faint_pre_roll_n: Pre-roll of faint speech.
        faint_pad_n: Pad of faint speech.
    """

    pre_roll_n: int
    onset_search_n: int
    onset_margin_db: float | None
    pad_n: int
    offset_margin_db: float | None
    hangover_n: int
    band_margin_db: float | None = None
    faint_pre_roll_n: int = 0
    faint_pad_n: int = 0


def onset(frames: Sequence[Frame], first: int, floor: float | None, rule: TrimFrames) -> int:
    """Index of the speech's first frame: `first` (voiced), taken back over loud-enough frames."""
    if rule.onset_margin_db is None or floor is None:
        return first
    level = floor + rule.onset_margin_db
    k, quiet = first, 0
    for j in range(first - 1, max(0, first - rule.onset_search_n) - 1, -1):
        if frames[j].energy >= level:
            k, quiet = j, 0
        else:
            quiet += 1
            if quiet > ONSET_DIP_FRAMES:
                break
    return k


def offset(frames: Sequence[Frame], voiced: Sequence[int], floors: Floors, rule: TrimFrames) -> int:
    """Index of the speech's last frame: the last voiced one still over the floor's margin.

    Carried on from there while the speech band stays over its own floor's margin.
    """
    floor, band_floor = floors
    if rule.offset_margin_db is None or floor is None:
        return voiced[-1]
    level = floor + rule.offset_margin_db
    # Searched from the end: the frames before the last loud one do not matter.
    edge = next((k for k in reversed(voiced) if frames[k].energy >= level), None)
    if edge is None:
        return voiced[-1]  # nothing over the margin (a whisper at the floor): keep the VAD's end
    # The VAD may stop while the energy has not: a fading syllable webrtcvad gave up on.
    stop = min(len(frames), voiced[-1] + 1 + FADE_FRAMES)
    if rule.band_margin_db is None or band_floor is None:
        if edge == voiced[-1]:
            while edge + 1 < stop and frames[edge + 1].energy >= level:
                edge += 1
        return edge
    band_level = band_floor + rule.band_margin_db
    k, quiet = edge, 0
    while k + 1 < stop:
        k += 1
        if frames[k].band >= band_level:
            edge, quiet = k, 0
        else:
            quiet += 1
            if quiet > BAND_DIP_FRAMES:
                break
    return edge


def span(
    frames: Sequence[Frame],
    voiced: Sequence[int],
    floors: Floors,
    rule: TrimFrames,
    *,
    keep_start: bool = False,
    keep_end: bool = False,
    near: bool = False,
    faint: bool = False,
) -> tuple[int, int]:
    """The frames [lo, hi) to emit of `frames`, whose speech frames are `voiced` (non-empty).

    Args:
        frames: The segment's frames up to its cut.
        voiced: Indices of its speech frames, ascending.
        floors: The noise floors in dB (the first None: no energy test, the voiced flags decide).
        rule: The trimming rule.
        keep_start: Start at frame 0 (the segment continues one split at its maximum length:
            trimming would drop speech between the two).
        keep_end: End at the last frame (this segment is cut at its maximum length).
        near: The previous segment ended just before: start `onset_search_n` before the first
            voiced frame, as untrimmed (the VAD may have split one utterance there).
        faint: The speech stands little over the noise: `faint_pre_roll_n` / `faint_pad_n`.

    Returns:
        The first frame to emit and the one past the last, never outside the untrimmed span.
    """
    first, last = voiced[0], voiced[-1]
    pre_roll, pad = rule.pre_roll_n, rule.pad_n
    if rule.offset_margin_db is None:
        pad = rule.hangover_n
    elif faint:
        pre_roll, pad = rule.faint_pre_roll_n, rule.faint_pad_n
    if keep_start:
        lo = 0
    elif near:
        lo = max(0, first - rule.onset_search_n)
    else:
        lo = max(0, first - rule.onset_search_n, onset(frames, first, floors[0], rule) - pre_roll)
    if keep_end:
        hi = len(frames)
    else:
        end = offset(frames, voiced, floors, rule)
        hi = min(len(frames), end + 1 + pad, last + 1 + rule.hangover_n)
    return lo, hi


def headroom(frames: Sequence[Frame], voiced: Sequence[int], floor: float | None) -> float | None:
    """How far the speech (90th percentile of its voiced frames' energy) stands over the floor."""
    if floor is None:
        return None
    return sorted(frames[k].energy for k in voiced)[(len(voiced) * 9) // 10] - floor
