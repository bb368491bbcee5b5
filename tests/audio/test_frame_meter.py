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


def test_gate_run_matches_frame_by_frame() -> None:
    """Running the gate over a chunk gives what running it over each frame gives."""
    p = SegmenterParams()
    rng = np.random.default_rng(3)
    energies: list[float] = rng.normal(-50.0, 8.0, 400).tolist()
    energies[100:110] = [-95.0] * 10  # digital silence: not learnt
    tonal: list[bool] = (rng.random(400) < 0.1).tolist()
    whole = EnergyGate(p, 0.03, 10).run(0, energies, tonal)
    gate = EnergyGate(p, 0.03, 10)
    opened: list[bool] = []
    loud: list[bool] = []
    floor: list[float | None] = []
    for k in range(0, 400, 7):
        got = gate.run(k, energies[k : k + 7], tonal[k : k + 7])
        opened, loud, floor = opened + got.open, loud + got.loud, floor + got.floor
    assert (whole.open, whole.loud, whole.floor) == (opened, loud, floor)
    assert any(whole.open) and not all(whole.open)


def test_floor_sorted_on_read_is_the_same_floor() -> None:
    """A floor sorted when read says what one kept sorted says, at every point."""
    p = SegmenterParams()
    kept, lazy = NoiseFloor(p, 0.03), NoiseFloor(p, 0.03, sort_on_read=True)
    assert kept.level is None and lazy.level is None
    for value in np.random.default_rng(4).normal(-60.0, 10.0, 500):
        kept.add(float(value))
        lazy.add(float(value))
        assert kept.level == lazy.level
