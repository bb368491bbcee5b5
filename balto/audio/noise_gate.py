"""The adaptive energy gate: a noise floor learnt from recent frames, and a gate held over it.

In: the frame energies (dBFS) of a run of frames, with the first one's index, whether webrtcvad
said speech in each and whether each is a pure tone.
Out: whether each frame is voiced (webrtcvad's speech with the gate open), whether each frame
itself was loud (over the gate level), and the noise floor estimate after each.
Pure and synchronous; the thresholds and their reasons are in `SegmenterParams`.

Why a gate on top of webrtcvad: webrtcvad calls steady rumble and far babble speech; a frame only
counts as voiced when it is also clearly louder than the room (DESIGN §4c).

The gate runs over a whole chunk's frames at once: nothing in it depends on the segmenter's state,
and the segmenter runs it for every 250 ms chunk of every session. It also says which frames'
tone flags can matter (`EnergyGate.tone_rows`), so the tone test's FFT runs only on those.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable, Sequence

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
        bisect_left, insort = bisect.bisect_left, bisect.insort
        out: list[float | None] = []
        level = self.level
        for energy in energies:
            if energy > silence:
                if len(history) == full:
                    del ordered[bisect_left(ordered, history[0])]
                history.append(energy)
                insort(ordered, energy)
                size = len(ordered)
                low, high = picks[size]
                level = ordered[low]
                if size >= warmup_n:
                    capped, high_level = level + spread, ordered[high]
                    level = capped if capped < high_level else high_level  # min(), without a call
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


class EnergyGate:
    """Open while frames are `gate_margin_db` over the noise floor, held `gate_hold_s` after.

    A tone never holds the gate open, nor do the one or two frames of its onset (they hold part of
    the tone, too little for the tone test): webrtcvad's overhang after a beep would otherwise turn
    the room noise after it into speech.

    A chunk goes through `learn` (the floor, and which frames are loud), `tone_rows` (which frames'
    tone flags can matter) and `hold` (which frames are voiced), in that order.
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
        # Of the frames `hold` took, tone or not: the index of the last loud one, and whether the
        # last one was loud (what `tone_rows` reads of the frames before a chunk).
        self._last_loud_any = self._last_loud
        self._prev_loud = False

    def learn(self, energies: Sequence[float]) -> tuple[list[float | None], list[bool]]:
        """Learn frames' energies (dBFS) into the floor, in order.

        Returns:
            Per frame: the floor once it was learnt (None before any non-silent frame), and whether
            the frame was loud (over the gate level; a tone too).
        """
        floors = self.floor.levels(energies)
        margin = self._margin
        louds = [
            floor is not None and energy >= floor + margin
            for energy, floor in zip(energies, floors, strict=True)
        ]
        return floors, louds

    def tone_rows(self, first: int, loud: Sequence[bool], speech: Sequence[bool]) -> list[int]:
        """Which frames' tone flags can change what `hold` says of frames `first`, `first` + 1, ...

        A tone flag matters to a frame that is loud (a tone shuts the gate and is a beep), to one
        after a loud frame (it may end a tone's onset run), and to a speech frame within the hold
        of the last loud frame (a tone shuts the gate there). Elsewhere the frame is not voiced
        and not a beep whatever its flag, and the gate's state after it is the same.

        Args:
            first: Index of the first frame in the stream (the frame after the last `hold` took).
            loud: Per frame, from `learn`.
            speech: Per frame, whether webrtcvad said speech.

        Returns:
            Indices into the run, ascending.
        """
        rows: list[int] = []
        prev, last, hold_n = self._prev_loud, self._last_loud_any, self._hold_n
        for k, (now, said) in enumerate(zip(loud, speech, strict=True)):
            if now or prev or (said and first + k - last <= hold_n):
                rows.append(k)
            if now:
                last = first + k
            prev = now
        return rows

    def hold(
        self, first: int, loud: Sequence[bool], speech: Sequence[bool], tonal: Sequence[bool]
    ) -> list[bool]:
        """Which of frames `first`, `first` + 1, ... are voiced: speech, gate open, not a tone.

        Args:
            first: Index of the first frame in the stream.
            loud: Per frame, from `learn`.
            speech: Per frame, whether webrtcvad said speech.
            tonal: Per frame, whether it is a pure tone; only read at `tone_rows`.

        Returns:
            Per frame, whether it is voiced.
        """
        hold_n = self._hold_n
        last_loud, loud_run, before_run = (
            self._last_loud,
            self._loud_run,
            self._last_loud_before_run,
        )
        voiced: list[bool] = []
        for index, (now, said, tone) in enumerate(zip(loud, speech, tonal, strict=True), first):
            if tone:
                if 0 < loud_run <= TONE_EDGE_FRAMES:
                    last_loud = before_run  # the run was the tone's onset
                loud_run = 0
                voiced.append(False)
                continue
            if now:
                if loud_run == 0:
                    before_run = last_loud
                loud_run += 1
                last_loud = index
            else:
                loud_run = 0
            voiced.append(said and index - last_loud <= hold_n)
        self._last_loud, self._loud_run, self._last_loud_before_run = (
            last_loud,
            loud_run,
            before_run,
        )
        if loud:
            self._prev_loud = loud[-1]
            for k in range(len(loud) - 1, -1, -1):
                if loud[k]:
                    self._last_loud_any = first + k
                    break
        return voiced
