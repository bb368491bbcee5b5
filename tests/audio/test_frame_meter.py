"""FrameMeter and the energy gate measure a chunk's frames at once as they did one at a time."""

from __future__ import annotations

import numpy as np

from balto.audio.frame_meter import SILENCE_DBFS, FrameMeter
from balto.audio.noise_gate import EnergyGate, NoiseFloor
from balto.audio.segmenter_params import SegmenterParams

SR = 16_000
SAMPLES = 480  # 30 ms
BAND = (9, 90)  # 300-3000 Hz at 30 ms


def _pcm(signal: np.ndarray) -> bytes:
    return bytes(np.clip(signal, -32768, 32767).astype("<i2").tobytes())


def _noise(seed: int, n: int, level: float = 2000.0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n * SAMPLES) * level


def _tone(n: int, freq: float = 2700.0) -> np.ndarray:
    return 12000.0 * np.sin(2 * np.pi * freq * np.arange(n * SAMPLES) / SR)


def test_tone_test_reads_decide_and_the_rest_reads_data() -> None:
    """With two signals, each measure comes from its own one (one FFT call holds both)."""
    n = 9
    data, decide = _pcm(_noise(1, n)), _pcm(_tone(n))
    meter = FrameMeter(SAMPLES, 0.95, BAND)
    both = meter.measure(data, n, decide)
    assert both.tonal == [True] * n
    assert both.tonal == meter.measure(decide, n).tonal
    alone = meter.measure(data, n)
    assert alone.tonal == [False] * n
    assert (both.energies, both.band) == (alone.energies, alone.band)
    assert all(b > SILENCE_DBFS for b in both.band)


def test_one_frame_is_measured_as_within_a_run() -> None:
    """A frame's measures do not depend on the frames measured with it."""
    n = 8
    signal = np.concatenate([_noise(2, 4), _tone(4, 440.0)])
    data, decide = _pcm(signal), _pcm(signal[::-1].copy())
    meter = FrameMeter(SAMPLES, 0.95, BAND)
    run = meter.measure(data, n, decide)
    fb = 2 * SAMPLES
    for k in range(n):
        one = meter.measure(data[k * fb : (k + 1) * fb], 1, decide[k * fb : (k + 1) * fb])
        assert (one.energies[0], one.tonal[0], one.band[0]) == (
            run.energies[k], run.tonal[k], run.band[k],
        )  # fmt: skip


def test_tests_turned_off() -> None:
    """No tone test: no tones; no band: the band is silence."""
    n = 3
    meter = FrameMeter(SAMPLES, None)
    got = meter.measure(_pcm(_tone(n)), n, _pcm(_tone(n)))
    assert got.tonal == [False] * n
    assert got.band == [SILENCE_DBFS] * n
    assert got.energies == FrameMeter(SAMPLES, 0.95, BAND).measure(_pcm(_tone(n)), n).energies


def test_tone_test_on_some_rows() -> None:
    """The rows tested get the flags a run over all frames gives, the rest False; band as ever."""
    n = 9
    signal = np.concatenate([_noise(5, 3), _tone(3, 1000.0), _noise(6, 3)])
    data, decide = _pcm(signal[::-1].copy()), _pcm(signal)
    meter = FrameMeter(SAMPLES, 0.95, BAND)
    for other in (decide, None):
        full = meter.measure(data, n, other)
        x = meter.frames(data, n)
        for rows in ([], [4], [0, 3, 4, 8], list(range(n))):
            tonal, band = meter.spectra(x, other, rows)
            assert tonal == [full.tonal[k] and k in rows for k in range(n)]
            assert band == full.band
    assert meter.measure(data, n, decide).tonal == [False] * 3 + [True] * 3 + [False] * 3


class _Reference:
    """The gate as it was, frame by frame: what running it over chunks must still say."""

    def __init__(self, p: SegmenterParams) -> None:
        self.floor = NoiseFloor(p, 0.03)
        self.last_loud = self.before_run = -(10**9)
        self.loud_run = 0

    def voiced(self, index: int, energy: float, speech: bool, tonal: bool) -> tuple[bool, bool]:
        self.floor.add(energy)
        floor = self.floor.level
        loud = floor is not None and energy >= floor + SegmenterParams().gate_margin_db
        if tonal:
            if 0 < self.loud_run <= 2:
                self.last_loud = self.before_run
            self.loud_run = 0
            return False, loud
        if loud:
            if self.loud_run == 0:
                self.before_run = self.last_loud
            self.loud_run += 1
            self.last_loud = index
        else:
            self.loud_run = 0
        return speech and index - self.last_loud <= 10, loud


def test_gate_over_chunks_and_tone_rows_match_frame_by_frame() -> None:
    """Chunks, and tone flags given only where `tone_rows` asks, change nothing the gate says."""
    p = SegmenterParams()
    rng = np.random.default_rng(3)
    total = 3000
    energies: list[float] = rng.normal(-60.0, 3.0, total).tolist()
    tonal = [False] * total
    for start in rng.integers(0, total - 12, 60):  # loud bursts, some of them tones
        length = int(rng.integers(1, 12))
        energies[start : start + length] = rng.normal(-30.0, 6.0, length).tolist()
        if rng.random() < 0.5:  # a tone, maybe after an onset edge of a frame or two
            onset = min(length, int(rng.integers(0, 3)))
            tonal[start + onset : start + length] = [True] * (length - onset)
    energies[100:110] = [-95.0] * 10  # digital silence: not learnt
    speech: list[bool] = (rng.random(total) < 0.5).tolist()
    ref = _Reference(p)
    expected = [ref.voiced(k, energies[k], speech[k], tonal[k]) for k in range(total)]
    gate = EnergyGate(p, 0.03, 10)
    got: list[tuple[bool, bool]] = []
    skipped = 0
    for k in range(0, total, 7):
        part = slice(k, k + 7)
        floors, loud = gate.learn(energies[part])
        rows = gate.tone_rows(k, loud, speech[part])
        skipped += len(loud) - len(rows)
        # Outside the rows, the opposite flag: it must not matter.
        flags = [t == (j in rows) for j, t in enumerate(tonal[part])]
        got += zip(gate.hold(k, loud, speech[part], flags), loud, strict=True)
        assert floors[-1] == ref.floor.level or k + 7 < total
    assert got == expected
    assert skipped > total // 4
    assert sum(v for v, _ in expected) > 100 and sum(tonal) > 50


def test_floor_sorted_on_read_is_the_same_floor() -> None:
    """A floor sorted when read says what one kept sorted says, at every point."""
    p = SegmenterParams()
    kept, lazy = NoiseFloor(p, 0.03), NoiseFloor(p, 0.03, sort_on_read=True)
    assert kept.level is None and lazy.level is None
    for value in np.random.default_rng(4).normal(-60.0, 10.0, 500):
        kept.add(float(value))
        lazy.add(float(value))
        assert kept.level == lazy.level
