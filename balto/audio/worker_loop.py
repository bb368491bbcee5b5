"""A front-end worker process's loop: requests in, replies out, the ones that can cut first.

In: ``(seq, op, key, arg)`` tuples on a `multiprocessing.connection.Connection`, ``seq`` counting
up from 0: "open" (a `FrontEnd`'s arguments), "feed_opus" (Opus runs to decode with the session's
`OpusDecoder`, then feed), "feed" (PCM), "flush", "close", "embed" (a cut segment's voice
embedding: `balto.speaker.voice_of`, with its thread CPU). Out: ``(seq, True, result)`` per
request, or ``(seq, False, "Error: message")`` when it failed (the caller raises it in its
session). Returns when the connection closes.

Why not in order: a worker carries ~100 sessions whose requests arrive in bursts (a scheduler
pass of the server's at a time), so in order a request waited behind everything sent before it
(capacity bench at N = 200: 12 ms at the median, 45 ms at p99, for ~1.4 ms of work). Only a
request that can end a segment is waited for by anyone downstream (its cut goes to the STT; the
others return nothing): those whose audio reaches the session's `Segmenter.cut_after_s`, and
"flush". So each time it picks, the worker reads every request already on its socket and serves
the oldest of those first; the rest in arrival order. A request never overtakes an earlier one of
its own session (it is not urgent while one is waiting), and one that has waited `_MAX_PASSED_S`
is served next whatever else is waiting, so no session starves.
"""

from __future__ import annotations

import gc
import time
from collections import deque
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

from balto.audio.frontend import FrontEnd
from balto.audio.opus_decoder import OpusDecoder
from balto.speaker import voice_of

# A request passed over this long goes next: urgent ones are ~10% of a worker's requests, so this
# only bounds the unlikely case of a stream of them.
_MAX_PASSED_S = 0.2
# The collector as the server sets it (`supervisors.root`): what the worker imported (numpy,
# scipy, webrtcvad, ...) frozen out of its walk, a young collection every 10,000 net allocations,
# a full one rarely. With CPython's defaults a worker carrying 100 sessions made a full
# collection every ~50 s of their audio that stalled all of them 45-100 ms; with these, young
# collections of ~5 ms (`bench/worker_gc.py`).
_GC_THRESHOLDS = (10_000, 10, 100)


class Request(NamedTuple):
    """One request as the worker received it."""

    seq: int
    op: str
    key: int
    arg: Any
    received: float
    urgent: bool


class Backlog:
    """The requests received and not served yet, and which to serve next."""

    def __init__(self, fronts: dict[int, FrontEnd]) -> None:
        """`fronts`: the worker's front ends, whose segmenters say which requests can cut."""
        self._fronts = fronts
        self._waiting: deque[Request] = deque()

    def __len__(self) -> int:
        return len(self._waiting)

    def add(self, seq: int, op: str, key: int, arg: Any) -> None:
        """Take a request received now."""
        # An embedding waits for nobody's cut: it holds back none of its session's requests.
        blocked = any(r.key == key and r.op != "embed" for r in self._waiting)
        urgent = not blocked and self._can_cut(op, key, arg)
        self._waiting.append(Request(seq, op, key, arg, time.monotonic(), urgent))

    def take(self) -> Request:
        """The next request to serve: the oldest urgent one, unless the oldest has waited long."""
        waiting = self._waiting
        oldest = waiting[0]
        if not oldest.urgent and time.monotonic() - oldest.received < _MAX_PASSED_S:
            for i, request in enumerate(waiting):
                if request.urgent:
                    del waiting[i]
                    return request
        return waiting.popleft()

    def _can_cut(self, op: str, key: int, arg: Any) -> bool:
        if op == "flush":
            return True
        front = self._fronts.get(key)
        try:
            if front is None:
                return False
            if op == "feed_opus":
                seconds = float(arg[4])
            elif op == "feed":
                seconds = len(arg[0]) / (2 * front.sample_rate)
            else:
                return False
        except (IndexError, TypeError, ValueError):  # `answer` reports what is malformed
            return False
        return seconds >= front.segmenter.cut_after_s


def run_worker(conn: Connection) -> None:  # pragma: no cover - runs in the worker process
    """A worker process's entry: the collector set for a long-lived process, then `serve`."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)
    serve(conn)


def serve(conn: Connection) -> None:
    """The worker's loop: every request answered once, the ones that can cut first."""
    fronts: dict[int, FrontEnd] = {}
    decoders: dict[int, OpusDecoder] = {}
    backlog = Backlog(fronts)
    while True:
        try:
            if not len(backlog):
                backlog.add(*conn.recv())
            while conn.poll(0):  # everything already sent, to pick among
                backlog.add(*conn.recv())
        except (EOFError, OSError):
            return
        conn.send(answer(backlog.take(), fronts, decoders))


def answer(
    request: Request, fronts: dict[int, FrontEnd], decoders: dict[int, OpusDecoder]
) -> tuple[int, bool, Any]:
    """Serve one request: ``(seq, True, result)``, or ``(seq, False, why)`` when it failed."""
    op, key, arg = request.op, request.key, request.arg
    try:
        out: Any = None
        if op == "feed_opus":  # first: the most frequent request with "feed"
            runs, head, first, voices, _ = arg
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
        elif op == "embed":
            pcm, rate = arg
            spent = time.thread_time()
            voice = voice_of(pcm, rate)
            out = (voice, time.thread_time() - spent)
        elif op == "close":
            fronts.pop(key, None)
            decoders.pop(key, None)
        return request.seq, True, out
    except Exception as exc:  # reported to the caller, who raises it in the session
        return request.seq, False, f"{type(exc).__name__}: {exc}"


def _feed(front: FrontEnd, pcm: bytes) -> tuple[Any, str, tuple[float, ...]]:
    """`front.feed(pcm)`: its cuts, its description, and (audio, denoise, VAD) seconds spent."""
    before = (front.audio_s, front.denoise_cpu_s, front.vad_cpu_s)
    cuts = front.feed(pcm)
    after = (front.audio_s, front.denoise_cpu_s, front.vad_cpu_s)
    return cuts, front.describe(), tuple(b - a for a, b in zip(before, after, strict=True))
