"""libopus itself, through ctypes: Opus packets decoded straight to 16 kHz mono s16le.

In: Opus packets of one stream (mono or stereo, channel mapping family 0), in order. Out: 16 kHz
mono s16le; libopus decodes at the rate asked for (SILK natively, CELT by synthesising only the
bands under 8 kHz) and mixes stereo down itself, so there is no 48 kHz signal and no resampler.
Raises nothing for a damaged packet: it is skipped and counted, as FFmpeg's decoder skips it.

Why (docs/BENCHMARKS.md, "Front-end CPU"): on the capacity bench's stream this costs ~1.0 ms CPU
per audio-second against ~1.9 for FFmpeg's native decoder at 48 kHz plus its resampler through
PyAV. The library is the one PyAV's wheel carries (``av.libs/libopus-*.so``: FFmpeg's ``libopus``
decoder uses it, so it is always there on Linux), else the system's; without either,
`find_libopus` returns None and `balto.audio.opus_decoder` decodes with PyAV as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
import weakref
from functools import cache

import av

RATE = 16_000
_MAX_FRAME = RATE * 120 // 1000  # samples in Opus's longest packet (120 ms) at 16 kHz
_OPUS_SET_GAIN_REQUEST = 4034  # opus_defines.h


@cache
def find_libopus() -> ctypes.CDLL | None:
    """PyAV's bundled libopus, else the system's; None when neither loads."""
    bundled = os.path.join(os.path.dirname(av.__file__), os.pardir, "av.libs", "libopus-*.so*")
    candidates = sorted(glob.glob(bundled))
    if (system := ctypes.util.find_library("opus")) is not None:
        candidates.append(system)
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)
            lib.opus_decoder_create.restype = ctypes.c_void_p
            lib.opus_decoder_create.argtypes = [
                ctypes.c_int32,
                ctypes.c_int,
                ctypes.POINTER(ctypes.c_int),
            ]
            lib.opus_decode.restype = ctypes.c_int
            lib.opus_decode.argtypes = [
                ctypes.c_void_p,
                ctypes.c_char_p,
                ctypes.c_int32,
                ctypes.c_void_p,
                ctypes.c_int,
                ctypes.c_int,
            ]
            lib.opus_decoder_destroy.restype = None
            lib.opus_decoder_destroy.argtypes = [ctypes.c_void_p]
            lib.opus_decoder_ctl.restype = ctypes.c_int
        except (OSError, AttributeError):
            continue
        return lib
    return None


class LibopusDecoder:
    """One stream's libopus decoder at 16 kHz mono (see the module docstring)."""

    def __init__(self, lib: ctypes.CDLL, pre_skip: int, gain_q8: int) -> None:
        """Open the decoder.

        Args:
            lib: `find_libopus()`'s library.
            pre_skip: Samples at 48 kHz to drop from the start (the OpusHead's; 0 to keep all).
            gain_q8: The OpusHead's output gain, dB in Q7.8 (RFC 7845 §5.1).

        Raises:
            OSError: libopus refused to create the decoder.
        """
        error = ctypes.c_int(0)
        handle = lib.opus_decoder_create(RATE, 1, ctypes.byref(error))
        if not handle or error.value != 0:
            raise OSError(f"opus_decoder_create failed ({error.value})")
        self._finalizer = weakref.finalize(self, lib.opus_decoder_destroy, handle)
        if gain_q8:
            lib.opus_decoder_ctl(ctypes.c_void_p(handle), _OPUS_SET_GAIN_REQUEST, gain_q8)
        self._lib, self._handle = lib, handle
        self._skip = pre_skip * RATE // 48_000
        self._buf = ctypes.create_string_buffer(2 * _MAX_FRAME)
        self.bad_packets = 0
        """Packets libopus refused (damaged), skipped."""

    def decode(self, packets: list[bytes]) -> bytes:
        """Decode packets in stream order; return their PCM (no samples are held back)."""
        decode, handle, buf = self._lib.opus_decode, self._handle, self._buf
        at, string_at = ctypes.addressof(buf), ctypes.string_at
        out: list[bytes] = []
        for data in packets:
            # An empty packet would be taken for a lost one (concealed): skip it as FFmpeg does.
            n = decode(handle, data, len(data), buf, _MAX_FRAME, 0) if data else -1
            if n < 0:
                self.bad_packets += 1
                continue
            out.append(string_at(at, 2 * n))
        pcm = b"".join(out)
        if self._skip:
            dropped = min(self._skip, len(pcm) // 2)
            self._skip -= dropped
            pcm = pcm[2 * dropped :]
        return pcm
