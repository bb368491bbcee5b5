"""The adaptive energy gate: a noise floor learnt from recent frames, and a gate held over it.

In: one frame energy (dBFS) at a time, with the frame's index and whether it is a pure tone.
Out: whether the gate is open for that frame, whether the frame itself was loud (over the gate
level), and the current noise floor estimate.
Pure and synchronous; the thresholds and their reasons are in `SegmenterParams`.

Why a gate on top of webrtcvad: webrtcvad calls steady rumble and far babble speech; a frame only
counts as voiced when it is also clearly louder than the room (DESIGN §4c).
"""

from __future__ import annotations

import bisect
from collections import deque

from balto.audio.frame_meter import TONE_EDGE_FRAMES
from balto.audio.segmenter_params import SegmenterParams, frame_count

FLOOR_LOW_PERCENTILE = 10.0
"""The room's quietest moments (DESIGN §4c's floor); the floor is never far above them."""


class NoiseFloor:
    """A percentile of the last few seconds of frame energies, kept sorted for O(log n) updates."""

    def __init__(self, p: SegmenterParams, frame_s: float) -> None:
        """Follow the room over `p.floor_window_s` of `frame_s`-second frames."""
        self._p = p
        self._energies: deque[float] = deque(maxlen=frame_count(p.floor_window_s, frame_s))
        self._sorted: list[float] = []
        self._warmup_n = frame_count(p.floor_warmup_s, frame_s)

    def add(self, energy: float) -> None:
        """Take one frame's energy into the history (digital silence is left out)."""
        if energy <= self._p.digital_silence_dbfs:
            return  # a muted microphone or codec priming says nothing about the room
        if len(self._energies) == self._energies.maxlen:
            del self._sorted[bisect.bisect_left(self._sorted, self._energies[0])]
        self._energies.append(energy)
        bisect.insort(self._sorted, energy)

    @property
    def level(self) -> float | None:
        """The floor in dBFS, None before any (non-silent) frame."""
        if not self._sorted:
            return None
        last = len(self._sorted) - 1
        low = self._sorted[int(FLOOR_LOW_PERCENTILE / 100.0 * last)]
        if len(self._sorted) < self._warmup_n:
            # A short history may be all speech (a stream that opens on a word): the higher
            # percentile only holds once the history has room for the pauses.
            return low
        return min(self._sorted[int(self._p.floor_percentile / 100.0 * last)],
                   low + self._p.floor_spread_db)  # fmt: skip


class EnergyGate:
    """Open while frames are `gate_margin_db` over the noise floor, held `gate_hold_s` after.

    A tone never holds the gate open, nor do the one or two frames of its onset (they hold part of
    the tone, too little for the tone test): webrtcvad's overhang after a beep would otherwise turn
    the room noise after it into speech.
    """

    def __init__(self, p: SegmenterParams, frame_s: float, hold_n: int) -> None:
        """Gate frames of `frame_s` seconds, held `hold_n` frames after the last loud one."""
        self.floor = NoiseFloor(p, frame_s)
        self._margin = p.gate_margin_db
        self._hold_n = hold_n
        self.loud = False
        """Whether the last frame was over the gate level (open or not, e.g. a tone)."""
        self._last_loud = -(10**9)  # frame index of the last frame above the gate level
        # The hold before the current run of loud frames, restored when the run turns out to be a
        # tone's onset.
        self._loud_run = 0
        self._last_loud_before_run = self._last_loud

    def update(self, index: int, energy: float, *, tonal: bool) -> bool:
        """Learn frame `index` into the floor; return whether the gate is open for it."""
        self.floor.add(energy)
        floor = self.floor.level
        loud = self.loud = floor is not None and energy >= floor + self._margin
        if tonal:
            if 0 < self._loud_run <= TONE_EDGE_FRAMES:
                self._last_loud = self._last_loud_before_run  # the run was the tone's onset
            self._loud_run = 0
            return False
        if loud:
            if self._loud_run == 0:
                self._last_loud_before_run = self._last_loud
            self._loud_run += 1
            self._last_loud = index
        else:
            self._loud_run = 0
        return index - self._last_loud <= self._hold_n
