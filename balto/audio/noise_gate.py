"""The adaptive energy gate: a noise floor learnt from recent frames, and a gate held over it.

In: the frame energies (dBFS) of a run of frames, with the first one's index and whether each is a
pure tone.
Out: whether the gate is open for each frame, whether each frame itself was loud (over the gate
level), and the noise floor estimate after each.
Pure and synchronous; the thresholds and their reasons are in `SegmenterParams`.

Why a gate on top of webrtcvad: webrtcvad calls steady rumble and far babble speech; a frame only
counts as voiced when it is also clearly louder than the room (DESIGN §4c).

The gate runs over a whole chunk's frames at once (`EnergyGate.run`): nothing in it depends on the
segmenter's state, and the segmenter runs it for every 250 ms chunk of every session.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from balto.audio.frame_meter import TONE_EDGE_FRAMES
from balto.audio.segmenter_params import SegmenterParams, frame_count

FLOOR_LOW_PERCENTILE = 10.0
"""The room's quietest moments (DESIGN §4c's floor); the floor is never far above them."""


class NoiseFloor:
    """A percentile of the last few seconds of frame energies.

    Kept sorted as energies come (O(log n) each) for a floor read after every frame, or sorted
    when read (`sort_on_read`) for one read once in a while.
    """

    def __init__(self, p: SegmenterParams, frame_s: float, *, sort_on_read: bool = False) -> None:
        """Follow the room over `p.floor_window_s` of `frame_s`-second frames."""
        self._p = p
        size = frame_count(p.floor_window_s, frame_s)
        self._energies: deque[float] = deque(maxlen=size)
        self._sorted: list[float] = []
        self._warmup_n = frame_count(p.floor_warmup_s, frame_s)
        self._sort_on_read = sort_on_read
        self._stale = False  # `_sorted` lags `_energies` (sort_on_read only)
        # Per history length: the indices of the low percentile and of the floor's one.
        self._picks = [(0, 0)] + [
            (int(FLOOR_LOW_PERCENTILE / 100.0 * (k - 1)), int(p.floor_percentile / 100.0 * (k - 1)))
            for k in range(1, size + 1)
        ]

    def add(self, energy: float) -> None:
        """Take one frame's energy into the history (digital silence is left out)."""
        self.extend((energy,))

    def extend(self, energies: Iterable[float]) -> None:
        """Take frames' energies into the history, in order (digital silence is left out)."""
        # A muted microphone or codec priming says nothing about the room.
        silence = self._p.digital_silence_dbfs
        history = self._energies
        if self._sort_on_read:
            taken = [e for e in energies if e > silence]
            if taken:
                history.extend(taken)
                self._stale = True
            return
        for energy in energies:
            if energy > silence:
                self._take(energy)

    def levels(self, energies: Iterable[float]) -> list[float | None]:
        """Take frames' energies in order (as `extend`); the floor after each of them."""
        # `_take` and `_pick` inlined: this runs for every frame of every stream.
        silence, spread = self._p.digital_silence_dbfs, self._p.floor_spread_db
        history, ordered, picks = self._energies, self._sorted, self._picks
        full, warmup_n = history.maxlen, self._warmup_n
        out: list[float | None] = []
        level = self.level
        for energy in energies:
            if energy > silence:
                if len(history) == full:
                    del ordered[bisect.bisect_left(ordered, history[0])]
                history.append(energy)
                bisect.insort(ordered, energy)
                size = len(ordered)
                low, high = picks[size]
                level = ordered[low]
                if size >= warmup_n:
                    level = min(ordered[high], level + spread)
            out.append(level)
        return out

    @property
    def level(self) -> float | None:
        """The floor in dBFS, None before any (non-silent) frame."""
        if self._stale:
            self._sorted = sorted(self._energies)
            self._stale = False
        return self._pick() if self._sorted else None

    def _take(self, energy: float) -> None:
        history, ordered = self._energies, self._sorted
        if len(history) == history.maxlen:
            del ordered[bisect.bisect_left(ordered, history[0])]
        history.append(energy)
        bisect.insort(ordered, energy)

    def _pick(self) -> float:
        ordered = self._sorted
        low, high = self._picks[len(ordered)]
        if len(ordered) < self._warmup_n:
            # A short history may be all speech (a stream that opens on a word): the higher
            # percentile only holds once the history has room for the pauses.
            return ordered[low]
        return min(ordered[high], ordered[low] + self._p.floor_spread_db)


class GateRun(NamedTuple):
    """What `EnergyGate.run` says of each frame of a run, one list item per frame.

    Attributes:
        open: The gate is open for the frame.
        loud: The frame was over the gate level (open or not, e.g. a tone).
        floor: The noise floor once the frame was learnt (None before any non-silent frame).
    """

    open: list[bool]
    loud: list[bool]
    floor: list[float | None]


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
        self._last_loud = -(10**9)  # frame index of the last frame above the gate level
        # The hold before the current run of loud frames, restored when the run turns out to be a
        # tone's onset.
        self._loud_run = 0
        self._last_loud_before_run = self._last_loud

    def run(self, first: int, energies: Sequence[float], tonal: Sequence[bool]) -> GateRun:
        """Learn frames `first`, `first` + 1, ... into the floor; whether the gate opens for each.

        Args:
            first: Index of the run's first frame in the stream.
            energies: Each frame's energy in dBFS.
            tonal: Whether each frame is a pure tone (see `FrameMeter`).

        Returns:
            Per frame: gate open, frame loud, floor after it.
        """
        floors = self.floor.levels(energies)
        margin, hold_n = self._margin, self._hold_n
        last_loud, loud_run, before_run = (
            self._last_loud,
            self._loud_run,
            self._last_loud_before_run,
        )
        opened: list[bool] = []
        louds: list[bool] = []
        for index, (energy, tone, floor) in enumerate(
            zip(energies, tonal, floors, strict=True), first
        ):
            loud = floor is not None and energy >= floor + margin
            louds.append(loud)
            if tone:
                if 0 < loud_run <= TONE_EDGE_FRAMES:
                    last_loud = before_run  # the run was the tone's onset
                loud_run = 0
                opened.append(False)
                continue
            if loud:
                if loud_run == 0:
                    before_run = last_loud
                loud_run += 1
                last_loud = index
            else:
                loud_run = 0
            opened.append(index - last_loud <= hold_n)
        self._last_loud, self._loud_run, self._last_loud_before_run = (
            last_loud,
            loud_run,
            before_run,
        )
        return GateRun(opened, louds, floors)
