"""Find speech in mono s16le PCM and cut it into segments at pauses: pure, synchronous, no I/O.

In: mono s16le PCM (16 kHz by default) in pieces of any size; optionally a second, same-length
signal to decide on (e.g. the noise-reduced audio; DESIGN §4c: decide on the reduced signal, send
the STT the original).
Out: `CutSegment` values holding the original audio of each stretch of speech, with its interval on
the audio clock (seconds since the first byte fed).
Raises: `ValueError` for a sample rate webrtcvad does not take or a mismatched `decide` signal.

How a frame counts as voiced (30 ms frames): webrtcvad says speech, AND the adaptive energy gate is
open (`balto.audio.noise_gate`: frame energy at least `gate_margin_db` over the noise floor, held
open 300 ms), AND the frame is not a pure tone (`balto.audio.frame_meter`: barcode beeps, which
webrtcvad takes for speech). A segment starts when enough frames in a short window are voiced (one
click cannot start it), and is cut `pause_s` after its last counted voiced frame. What is handed out
is trimmed to the speech (`balto.audio.trim`): from `pre_roll_s` before its onset (the first voiced
frame, taken back over the loud frames just before it, at most `onset_search_s`) to `end_pad_s`
after its last voiced frame still `offset_margin_db` over the noise floor, followed on while the
speech band stands `band_margin_db` over its own floor (at most `hangover_s` after the last voiced
frame); faint speech (judged over the stream's last `faint_history` segments) keeps the untrimmed
pre-roll and a longer pad, and a segment starting within `split_gap_s` of the previous one the
untrimmed start; the cut itself is not delayed. A burst of voiced frames after a short pause stops
counting as soon as it is shaped as one event (a slam's ring-down, a beep and its edges), so such an
event right after the last word neither stretches the segment nor delays its cut by more than
`burst_wait_s` (`balto.audio.impulse`). A segment is dropped when it holds less than `min_voiced_s`
of voiced frames once its events are dropped, and the trimming only looks at the speech left. A
segment reaching `max_segment_s` is cut at its quietest frame in the last `split_search_s` seconds,
and the rest stays open.

This module is the state machine; the thresholds live in `balto.audio.segmenter_params`, the
output types in `balto.audio.segment_types`. What does not depend on its state (energies, gate,
webrtcvad, tone test, speech band) is measured for a whole chunk of frames before it steps through
them, as numpy and list operations rather than per-frame calls (it runs for every 250 ms chunk of
every session); an emit reads the noise floors as they were at its own frame.
"""

from __future__ import annotations

import statistics
from collections import deque
from typing import NamedTuple

import numpy as np
import webrtcvad

from balto.audio.frame_meter import SILENCE_DBFS, FrameMeter
from balto.audio.impulse import BurstTracker, speech_frames
from balto.audio.noise_gate import EnergyGate, NoiseFloor
from balto.audio.segment_types import CutReason, CutSegment, Frame
from balto.audio.segmenter_params import SegmenterParams, frame_count
from balto.audio.trim import Floors, TrimFrames, headroom, span

__all__ = ["CutReason", "CutSegment", "Segmenter", "SegmenterParams"]

_SUPPORTED_RATES = (8000, 16000, 32000, 48000)  # what webrtcvad accepts


class _Chunk(NamedTuple):
    """The frames of the PCM being fed, measured before the state machine steps through them."""

    first: int
    """Stream index of its first frame."""
    floors: list[float | None]
    """The frame energies' noise floor once each frame was learnt."""
    bands: list[float]
    """Each frame's speech-band energy, learnt into the band's floor when first needed."""


class Segmenter:
    """Incremental VAD + segmentation; see the module docstring for the method."""

    def __init__(
        self,
        sample_rate: int = 16000,
        pause_s: float = 0.5,
        max_segment_s: float = 15.0,
        *,
        params: SegmenterParams | None = None,
    ) -> None:
        """Configure a segmenter for one stream.

        Args:
            sample_rate: Rate of the PCM fed; 8000, 16000, 32000 or 48000 (webrtcvad's).
            pause_s: Non-speech that ends a segment.
            max_segment_s: Longest segment; longer speech is split.
            params: Thresholds; the defaults are the measured ones.

        Raises:
            ValueError: Unsupported rate, or limits that cannot work together.
        """
        p = params or SegmenterParams()
        if sample_rate not in _SUPPORTED_RATES:
            raise ValueError(f"sample_rate must be one of {_SUPPORTED_RATES}, got {sample_rate}")
        if max_segment_s <= p.split_search_s or pause_s <= 0:
            raise ValueError("need pause_s > 0 and max_segment_s > params.split_search_s")
        self._p = p
        self._rate = sample_rate
        self._samples = sample_rate * p.frame_ms // 1000
        self._frame_bytes = 2 * self._samples
        self._frame_s = self._samples / sample_rate

        def frames(seconds: float) -> int:
            return frame_count(seconds, self._frame_s)

        self._pause_n = frames(pause_s)
        self._max_n = frames(max_segment_s)
        self._start_window_n = frames(p.start_window_s)
        self._start_voiced_n = frames(p.start_voiced_s)
        self._onset_search_n = frames(p.onset_search_s)
        self._hangover_n = frames(p.hangover_s)
        self._trim = TrimFrames(
            pre_roll_n=frames(p.pre_roll_s), onset_search_n=self._onset_search_n,
            onset_margin_db=p.onset_margin_db, pad_n=frames(p.end_pad_s),
            offset_margin_db=p.offset_margin_db, hangover_n=self._hangover_n,
            band_margin_db=p.band_margin_db, faint_pre_roll_n=frames(p.faint_pre_roll_s),
            faint_pad_n=frames(p.faint_end_pad_s),
        )  # fmt: skip
        self._min_voiced_n = frames(p.min_voiced_s)
        self._search_n = frames(p.split_search_s)
        self._burst_gap_n = frames(p.burst_gap_s)
        self._vad = webrtcvad.Vad(p.vad_mode)
        band = (0, 0)
        if p.band_margin_db is not None:
            band = (round(p.band_lo_hz * self._samples / sample_rate),
                    round(p.band_hi_hz * self._samples / sample_rate))  # fmt: skip
        self._meter = FrameMeter(self._samples, p.tonal_ratio, band)
        self._gate = EnergyGate(p, self._frame_s, frames(p.gate_hold_s))
        # The speech band's own floor (see `band_margin_db`), learnt like the frames' one; only
        # read when a segment is emitted.
        self._band_floor = NoiseFloor(p, self._frame_s, sort_on_read=True)
        self._chunk = _Chunk(0, [], [])
        self._bands_taken = 0  # how many of the chunk's bands the band floor has learnt
        self._split_gap_n = None if p.split_gap_s is None else frames(p.split_gap_s)
        self._last_emitted = -(10**9)  # absolute index of the last emitted segment's last voiced
        # Headroom of the last segments: how faint the stream's speech is (`faint_headroom_db`).
        self._headrooms: deque[float] = deque(maxlen=max(1, p.faint_history))
        self._wait_n = frames(p.burst_wait_s)
        self._bursts = BurstTracker(
            self._burst_gap_n, p.impulse_decay_db, p.impulse_rise_db, p.impulse_quiet_db
        )
        self._carry = b""
        self._carry_decide = b""
        self._index = 0  # index of the next frame
        # Idle: recent frames for the onset search and the start window.
        self._recent: deque[Frame] = deque(maxlen=self._onset_search_n + self._start_window_n)
        # The start window was counted at the last frame and too few were voiced (a frame that is
        # not voiced cannot change that).
        self._recent_short = self._start_voiced_n > 0
        # In speech: the open segment's frames and the index of its first frame (its last voiced
        # frame that counts is `self._bursts.last_counted`).
        self._segment: list[Frame] | None = None
        self._seg_start = 0
        self._continued = False  # the open segment is the rest of one split at max length

    @property
    def position(self) -> float:
        """Audio-clock seconds of the whole frames fed so far."""
        return self._index * self._frame_s

    @property
    def in_speech(self) -> bool:
        """True while a segment is open."""
        return self._segment is not None

    @property
    def cut_after_s(self) -> float:
        """Less audio than this, fed next, cuts no segment (a worker serves such requests last).

        A pause cut needs a frame `pause_n` after the last counted voiced frame, which never
        goes back below the burst tracker's `floor`; a split needs the segment at its maximum
        length; with none open, a segment must first open on a frame of the new audio. One
        frame less stands for a partial frame carried over, one more for safety.
        """
        segment = self._segment
        if segment is None:
            frames = self._pause_n + 1
        else:
            pause_at = self._bursts.floor + self._pause_n - self._index + 1
            frames = min(pause_at, self._max_n - len(segment))
        return max(0.0, (frames - 2) * self._frame_s)

    @property
    def noise_floor_dbfs(self) -> float | None:
        """The current noise floor estimate, None before any frame."""
        return self._gate.floor.level

    def feed(self, pcm: bytes, *, decide: bytes | None = None) -> list[CutSegment]:
        """Take the next PCM; return the segments that ended in it.

        Args:
            pcm: Mono s16le at the configured rate, any length (partial frames are carried).
            decide: Optional same-length signal for webrtcvad and the tone test (e.g. noise-reduced
                audio). The energy gate always measures `pcm`, as it was measured (DESIGN §4c).

        Returns:
            Segments closed by this audio, in order; usually none.

        Raises:
            ValueError: `decide` is not as long as `pcm`.
        """
        if decide is not None and len(decide) != len(pcm):
            raise ValueError(f"decide has {len(decide)} bytes, pcm has {len(pcm)}")
        data = self._carry + pcm
        n = len(data) // self._frame_bytes
        used = n * self._frame_bytes
        self._carry = data[used:]
        dec = data
        if decide is not None:
            dec = self._carry_decide + decide
        # Without `decide`, the decisions are taken on `pcm`, so its carry stands in for both.
        self._carry_decide = dec[used:]
        if n == 0:
            return []
        first, fb, rate = self._index, self._frame_bytes, self._rate
        meter, gate = self._meter, self._gate
        x = meter.frames(data, n)
        energies = meter.energies(x)
        floors, loud = gate.learn(energies)
        # webrtcvad adapts to every frame it hears, so it hears all of them, gate open or not.
        view, is_speech = memoryview(dec), self._vad.is_speech
        speech = [bool(is_speech(view[k * fb : (k + 1) * fb], rate)) for k in range(n)]
        rows = gate.tone_rows(first, loud, speech)
        tonal, bands = meter.spectra(x, None if decide is None else dec, rows)
        voiced = gate.hold(first, loud, speech, tonal)  # shut on a tone
        # A tone at the room's level (hum) hides nothing: only a loud one is a beep.
        frames = [
            Frame(data[k * fb : (k + 1) * fb], said, energy, tone and now, now, band)
            for k, (said, energy, tone, now, band) in enumerate(
                zip(voiced, energies, tonal, loud, bands, strict=True)
            )
        ]
        # The frames are measured ahead; an emit reads the floors as they were at its frame.
        self._chunk, self._bands_taken = _Chunk(first, floors, bands), 0
        out: list[CutSegment] = []
        for frame in frames:
            self._step(frame, out)
            self._index += 1
        self._learn_bands(n)
        return out

    def flush(self) -> list[CutSegment]:
        """End of stream: close the open segment (if it qualifies) and drop partial frames."""
        self._carry = self._carry_decide = b""
        out: list[CutSegment] = []
        if self._segment is not None:
            # Nothing more is coming: a burst still waiting to show speech is judged as it is.
            self._bursts.settle()
            last = self._bursts.last_counted
            end = min(last + self._hangover_n, self._index - 1)
            self._emit(end, last, CutReason.END_OF_STREAM, out)
            self._segment = None
        self._recent.clear()
        return out

    def _learn_bands(self, upto: int) -> None:
        """Learn the chunk's speech-band energies before its frame `upto` into the band's floor."""
        if upto > self._bands_taken:
            bands = self._chunk.bands[self._bands_taken : upto]
            self._band_floor.extend(b for b in bands if b > SILENCE_DBFS)
            self._bands_taken = upto

    def _floors(self) -> Floors:
        """The noise floors as they were once the current frame was learnt (see `_Chunk`)."""
        k = self._index - self._chunk.first
        if k < len(self._chunk.floors):
            self._learn_bands(k + 1)
            return self._chunk.floors[k], self._band_floor.level
        return self._gate.floor.level, self._band_floor.level  # after the fed frames (flush)

    def _step(self, frame: Frame, out: list[CutSegment]) -> None:
        i = self._index
        segment = self._segment
        if segment is None:
            self._recent.append(frame)
            if self._recent_short and not frame.voiced:
                return
            window = list(self._recent)[-self._start_window_n :]
            self._recent_short = sum(f.voiced for f in window) < self._start_voiced_n
            if self._recent_short:
                return
            first_voiced = i - len(window) + 1 + next(k for k, f in enumerate(window) if f.voiced)
            oldest = i - len(self._recent) + 1
            self._seg_start = max(oldest, first_voiced - self._onset_search_n)
            self._segment = list(self._recent)[self._seg_start - oldest :]
            self._continued = False
            self._bursts.begin(first_voiced, i)
            self._recent.clear()
            return
        segment.append(frame)
        self._bursts.step(i, segment, self._seg_start)
        last = self._bursts.last_counted
        silent = i - last
        # At the maximum length during the silence after speech, the speech has already ended:
        # close it as at a pause instead of splitting in the silence.
        full = len(segment) >= self._max_n
        paused = silent >= self._pause_n or (full and silent > self._hangover_n)
        # A burst that may yet prove to be speech delays the cut, by `burst_wait_s` at most.
        wait = self._bursts.holds_cut and silent < self._pause_n + self._wait_n
        if paused and not wait:
            end = last + self._hangover_n
            self._emit(end, last, CutReason.PAUSE, out)
            # The silence after the hangover may be the next segment's pre-roll, and a burst that
            # never showed speech may yet start a segment of its own (dropped if it is an event).
            self._recent.extend(segment[max(0, end + 1 - self._seg_start) :])
            self._recent_short = False  # not counted with these frames yet
            self._segment = None
        elif full:
            self._split(out)

    def _split(self, out: list[CutSegment]) -> None:
        """Cut a segment at its maximum length at its quietest recent frame; keep the rest open."""
        segment = self._segment
        assert segment is not None
        lo = len(segment) - self._search_n
        energies = np.array([f.energy for f in segment[lo:]])
        # Smooth over 3 frames so a single quiet frame inside a word does not win over a real gap.
        smooth = np.convolve(energies, np.ones(3) / 3.0, mode="same")
        cut = lo + int(smooth[1:-1].argmin()) + 1  # index in segment of the last frame kept
        self._emit(self._seg_start + cut, self._seg_start + cut, CutReason.MAX_LENGTH, out)
        self._segment = segment[cut + 1 :]
        self._seg_start += cut + 1
        self._continued = True

    def _emit(self, end: int, last_voiced: int, reason: CutReason, out: list[CutSegment]) -> None:
        """Emit the open segment's frames up to `end` (absolute index), trimmed to its speech.

        Only voiced frames up to `last_voiced` count, and of those the impulsive bursts (see
        `balto.audio.impulse`) are dropped first, so a slam just before or after an utterance
        neither makes a segment nor stretches one; nothing is emitted when less than
        `min_voiced_s` of voiced audio is left. The ends are then trimmed (`balto.audio.trim`),
        except where a split at the maximum length joins two segments: no audio is lost there.
        """
        segment = self._segment
        assert segment is not None
        frames = segment[: max(0, end - self._seg_start + 1)]
        p = self._p
        voiced = speech_frames(
            segment, last_voiced - self._seg_start, self._burst_gap_n, p.impulse_decay_db,
            p.impulse_rise_db, p.impulse_quiet_db,
        )  # fmt: skip
        if len(voiced) < self._min_voiced_n:
            return
        first = self._seg_start + voiced[0]
        # Close after the last segment: the VAD may have split one utterance at an inner pause,
        # and the words around that pause are where its onsets and offsets are least sure.
        near = self._split_gap_n is not None and first - self._last_emitted <= self._split_gap_n
        self._last_emitted = self._seg_start + voiced[-1]
        floors = self._floors()
        if (h := headroom(frames, voiced, floors[0])) is not None:
            self._headrooms.append(h)
        faint = (
            p.faint_headroom_db is not None
            and bool(self._headrooms)
            and statistics.median(self._headrooms) < p.faint_headroom_db
        )
        lo, hi = span(
            frames, voiced, floors, self._trim,
            keep_start=self._continued, keep_end=reason is CutReason.MAX_LENGTH, near=near,
            faint=faint,
        )  # fmt: skip
        start = self._seg_start + lo
        out.append(
            CutSegment(
                pcm=b"".join(f.pcm for f in frames[lo:hi]),
                start=start * self._frame_s,
                end=(self._seg_start + hi) * self._frame_s,
                voiced_s=len(voiced) * self._frame_s,
                reason=reason,
                speech_start=(self._seg_start + voiced[0]) * self._frame_s,
                speech_end=(self._seg_start + voiced[-1] + 1) * self._frame_s,
            )
        )
