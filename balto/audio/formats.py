"""What a device stream is, from its first bytes, and how to tell ffmpeg without letting it probe.

In: the first bytes of a stream. Out: an `AudioFormat` and, for the containers ffmpeg decodes,
the arguments that force its input format (unforced, ffmpeg probes for 0.25-1.5 s before it emits
any PCM; forced, the first PCM comes 2-20 ms after the first chunk: DESIGN §4c).
Raises: `AudioFormatError` for a stream Balto cannot take (raised by the parsers in this package).
"""

from __future__ import annotations

import enum

from balto.errors import UndecodableAudio

# Magic numbers at the start of each container.
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_OGG_MAGIC = b"OggS"
_RIFF_MAGIC = b"RIFF"
_WAVE_MAGIC = b"WAVE"

# The longest prefix `detect_format` needs ("RIFF" + size + "WAVE").
DETECT_BYTES = 12


class AudioFormatError(UndecodableAudio):
    """The audio stream is malformed or in a format Balto does not support (permanent)."""


class AudioFormat(enum.StrEnum):
    """The container of a device stream."""

    WEBM = "webm"
    """WebM/Matroska (the browsers' MediaRecorder output; Opus inside). Decoded by ffmpeg."""
    OGG = "ogg"
    """Ogg (Opus or Vorbis inside). Decoded by ffmpeg."""
    WAV = "wav"
    """RIFF/WAVE. Parsed in Python by `balto.audio.wav.WavStreamParser`; no ffmpeg needed."""
    PCM = "pcm"
    """Anything else: taken as raw s16le, 16 kHz, mono."""


def detect_format(head: bytes) -> AudioFormat:
    """Tell the container from the first bytes of a stream.

    Args:
        head: The stream's first bytes; `DETECT_BYTES` (12) are enough for every format. With fewer,
            a WAV stream whose "WAVE" tag has not arrived yet is reported as `AudioFormat.PCM`,
            so callers should wait for 12 bytes when they can.

    Returns:
        The format; `AudioFormat.PCM` when nothing matches.
    """
    if head.startswith(_EBML_MAGIC):
        return AudioFormat.WEBM
    if head.startswith(_OGG_MAGIC):
        return AudioFormat.OGG
    if head.startswith(_RIFF_MAGIC) and head[8:12] == _WAVE_MAGIC:
        return AudioFormat.WAV
    return AudioFormat.PCM


def ffmpeg_input_args(fmt: AudioFormat) -> list[str]:
    """The ffmpeg arguments that force the input format, so ffmpeg does not probe.

    Both ``-f matroska`` and ``-f webm`` name the same demuxer ("matroska,webm") in the ffmpeg that
    imageio-ffmpeg ships (checked with n9.0.2); ``matroska`` also accepts Matroska that is not
    strictly WebM. WebM and Ogg streams also get the Opus decoder forced (``-c:a opus``): the device
    protocol carries Opus, and a stream claiming another codec is then refused (ffmpeg exits, no
    audio) instead of reaching one of the static build's many other decoders, which are attack
    surface for whoever holds a device key.

    Args:
        fmt: The stream's format.

    Returns:
        The arguments to put before ``-i``. For `AudioFormat.WAV` and `AudioFormat.PCM` (which
        need no ffmpeg) this describes raw s16le 16 kHz mono, the form `WavStreamParser` and
        `PcmAligner` hand on; a WAV at another rate or channel count needs
        ``["-f", "s16le", "-ar", rate, "-ac", channels]`` from its `WavFormat` instead.
    """
    match fmt:
        case AudioFormat.WEBM:
            return ["-f", "matroska", "-c:a", "opus"]
        case AudioFormat.OGG:
            return ["-f", "ogg", "-c:a", "opus"]
        case AudioFormat.WAV | AudioFormat.PCM:
            return ["-f", "s16le", "-ar", "16000", "-ac", "1"]
