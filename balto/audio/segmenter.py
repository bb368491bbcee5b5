"""Find speech in mono s16le PCM and cut it into segments at pauses: pure, synchronous, no I/O.

In: mono s16le PCM (16 kHz by default) in pieces of any size; optionally a second, same-length
signal to decide on (e.g. the noise-reduced audio; DESIGN §4c: decide on the reduced signal, send
the STT the original).
Out: `CutSegment` values holding the original audio of each stretch of speech, with its interval on
the audio clock (seconds since the first byte fed).
Raises: `ValueError` for a sample rate webrtcvad does not take or a mismatched `decide` signal.

How a frame counts as voiced (30 ms frames): webrtcvad says speech, AND an adaptive energy gate
is open (frame energy at least `gate_margin_db` over the noise floor, the 40th percentile of the
last 5 s of frame energies capped `floor_spread_db` over their 10th, held open 300 ms), AND the
frame is not a pure tone (barcode beeps, which webrtcvad takes for speech; a tone's onset frames
do not hold the gate open either). A segment starts when enough frames in a short
window are voiced (one click cannot start it), begins `pre_roll_s` before its first voiced frame,
ends `pause_s` after its last voiced frame keeping `hangover_s` of that silence, and is dropped when
it holds less than `min_voiced_s` of voiced frames once its impulsive bursts (a slam's ring-down)
are dropped; the emitted audio is trimmed to the remaining speech. A segment reaching
`max_segment_s` is cut at its quietest frame in the last `split_search_s` seconds, and the rest
stays open.
"""

from __future__ import annotations

import bisect
import enum
import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import webrtcvad

_SUPPORTED_RATES = (8000, 16000, 32000, 48000)  # what webrtcvad accepts
_FULL_SCALE_SQ = 32768.0**2
_TONE_ONSET_FRAMES = 2  # a tone starting mid-frame spreads its onset over at most 2 frames
_SILENCE_DBFS = -100.0  # digital zero would be -inf; any value far below real noise works
_FLOOR_LOW_PERCENTILE = 10.0  # the room's quietest moments (DESIGN §4c's floor)


@dataclass(frozen=True, slots=True)
class SegmenterParams:
    """Every threshold of the segmenter, each with its reason.

    Attributes:
        frame_ms: Frame length; webrtcvad takes 10, 20 or 30 ms, and 30 ms costs the fewest calls.
        vad_mode: webrtcvad aggressiveness. 3 (the most aggressive) was the measured baseline
            (F1 0.90 alone, 0.94 with the gate, DESIGN §4c), and still marks 96% of the fixture's
            utterance frames as speech.
        floor_window_s: History the noise floor is taken from; 5 s follows a shop's noise changing
            (a fan, a queue forming) yet outlasts any single utterance's loud stretch.
        floor_percentile: The floor is this percentile of the history (its 10th percentile
            until the history spans `floor_window_s`: a short history may be all speech). 40
            stays inside the room noise while up to 60% of the history is speech (the
            denoiser's `quiet_share` reason) and, unlike the 10th percentile of DESIGN §4c,
            lands on the middle of far babble rather than in its dips, so babble peaks no
            longer open the gate between turns. Corpus (tests/audio/test_corpus_quality.py):
            10 -> 40 took the end-error p90 from 0.84 s to 0.13 s and 10 dB F1 from 0.93 to
            0.96; 35-40 score the same, 45 is worse at 5 dB (the floor reaches the speech).
        floor_spread_db: The floor is at most this far over the history's 10th percentile, so
            a long monologue (more than 60% of the window voiced) cannot lift it into the speech
            and close the gate mid-phrase. Stationary noise spreads ~2 dB between these
            percentiles, far babble ~7 dB (measured on the corpus); 5-12 dB score the same on
            the corpus.
        digital_silence_dbfs: Frames quieter than this are digital silence (a muted microphone,
            codec priming), not room noise, and stay out of the floor history; a real microphone's
            self-noise is well above it, 16-bit quantisation noise (-101 dBFS) below. Measured: with
            200 ms of zeros before stationary noise, letting them in gave a false segment for 13
            of 30 noise clips (the floor sat at -100 dBFS for the first seconds), keeping them out
            gave none.
        gate_margin_db: The gate opens this far above the floor. 9 dB was best over the 10th
            percentile (DESIGN §4c); over the 40th (a floor ~2 dB higher on stationary noise,
            more on babble) 7 dB is: 6 lets a slam's noisy tail through at 5 dB, 8 loses the
            quiet ends of words at 5 dB (F1 0.90).
        gate_hold_s: The gate stays open this long after the last frame above it, so the quiet
            ends of words are not chopped (300 ms, DESIGN §4c).
        start_window_s: Window in which voiced frames are counted to start a segment.
        start_voiced_s: Voiced audio needed within `start_window_s` to start: 150 ms (5 frames) in
            300 ms, longer than a click, a knock or a 100 ms beep.
        pre_roll_s: Audio kept before the first voiced frame, so a soft onset (a fricative, a
            breath before a plosive) reaches the STT.
        hangover_s: Silence kept after the last voiced frame, so a fading word end is not cut.
        min_voiced_s: A segment with less voiced audio than this is an impulse, not an utterance
            (and would cost an STT call for nothing).
        split_search_s: A segment at its maximum length is cut at its quietest frame within this
            many seconds of its end (the likeliest breath between phrases).
        tonal_ratio: A frame with more than this share of its energy within ±2 FFT bins of its
            peak is a pure tone (a sine beep: > 0.99), not speech, whose harmonics spread energy
            over several bins (the fixture's vowels: median 0.52, 99th percentile 0.76; a few
            synthetic vowels with F1 on a harmonic reach 0.93-0.99 in 1% of frames, hence the
            margin). webrtcvad takes many pure tones for speech. None disables the test.
        impulse_decay_db: A burst of voiced frames (see `burst_gap_s`) that peaks in its first two
            frames, never rises more than `impulse_rise_db` over its lowest level since the peak,
            and falls this far below its peak is the ring-down of an impulse (a door slam, a
            dropped box: webrtcvad marks it as speech for up to ~1 s), not speech, whose
            syllables rise again after each consonant. Such bursts are dropped before a segment
            is emitted, so a slam near an utterance does not stretch it either. None disables
            the test.
        impulse_rise_db: Rise allowed in a decay: a slam's thud is low-passed noise, whose 30 ms
            energies wobble by up to ~4 dB (measured on the corpus's slams); a new syllable
            rises 10 dB or more over the consonant before it. 4-6 dB give the same result.
        burst_gap_s: Non-voiced time that separates two bursts inside a segment, so an impulse
            after the last word (but within `pause_s`) is judged apart from the speech: 150 ms
            is longer than the gap inside a word's stop consonant (~100 ms).
    """

    frame_ms: int = 30
    vad_mode: int = 3
    floor_window_s: float = 5.0
    floor_percentile: float = 40.0
    digital_silence_dbfs: float = -90.0
    floor_spread_db: float = 6.0
    gate_margin_db: float = 7.0
    gate_hold_s: float = 0.3
    start_window_s: float = 0.3
    start_voiced_s: float = 0.15
    pre_roll_s: float = 0.3
    hangover_s: float = 0.15
    min_voiced_s: float = 0.25
    split_search_s: float = 3.0
    tonal_ratio: float | None = 0.95
    impulse_decay_db: float | None = 6.0
    impulse_rise_db: float = 5.0
    burst_gap_s: float = 0.15


class CutReason(enum.StrEnum):
    """Why a segment ended."""

    PAUSE = "pause"
    MAX_LENGTH = "max_length"
    END_OF_STREAM = "end_of_stream"


@dataclass(frozen=True, slots=True)
class CutSegment:
    """One stretch of speech.

    Attributes:
        pcm: The original audio (mono s16le at the segmenter's rate), pre-roll and hangover
            included.
        start: Audio-clock time of its first sample, in seconds since the first byte fed.
        end: Audio-clock time just past its last sample.
        voiced_s: Seconds of voiced frames in it.
        reason: Why it ended; `CutReason.MAX_LENGTH` means the speech goes on in the next segment.
        speech_start: Start of its first voiced frame (the VAD's own boundary, before pre-roll).
        speech_end: End of its last voiced frame (before hangover).
    """

    pcm: bytes
    start: float
    end: float
    voiced_s: float
    reason: CutReason
    speech_start: float = 0.0
    speech_end: float = 0.0

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class _Frame:
    pcm: bytes
    voiced: bool
    energy: float  # dBFS
    over: float  # dB over the noise floor when it arrived


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
            return max(1, math.ceil(seconds / self._frame_s - 1e-9))

        self._pause_n = frames(pause_s)
        self._max_n = frames(max_segment_s)
        self._hold_n = frames(p.gate_hold_s)
        self._start_window_n = frames(p.start_window_s)
        self._start_voiced_n = frames(p.start_voiced_s)
        self._pre_roll_n = frames(p.pre_roll_s)
        self._hangover_n = frames(p.hangover_s)
        self._min_voiced_n = frames(p.min_voiced_s)
        self._search_n = frames(p.split_search_s)
        self._burst_gap_n = frames(p.burst_gap_s)
        self._vad = webrtcvad.Vad(p.vad_mode)
        self._carry = b""
        self._carry_decide = b""
        self._index = 0  # index of the next frame
        # Noise floor: energies of the last floor_window_s in arrival order, and the same sorted.
        self._energies: deque[float] = deque(maxlen=frames(p.floor_window_s))
        self._sorted: list[float] = []
        self._last_loud = -(10**9)  # frame index of the last frame above the gate level
        # The hold before the current run of loud frames, restored when the run turns out to be a
        # tone's onset (see `_gate`).
        self._loud_run = 0
        self._last_loud_before_run = self._last_loud
        # Idle: recent frames for the pre-roll and the start window.
        self._recent: deque[_Frame] = deque(maxlen=self._pre_roll_n + self._start_window_n)
        # In speech: the open segment's frames, the index of its first frame, its last voiced frame.
        self._segment: list[_Frame] | None = None
        self._seg_start = 0
        self._last_voiced = 0

    @property
    def position(self) -> float:
        """Audio-clock seconds of the whole frames fed so far."""
        return self._index * self._frame_s

    @property
    def in_speech(self) -> bool:
        """True while a segment is open."""
        return self._segment is not None

    @property
    def noise_floor_dbfs(self) -> float | None:
        """The current noise floor estimate, None before any frame."""
        return self._floor() if self._sorted else None

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
        energies = self._energies_dbfs(data[:used], n)
        tonal = self._tonal(dec[:used], n)
        out: list[CutSegment] = []
        fb = self._frame_bytes
        for k in range(n):
            frame = data[k * fb : (k + 1) * fb]
            energy = float(energies[k])
            gate = self._gate(energy, tonal=tonal[k])
            speech = self._vad.is_speech(dec[k * fb : (k + 1) * fb], self._rate)
            voiced = gate and bool(speech) and not tonal[k]
            over = energy - self._floor() if self._sorted else 0.0  # no floor yet: not loud
            self._step(_Frame(frame, voiced, energy, over), out)
            self._index += 1
        return out

    def flush(self) -> list[CutSegment]:
        """End of stream: close the open segment (if it qualifies) and drop partial frames."""
        self._carry = self._carry_decide = b""
        out: list[CutSegment] = []
        if self._segment is not None:
            end = min(self._last_voiced + self._hangover_n, self._index - 1)
            self._emit(end, CutReason.END_OF_STREAM, out)
            self._segment = None
        self._recent.clear()
        return out

    def _energies_dbfs(self, data: bytes, n: int) -> npt.NDArray[np.float32]:
        x = np.frombuffer(data, dtype="<i2").reshape(n, self._samples).astype(np.float32)
        power = np.einsum("ij,ij->i", x, x) / (self._samples * _FULL_SCALE_SQ)
        db: npt.NDArray[np.float32] = np.maximum(10.0 * np.log10(power + 1e-12), _SILENCE_DBFS)
        return db

    def _tonal(self, data: bytes, n: int) -> list[bool]:
        if self._p.tonal_ratio is None:
            return [False] * n
        x = np.frombuffer(data, dtype="<i2").reshape(n, self._samples).astype(np.float32)
        spec = np.abs(np.fft.rfft(x * np.hanning(self._samples).astype(np.float32), axis=1)) ** 2
        total = spec.sum(axis=1) + 1e-9
        peak = spec.argmax(axis=1)
        # ±2 bins is the main lobe of the Hann window: all of a pure tone's energy.
        idx = np.clip(peak[:, None] + np.arange(-2, 3), 0, spec.shape[1] - 1)
        share = np.take_along_axis(spec, idx, axis=1).sum(axis=1) / total
        return [bool(v) for v in share > self._p.tonal_ratio]

    def _floor(self) -> float:
        last = len(self._sorted) - 1
        low = self._sorted[int(_FLOOR_LOW_PERCENTILE / 100.0 * last)]
        if len(self._sorted) < (self._energies.maxlen or 0):
            # A history shorter than the window may be mostly speech (a stream that opens on a
            # word): the higher percentile only holds once the window has room for the pauses.
            return low
        return min(self._sorted[int(self._p.floor_percentile / 100.0 * last)],
                   low + self._p.floor_spread_db)  # fmt: skip

    def _gate(self, energy: float, *, tonal: bool = False) -> bool:
        """Update the noise floor with this frame; return whether the gate is open.

        A tone never holds the gate open, nor do the one or two frames of its onset (they hold
        part of the tone, too little for the tone test): webrtcvad's overhang after a beep would
        otherwise turn the room noise after it into speech.
        """
        if energy > self._p.digital_silence_dbfs:
            if len(self._energies) == self._energies.maxlen:
                del self._sorted[bisect.bisect_left(self._sorted, self._energies[0])]
            self._energies.append(energy)
            bisect.insort(self._sorted, energy)
        loud = bool(self._sorted) and energy >= self._floor() + self._p.gate_margin_db
        if tonal:
            if 0 < self._loud_run <= _TONE_ONSET_FRAMES:
                self._last_loud = self._last_loud_before_run
            self._loud_run = 0
            return False
        if loud:
            if self._loud_run == 0:
                self._last_loud_before_run = self._last_loud
            self._loud_run += 1
            self._last_loud = self._index
        else:
            self._loud_run = 0
        return self._index - self._last_loud <= self._hold_n

    def _step(self, frame: _Frame, out: list[CutSegment]) -> None:
        i = self._index
        segment = self._segment
        if segment is None:
            self._recent.append(frame)
            window = list(self._recent)[-self._start_window_n :]
            if sum(f.voiced for f in window) < self._start_voiced_n:
                return
            first_voiced = i - len(window) + 1 + next(k for k, f in enumerate(window) if f.voiced)
            oldest = i - len(self._recent) + 1
            self._seg_start = max(oldest, first_voiced - self._pre_roll_n)
            self._segment = list(self._recent)[self._seg_start - oldest :]
            self._last_voiced = i
            self._recent.clear()
            return
        segment.append(frame)
        if frame.voiced:
            self._last_voiced = i
        silent = i - self._last_voiced
        # At the maximum length during the silence after speech, the speech has already ended:
        # close it as at a pause instead of splitting in the silence.
        if silent >= self._pause_n or (len(segment) >= self._max_n and silent > self._hangover_n):
            end = self._last_voiced + self._hangover_n
            self._emit(end, CutReason.PAUSE, out)
            # The silence after the hangover may be the next segment's pre-roll.
            self._recent.extend(segment[max(0, end + 1 - self._seg_start) :])
            self._segment = None
        elif len(segment) >= self._max_n:
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
        self._emit(self._seg_start + cut, CutReason.MAX_LENGTH, out)
        self._segment = segment[cut + 1 :]
        self._seg_start += cut + 1

    def _emit(self, end: int, reason: CutReason, out: list[CutSegment]) -> None:
        """Emit the open segment's frames up to `end` (segment index), trimmed to its speech.

        Impulsive bursts (see `impulse_decay_db`) are dropped first, so a slam just before or after
        an utterance neither makes a segment nor stretches one; nothing is emitted when less than
        `min_voiced_s` of voiced audio is left.
        """
        assert self._segment is not None
        frames = self._segment[: max(0, end - self._seg_start + 1)]
        voiced = [k for burst in self._bursts(frames) if not self._is_impulse(frames, burst)
                  for k in burst]  # fmt: skip
        if len(voiced) < self._min_voiced_n:
            return
        lo = max(0, voiced[0] - self._pre_roll_n)
        hi = min(len(frames), voiced[-1] + 1 + self._hangover_n)
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

    def _bursts(self, frames: list[_Frame]) -> list[list[int]]:
        """Indices of voiced frames, grouped where `burst_gap_s` of non-voiced separates them."""
        bursts: list[list[int]] = []
        for k, f in enumerate(frames):
            if not f.voiced:
                continue
            if bursts and k - bursts[-1][-1] <= self._burst_gap_n:
                bursts[-1].append(k)
            else:
                bursts.append([k])
        return bursts

    def _is_impulse(self, frames: list[_Frame], burst: list[int]) -> bool:
        """Whether a burst is one decaying impulse (see `impulse_decay_db`)."""
        p = self._p
        if p.impulse_decay_db is None:
            return False
        span = frames[burst[0] : burst[-1] + 1]
        peak = max(range(len(span)), key=lambda k: span[k].energy)
        if peak > 1:
            return False
        low = span[peak].energy
        for f in span[peak + 1 :]:
            if f.energy > low + p.impulse_rise_db:
                return False  # rose again: a new syllable, not a ring-down
            low = min(low, f.energy)
        return span[peak].energy - low >= p.impulse_decay_db
