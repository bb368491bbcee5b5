"""Impulse and beep rejection inside a segment: which bursts of voiced frames are speech.

In: the open segment's `Frame`s (energy; voiced, beep and loud flags) and the thresholds of
`SegmenterParams` (`burst_gap_s`, `impulse_decay_db`, `impulse_rise_db`, `impulse_quiet_db`).
Out: `speech_frames`, the voiced frames a segment keeps once its events are dropped (when it is
emitted), and `BurstTracker`, which says live, frame by frame, which voiced frame of the open
segment counts last (for the pause timer) and whether the cut should wait for a verdict.
Pure, no I/O.

Why: webrtcvad marks a door slam's ring-down as speech for up to ~1 s, and the edges of a barcode
beep (frames holding too little of the tone for the tone test) as speech too. A burst of voiced
frames is one event, not speech, when it peaks in its first two frames and never rises again (a
syllable always rises again after its consonant); a beep frame, or a frame at a beep's edge, is
never taken as such a rise or late peak, as it is the beep's. An event must not count at all: not
as a segment of its own, not for a segment's `speech_end`, and not for keeping a segment open,
since a beep or a slam right after the customer stops talking would delay the cut, and so the STT
request, by its whole length plus the pause (latency the attendant feels).

Known limit: a vowel that the tone test takes for a beep (some synthetic vowels with their first
formant on a harmonic; rare in real speech) is treated as one here too, so a phrase resumed on
such a vowel after a short pause can be cut from the phrase before it.
"""

from __future__ import annotations

from collections.abc import Sequence

from balto.audio.frame_meter import TONE_EDGE_FRAMES
from balto.audio.segment_types import Frame


def _near_beep(frames: Sequence[Frame], first: int, last: int) -> list[bool]:
    """For frames[first..last], whether it is a beep or within `TONE_EDGE_FRAMES` of one."""
    lo, hi = max(0, first - TONE_EDGE_FRAMES), min(len(frames), last + TONE_EDGE_FRAMES + 1)
    near = [False] * (last - first + 1)
    for k in range(lo, hi):
        if frames[k].beep:  # rare: only a beep (or a pure vowel) sets it
            for j in range(max(first, k - TONE_EDGE_FRAMES), min(last, k + TONE_EDGE_FRAMES) + 1):
                near[j - first] = True
    return near


class _Shape:
    """The energy shape of a burst so far, frame by frame: one event, or speech?

    A burst is one event while its loudest frame is among its first two and nothing rises more
    than `rise_db` over the lowest level since that peak; a frame at or near a beep moves the peak
    and the low like any other but is never taken as speech (it is the beep's).
    """

    __slots__ = ("_n", "_quiet_db", "_rise_db", "low", "peak", "speech")

    def __init__(self, rise_db: float, quiet_db: float | None = None) -> None:
        self._rise_db = rise_db
        self._quiet_db = quiet_db
        self._n = 0
        self.peak = self.low = 0.0
        self.speech = False

    def take(self, energy: float, *, free: bool, loud: bool = True) -> None:
        """Add the burst's next frame; `free` is False for a frame at or near a beep.

        `loud`: the frame stands over the gate level. A frame under it that is also more than
        `quiet_db` under the burst's peak shows no speech: after a slam, the gate's hold keeps
        the room "voiced", and the room's own wobble, however steep, is no syllable.
        """
        if self._n == 0 or (energy > self.peak and (self._n <= 1 or not free)):
            self.peak = self.low = energy  # still the onset (or the beep): decay counts from here
        elif (
            not self.speech
            and free
            and (loud or self._quiet_db is None or energy >= self.peak - self._quiet_db)
            and (energy > self.peak or energy > self.low + self._rise_db)
        ):
            # Loudest after its first two frames (a syllable's onset is not at its loudest), or
            # risen again after the peak (the next syllable): speech, not a ring-down.
            self.speech = True
        else:
            self.low = min(self.low, energy)
        self._n += 1

    @property
    def decay(self) -> float | None:
        """Fall in dB from the peak to the lowest level after it; None once it showed speech."""
        return None if self.speech else self.peak - self.low


def event_decay(
    frames: Sequence[Frame], first: int, last: int, rise_db: float, quiet_db: float | None = None
) -> float | None:
    """How far the span frames[first..last] fell from its peak, if it is shaped as one event.

    Args:
        frames: The segment's frames.
        first: Index of the burst's first voiced frame.
        last: Index of its last voiced frame (the frames between, voiced or not, are its shape).
        rise_db: Rise over the lowest level since the peak that only speech makes.
        quiet_db: A frame under the gate level and this far under the peak never shows speech
            (None: any frame may).

    Returns:
        None when the span shows speech (see `_Shape`); otherwise its fall in dB from its peak.
    """
    shape = _Shape(rise_db, quiet_db)
    for f, near in zip(frames[first : last + 1], _near_beep(frames, first, last), strict=True):
        shape.take(f.energy, free=not near, loud=f.loud)
    return shape.decay


def voiced_bursts(frames: Sequence[Frame], upto: int, gap_n: int) -> list[list[int]]:
    """Indices of the voiced frames in frames[:upto+1], grouped where `gap_n` frames separate."""
    bursts: list[list[int]] = []
    for k in range(min(upto + 1, len(frames))):
        if not frames[k].voiced:
            continue
        if bursts and k - bursts[-1][-1] <= gap_n:
            bursts[-1].append(k)
        else:
            bursts.append([k])
    return bursts


def speech_frames(
    frames: Sequence[Frame],
    upto: int,
    gap_n: int,
    decay_db: float | None,
    rise_db: float,
    quiet_db: float | None = None,
) -> list[int]:
    """Indices of the voiced frames in frames[:upto+1] that are speech: events' bursts dropped.

    A burst is an event when it is shaped as one (see `event_decay`) and fell at least `decay_db`
    from its peak (a ring-down, or a beep down to the room). `decay_db` None keeps every frame.
    """
    bursts = voiced_bursts(frames, upto, gap_n)
    if decay_db is None:
        return [k for burst in bursts for k in burst]
    kept: list[int] = []
    for burst in bursts:
        decay = event_decay(frames, burst[0], burst[-1], rise_db, quiet_db)
        if decay is None or decay < decay_db:
            kept += burst
    return kept


class BurstTracker:
    """Which voiced frame of the open segment counts last, for the pause timer; judged live.

    The burst that opens a segment counts at once (the start rule already asked for enough voiced
    frames; if it is only an event, `speech_frames` drops the segment). A later burst, one that
    starts more than `gap_n` non-voiced frames after the previous voiced frame, is judged frame by
    frame: its voiced frames away from any beep count, unless the burst is so far shaped as one
    event that fell `decay_db` from its peak (a slam's ring-down, a beep down to the room), in
    which case the last counted frame goes back to the one before the burst; a rise later makes
    it speech for good. A beep arriving within `TONE_EDGE_FRAMES` of the burst's newest frames
    makes them its edge: the burst is judged again without them.

    In heavy noise the gate opens only on a syllable's loudest frames, so a syllable looks like a
    ring-down until the next one rises: while such a burst goes on, a pause cut should wait for
    its verdict (see `holds_cut`; the segmenter bounds the wait).
    """

    def __init__(
        self, gap_n: int, decay_db: float | None, rise_db: float, quiet_db: float | None = None
    ) -> None:
        """Judge bursts split by more than `gap_n` frames; `decay_db` None counts every burst."""
        self._gap_n = gap_n
        self._decay_db = decay_db
        self._rise_db = rise_db
        self._quiet_db = quiet_db
        self.last_counted = 0
        """Absolute index of the open segment's last voiced frame that counts."""
        self._first = self._last = self._before = self._pos = 0
        self._opening = True  # the latest burst opened the segment (or the test is off)
        self._holds = False
        self._shape = _Shape(rise_db, quiet_db)
        self._free_voiced: int | None = None  # its last voiced frame away from any beep
        self._free_loud = False  # whether one of those was over the gate level
        self._voiced_seen = False  # whether any of its frames taken so far is voiced

    def begin(self, first: int, last: int) -> None:
        """A segment opened on the burst spanning absolute frames `first`..`last`: it counts."""
        self._first, self._last, self.last_counted = first, last, last
        self._opening, self._holds = True, False

    @property
    def floor(self) -> int:
        """The lowest `last_counted` can go back to while the segment stays open.

        Only a burst judged after the opening one moves it back, and no further than where it
        stood when that burst started (later bursts start from where it stands then).
        """
        return self.last_counted if self._opening else min(self.last_counted, self._before)

    @property
    def holds_cut(self) -> bool:
        """Whether the latest burst goes on and may still prove to be speech: a cut should wait.

        Not for a burst whose only voiced frames away from beeps are quiet: that is the room
        heard through the gate's hold after a beep (webrtcvad's own overhang), nothing to wait
        for.
        """
        return self._holds

    def step(self, index: int, frames: Sequence[Frame], offset: int) -> None:
        """Take absolute frame `index`, already the last of `frames` (whose 0 is frame `offset`)."""
        frame = frames[index - offset]
        if frame.voiced:
            if index - self._last > self._gap_n:
                self._start_burst(index)
            self._last = index
            if self._opening:
                self.last_counted = index
        if self._opening:
            return
        if frame.beep and self._last >= index - TONE_EDGE_FRAMES:
            self._restart_shape()  # the burst's newest frames were the beep's onset edge
        self._judge(frames, offset)
        self._holds = (
            not self._shape.speech
            and self.last_counted < self._first  # none of it counts (yet)
            and index - self._last <= self._gap_n  # it may still go on
            and (self._free_loud or not self._voiced_seen)
        )

    def settle(self) -> None:
        """End of stream: the latest burst stays as judged; nothing will change it any more."""
        self._holds = False

    def _start_burst(self, index: int) -> None:
        self._first = index
        self._before = self.last_counted
        self._opening = self._decay_db is None  # the test is off: every burst counts at once
        self._restart_shape()

    def _restart_shape(self) -> None:
        self._pos = self._first
        self.last_counted = self._before
        self._shape = _Shape(self._rise_db, self._quiet_db)
        self._free_voiced = None
        self._free_loud = self._voiced_seen = False

    def _judge(self, frames: Sequence[Frame], offset: int) -> None:
        """Take the burst's new frames into its shape; move `last_counted` to match."""
        assert self._decay_db is not None  # else every burst is an opening one
        self._pos = max(self._pos, offset)  # a max-length split may have emitted the start
        if self._pos > self._last:
            return
        near = _near_beep(frames, self._pos - offset, self._last - offset)
        for k in range(self._pos, self._last + 1):
            f = frames[k - offset]
            free = not near[k - self._pos]
            self._shape.take(f.energy, free=free, loud=f.loud)
            if f.voiced:
                self._voiced_seen = True
                if free:
                    self._free_voiced = k
                    self._free_loud = self._free_loud or f.loud
        self._pos = self._last + 1
        decay = self._shape.decay
        if decay is not None and decay >= self._decay_db:
            self.last_counted = self._before  # one event so far: none of it counts
        elif self._free_voiced is not None:
            self.last_counted = max(self.last_counted, self._free_voiced)
