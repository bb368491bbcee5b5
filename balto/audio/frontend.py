"""The audio front end of one session: denoise to decide, segment the original. Pure, synchronous.

In: mono s16le PCM blocks. Out: `CutSegment`s holding the original audio (DESIGN §4c: decide on the
reduced signal, send the STT the original), each with its voice embedding (`balto.speaker`: made
here, where the audio is, ~1.3 ms CPU per audio-second). Raises what `Segmenter` raises.

`FrontEnd.feed` does all the CPU work of a block (noise reduction, FFT tone test, webrtcvad), ~1 ms
per 250 ms block; the VAD actor decides where it runs (see `actors.vad`). One `FrontEnd` must not
be fed from two threads at once.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field

from balto.audio.denoise import DenoiseParams, Denoiser
from balto.audio.segmenter import CutSegment, Segmenter, SegmenterParams
from balto.speaker import voice_of


@dataclass(slots=True)
class StageCpu:
    """Process-wide CPU totals of every front end, for `/metrics` and the capacity bench."""

    audio_s: float = 0.0
    denoise_s: float = 0.0
    vad_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, audio_s: float, denoise_s: float, vad_s: float) -> None:
        """Count one block (called from worker threads, hence the lock)."""
        with self.lock:
            self.audio_s += audio_s
            self.denoise_s += denoise_s
            self.vad_s += vad_s


STAGE_CPU = StageCpu()
"""Totals since the process started (thread CPU time, so other threads' work is not counted)."""


class FrontEnd:
    """Denoiser + segmenter for one stream, with its CPU time accounted per stage."""

    def __init__(
        self,
        sample_rate: int = 16_000,
        pause_s: float = 0.5,
        max_segment_s: float = 15.0,
        *,
        denoise: bool = True,
        denoise_params: DenoiseParams | None = None,
        segmenter_params: SegmenterParams | None = None,
        voices: bool = True,
    ) -> None:
        """Configure the stages (see `Segmenter` and `Denoiser` for the parameters).

        `voices`: embed each cut's voice here (False: the caller does, e.g. off its event loop,
        or nobody needs it: a cliente with no voiceprint). Settable between blocks (`voices`).
        """
        self.segmenter = Segmenter(sample_rate, pause_s, max_segment_s, params=segmenter_params)
        self.denoiser = Denoiser(sample_rate, denoise_params) if denoise else None
        self.denoise_cpu_s = 0.0
        """Thread CPU seconds spent reducing noise."""
        self.vad_cpu_s = 0.0
        """Thread CPU seconds spent in the segmenter (gate, tone test, webrtcvad)."""
        self.voice_cpu_s = 0.0
        """Thread CPU seconds spent on the cut segments' voice embeddings (`balto.speaker`)."""
        self.audio_s = 0.0
        """Seconds of audio fed."""
        self.sample_rate = sample_rate
        """The rate of the PCM fed."""
        self.voices = voices
        """Whether the cuts carry their voice embedding (read at each cut)."""

    def feed(self, pcm: bytes) -> list[CutSegment]:
        """Take the next block; return the segments that ended in it."""
        t0 = time.thread_time()
        decide = self.denoiser.process(pcm) if self.denoiser is not None else None
        t1 = time.thread_time()
        cuts = self._with_voices(self.segmenter.feed(pcm, decide=decide))
        t2 = time.thread_time()
        self.denoise_cpu_s += t1 - t0
        self.vad_cpu_s += t2 - t1
        self.audio_s += len(pcm) / 2 / self.sample_rate
        STAGE_CPU.add(len(pcm) / 2 / self.sample_rate, t1 - t0, t2 - t1)
        return cuts

    def describe(self) -> str:
        """CPU per audio second of each stage, for the actor's health detail."""
        per = 1000.0 / max(self.audio_s, 1e-9)
        denoise, vad = self.denoise_cpu_s * per, self.vad_cpu_s * per
        voice = self.voice_cpu_s * per
        return f"cpu ms per audio s: denoise {denoise:.1f}, vad {vad:.1f} (voice {voice:.1f})"

    def flush(self) -> list[CutSegment]:
        """End of stream: close an open segment."""
        return self._with_voices(self.segmenter.flush())

    def _with_voices(self, cuts: list[CutSegment]) -> list[CutSegment]:
        """The cuts with their voice embeddings (counted in the VAD's CPU, and apart)."""
        if not cuts or not self.voices:
            return cuts
        t0 = time.thread_time()
        out = [dataclasses.replace(c, voice=voice_of(c.pcm, self.sample_rate)) for c in cuts]
        self.voice_cpu_s += time.thread_time() - t0
        return out
