"""Audio in: container detection, WAV/PCM parsing, WebM structure, speech segmentation.

Everything here is synchronous and I/O-free, so actors can call it directly (or from a worker
thread) and tests need no event loop. Opus is decoded by libopus at 16 kHz (`libopus`, else
FFmpeg's decoder through PyAV: `opus_decoder`), which runs wherever it is called: the decoder actor
puts it in the front-end workers (`workers`).
"""

from balto.audio.formats import AudioFormat, AudioFormatError, detect_format, ffmpeg_input_args
from balto.audio.segmenter import CutReason, CutSegment, Segmenter, SegmenterParams
from balto.audio.wav import PcmAligner, WavFormat, WavStreamParser
from balto.audio.webm import WebmBlock, WebmCluster, WebmScanner
from balto.audio.webm_timeline import WebmTimeline, block_timeline, chunk_by_time, cluster_offsets

__all__ = [
    "AudioFormat",
    "AudioFormatError",
    "CutReason",
    "CutSegment",
    "PcmAligner",
    "Segmenter",
    "SegmenterParams",
    "WavFormat",
    "WavStreamParser",
    "WebmBlock",
    "WebmCluster",
    "WebmScanner",
    "WebmTimeline",
    "block_timeline",
    "chunk_by_time",
    "cluster_offsets",
    "detect_format",
    "ffmpeg_input_args",
]
