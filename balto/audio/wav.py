"""Incremental WAV and raw-PCM readers that never let a stream slip by a byte.

In: the bytes of a WAV (RIFF/WAVE) or raw s16le stream, in frames of any size, split anywhere.
Out: s16le PCM containing whole sample frames only; a partial frame is carried to the next feed,
because one byte of misalignment turns the rest of a stream into full-scale noise (DESIGN §4c).
Raises: `AudioFormatError` for a stream that is not WAV, or a WAV encoding this module cannot read.

Supported WAV encodings: integer PCM of 8, 16, 24 or 32 bits and IEEE float of 32 or 64 bits,
plain or in WAVE_FORMAT_EXTENSIBLE. Every one is converted to s16le here (a few numpy operations per
feed), so what comes out is always s16le, interleaved, at the file's own rate and channel count
(see `WavFormat.ffmpeg_input_args` to resample it).
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

import numpy as np

from balto.audio.formats import AudioFormatError

_PCM = 0x0001
_FLOAT = 0x0003
_EXTENSIBLE = 0xFFFE
_SUPPORTED = {(_PCM, 8), (_PCM, 16), (_PCM, 24), (_PCM, 32), (_FLOAT, 32), (_FLOAT, 64)}
# A "fmt " chunk is 16, 18 or 40 bytes; anything far larger is not a WAV header, and refusing it
# keeps the parser's buffer bounded.
_MAX_FMT_BYTES = 1024
# What a header may announce. Past these it is damage or an attack, not audio: a rate of 1 Hz
# would have every byte resampled into 16,000 samples, 4 GHz overflowed the resampler.
_RATES = (4_000, 384_000)
_MAX_CHANNELS = 16
# 0 and 0xFFFFFFFF are what streaming writers put in a data size they do not know yet.
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)


@dataclass(frozen=True, slots=True)
class WavFormat:
    """The audio format announced by a WAV header.

    Attributes:
        sample_rate: Samples per second per channel.
        channels: Interleaved channels.
        bits_per_sample: Bits per sample in the file (the output is always 16).
        audio_format: 1 for integer PCM, 3 for IEEE float (WAVE_FORMAT_EXTENSIBLE is resolved to
            its sub-format).
    """

    sample_rate: int
    channels: int
    bits_per_sample: int
    audio_format: int

    @property
    def block_align(self) -> int:
        """Bytes per sample frame in the file (all channels)."""
        return self.channels * (self.bits_per_sample // 8)

    @property
    def is_mono_16k(self) -> bool:
        """True when the output needs no resampling or down-mixing for the pipeline."""
        return self.sample_rate == 16000 and self.channels == 1

    def ffmpeg_input_args(self) -> list[str]:
        """The ffmpeg input arguments for the parser's output (s16le at this rate and channels)."""
        return ["-f", "s16le", "-ar", str(self.sample_rate), "-ac", str(self.channels)]


class _State(enum.Enum):
    RIFF = enum.auto()  # expecting "RIFF" size "WAVE"
    CHUNK = enum.auto()  # expecting a chunk header: id, size
    FMT = enum.auto()  # reading the body of "fmt "
    SKIP = enum.auto()  # skipping a chunk we do not need (LIST, fact, …)
    DATA = enum.auto()  # inside "data"


class WavStreamParser:
    """Parse a WAV stream fed in arbitrary pieces; hand out s16le PCM of whole sample frames.

    The header may be split over any number of feeds and may hold other chunks (LIST, fact, …)
    before "data". A data size of 0 or 0xFFFFFFFF (a live writer that cannot seek back) means
    "until the end of the stream". After a data chunk of known size, a new "RIFF" header (devices
    that send every frame as a complete WAV file) is read and must announce the same format; bytes
    that are not a chunk at all are taken as more PCM, so a device that wrote the size of its first
    frame keeps working.
    """

    def __init__(self) -> None:
        """Start before the RIFF header."""
        self._buf = bytearray()
        self._state = _State.RIFF
        self._need = 0  # body bytes of the current "fmt " chunk, or bytes left to skip
        self._data_left: int | None = None  # None: the data chunk runs to the end of the stream
        self._pad = 0  # RIFF pads odd-sized chunks to an even length
        self._format: WavFormat | None = None

    @property
    def format(self) -> WavFormat | None:
        """The stream's format, once its "fmt " chunk has been read."""
        return self._format

    def feed(self, data: bytes) -> bytes:
        """Take the next bytes of the stream.

        Args:
            data: Any number of bytes, split anywhere.

        Returns:
            s16le PCM (interleaved) made of whole sample frames; possibly empty.

        Raises:
            AudioFormatError: The stream is not WAV, or its encoding is not supported.
        """
        self._buf += data
        out = bytearray()
        while self._step(out):
            pass
        return bytes(out)

    def _step(self, out: bytearray) -> bool:
        """Advance one state; False when more bytes are needed."""
        buf = self._buf
        match self._state:
            case _State.RIFF:
                if len(buf) < 12:
                    return False
                if buf[:4] != b"RIFF" or buf[8:12] != b"WAVE":
                    raise AudioFormatError("not a RIFF/WAVE stream")
                del buf[:12]
                self._state = _State.CHUNK
            case _State.CHUNK:
                return self._chunk_header()
            case _State.FMT:
                if len(buf) < self._need:
                    return False
                self._set_format(_parse_fmt(bytes(buf[: self._need])))
                del buf[: self._need]
                self._need, self._state = self._pad, _State.SKIP
            case _State.SKIP:
                if not buf and self._need:
                    return False
                n = min(self._need, len(buf))
                del buf[:n]
                self._need -= n
                if self._need == 0:
                    self._state = _State.CHUNK
            case _State.DATA:
                return self._data(out)
        return True

    def _chunk_header(self) -> bool:
        buf = self._buf
        if len(buf) >= 4 and buf[:4] == b"RIFF":
            self._state = _State.RIFF  # another complete WAV file follows
            return True
        if len(buf) >= 4 and not all(0x20 <= b <= 0x7E for b in buf[:4]):
            if self._format is None:
                raise AudioFormatError("malformed chunk id in the WAV header")
            # Chunk ids are printable ASCII: this is PCM past a data size the writer got wrong.
            self._state, self._data_left = _State.DATA, None
            return True
        if len(buf) < 8:
            return False
        chunk_id = bytes(buf[:4])
        (size,) = struct.unpack_from("<I", buf, 4)
        del buf[:8]
        self._pad = size & 1
        if chunk_id == b"fmt ":
            if not 16 <= size <= _MAX_FMT_BYTES:
                raise AudioFormatError(f"'fmt ' chunk of {size} bytes")
            self._need, self._state = size, _State.FMT
        elif chunk_id == b"data":
            if self._format is None:
                raise AudioFormatError("'data' chunk before 'fmt '")
            self._data_left = None if size in _UNKNOWN_SIZES else size
            self._state = _State.DATA
        else:
            self._need, self._state = size + self._pad, _State.SKIP
        return True

    def _data(self, out: bytearray) -> bool:
        fmt = self._format
        assert fmt is not None  # DATA is only entered once the format is known
        buf = self._buf
        avail = len(buf) if self._data_left is None else min(len(buf), self._data_left)
        whole = avail - avail % fmt.block_align
        if whole:
            out += _to_s16le(bytes(buf[:whole]), fmt)
            del buf[:whole]
        if self._data_left is None:
            return False
        self._data_left -= whole
        if self._data_left >= fmt.block_align:
            return False
        # The chunk is done; a partial frame at its very end cannot be played, so it is dropped.
        self._need, self._state = self._data_left + self._pad, _State.SKIP
        return True

    def _set_format(self, fmt: WavFormat) -> None:
        if self._format is not None and fmt != self._format:
            raise AudioFormatError(f"format changed mid-stream: {self._format} then {fmt}")
        self._format = fmt


def _parse_fmt(body: bytes) -> WavFormat:
    code, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
    if code == _EXTENSIBLE:
        if len(body) < 26:
            raise AudioFormatError("WAVE_FORMAT_EXTENSIBLE without its sub-format")
        (code,) = struct.unpack_from("<H", body, 24)  # the first two bytes of the sub-format GUID
    if (code, bits) not in _SUPPORTED:
        raise AudioFormatError(f"unsupported WAV encoding: format {code:#06x}, {bits} bits")
    if not (1 <= channels <= _MAX_CHANNELS and _RATES[0] <= rate <= _RATES[1]):
        raise AudioFormatError(f"WAV with {channels} channels at {rate} Hz")
    return WavFormat(sample_rate=rate, channels=channels, bits_per_sample=bits, audio_format=code)


def _to_s16le(raw: bytes, fmt: WavFormat) -> bytes:
    """Convert whole frames of `fmt` samples to s16le, keeping rate and channels."""
    bits = fmt.bits_per_sample
    if fmt.audio_format == _FLOAT:
        floats = np.frombuffer(raw, dtype="<f4" if bits == 32 else "<f8")
        return np.clip(floats * 32768.0, -32768.0, 32767.0).astype("<i2").tobytes()
    if bits == 16:
        return raw
    if bits == 8:  # 8-bit WAV is unsigned, centred on 128
        centred = np.frombuffer(raw, dtype=np.uint8).astype("<i2") - 128
        return (centred << 8).astype("<i2").tobytes()
    # 24 and 32 bits: keep the two most significant bytes of each little-endian sample.
    width = bits // 8
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, width)[:, width - 2 :].tobytes()


class PcmAligner:
    """Re-cut a raw PCM byte stream into whole sample frames, carrying any partial frame.

    Devices may send frames with an odd number of bytes; without this, a single odd frame would
    shift every later sample by one byte.
    """

    def __init__(self, frame_bytes: int = 2) -> None:
        """Align to `frame_bytes` (2 for mono s16le; channels × 2 for interleaved s16le).

        Raises:
            ValueError: `frame_bytes` is not positive.
        """
        if frame_bytes < 1:
            raise ValueError(f"frame_bytes must be positive, got {frame_bytes}")
        self._frame = frame_bytes
        self._carry = b""

    @property
    def pending(self) -> int:
        """Bytes held back until the rest of their sample frame arrives."""
        return len(self._carry)

    def feed(self, data: bytes) -> bytes:
        """Take the next bytes; return every whole sample frame available so far."""
        data = self._carry + data if self._carry else data
        cut = len(data) - len(data) % self._frame
        self._carry = data[cut:]
        return data[:cut]
