"""The denoiser's own STFT gate matches noisereduce's `spectral_gating_stationary`."""

from __future__ import annotations

import numpy as np

from balto.audio.denoise import Denoiser


def test_block_gate_matches_noisereduce() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(16_000 * 3) / 16_000
    noise = rng.normal(0, 300, len(t))
    tone = 3000 * np.sin(2 * np.pi * 220 * t) * (t > 1.5)  # loud in the second half
    pcm = np.clip(noise + tone, -32768, 32767).astype("<i2").tobytes()
    denoiser = Denoiser()
    compared = 0
    for at in range(0, len(pcm), 8000):  # 250 ms blocks, as the VAD feeds them
        block = pcm[at : at + 8000]
        out = np.frombuffer(denoiser.process(block), dtype="<i2").astype(np.int32)
        gate = denoiser._gate
        if gate is None:
            continue
        x = np.frombuffer(block, dtype="<i2").astype(np.float32)
        want = np.clip(np.round(gate.spectral_gating_stationary(x[None, :])[0]), -32768, 32767)
        assert np.abs(out - want.astype(np.int32)).max() <= 1  # float rounding only
        compared += 1
    assert compared >= 6
