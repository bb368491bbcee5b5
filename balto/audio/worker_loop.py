"""A front-end worker process's loop: requests in, replies out, in order (`balto.audio.workers`).

In: ``(op, key, arg)`` tuples on a `multiprocessing.connection.Connection`: "open" (a `FrontEnd`'s
arguments), "feed_opus" (Opus runs to decode with the session's `OpusDecoder`, then feed), "feed"
(PCM), "flush", "close". Out: ``(True, result)`` per request, or ``(False, "Error: message")``
when it failed (the caller raises it in its session). Returns when the connection closes.
"""

from __future__ import annotations

from multiprocessing.connection import Connection
from typing import Any

from balto.audio.frontend import FrontEnd
from balto.audio.opus_decoder import OpusDecoder


def serve(conn: Connection) -> None:  # pragma: no cover - runs in the worker process
    """The worker's loop: one request in, one reply out, in order."""
    fronts: dict[int, FrontEnd] = {}
    decoders: dict[int, OpusDecoder] = {}
    while True:
        try:
            op, key, arg = conn.recv()
        except (EOFError, OSError):
            return
        try:
            out: Any = None
            if op == "feed_opus":  # first: the most frequent request with "feed"
                runs, head, first, voices = arg
                fronts[key].voices = voices
                decoder = decoders.get(key)
                if decoder is None:
                    decoder = decoders[key] = OpusDecoder(head, resume=not first)
                spent = decoder.cpu_s
                pcm = b"".join(bytes(2 * gap) + decoder.decode(list(p)) for gap, p in runs)
                out = (*_feed(fronts[key], pcm), decoder.cpu_s - spent, len(pcm) // 2)
            elif op == "open":
                fronts[key] = FrontEnd(*arg[0], **arg[1])
            elif op == "feed":
                pcm, fronts[key].voices = arg
                out = _feed(fronts[key], pcm)
            elif op == "flush":
                fronts[key].voices = arg
                out = fronts[key].flush()
            elif op == "close":
                fronts.pop(key, None)
                decoders.pop(key, None)
            conn.send((True, out))
        except Exception as exc:  # reported to the caller, who raises it in the session
            conn.send((False, f"{type(exc).__name__}: {exc}"))


def _feed(front: FrontEnd, pcm: bytes) -> tuple[Any, str, tuple[float, ...], float]:
    """`front.feed(pcm)`: cuts, description, (audio, denoise, VAD) s spent, `cut_after_s`."""
    before = (front.audio_s, front.denoise_cpu_s, front.vad_cpu_s)
    cuts = front.feed(pcm)
    after = (front.audio_s, front.denoise_cpu_s, front.vad_cpu_s)
    spent = tuple(b - a for a, b in zip(before, after, strict=True))
    return cuts, front.describe(), spent, front.segmenter.cut_after_s
