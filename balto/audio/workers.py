"""Front ends in worker processes: the sessions' Opus decoding, denoise + VAD off the server's GIL.

In: per session, the `FrontEnd` arguments, then PCM blocks, or Opus packets (decoded in the worker
by the session's `balto.audio.opus_decoder.OpusDecoder`, then fed: one request per device chunk
for decoding, denoise and VAD). Out: the `CutSegment`s each block closes, as `FrontEnd.feed`
returns them. Raises `FrontEndWorkerError` when a worker died or failed on a block (the VAD actor's
supervisor restarts the actor, handing it the frame it was on; the pool replaces the worker).

Why workers: the front end is ~3-4 ms CPU per audio-second of numpy and webrtcvad work holding the
GIL, and the server's one Trio thread also carries every WebSocket, link and provider call; threads
cannot spread GIL-bound work (DESIGN §4c). Each session's `FrontEnd` lives in one worker (its noise
profile and segmenter state stay there), the least loaded when the session starts.

Why pipelined: requests are written as they come and a reader task per worker hands each reply to
its caller (each reply names its request: a worker serves the requests that can end a segment
before the others, `balto.audio.worker_loop`). A lock around each round trip made every request
wait for the previous reply to travel through the event loop: at 100 sessions (400 blocks a
second) a block waited 77 ms at the median and 600 ms at p99 for its turn, though the workers were
80% idle. A request goes into the socket as it is made (a send that never waits: a writer task
per worker takes what the socket would not, in one go), and the reader settles every whole reply
it received before cutting its buffer once: fewer wake-ups on the server's thread.

The pool belongs to the root (`open_front_end_pool`): its reader tasks live in the pool's nursery,
and closing it ends the workers (they exit when their socket closes). Messages use
`multiprocessing.connection`'s framing (a 4-byte big-endian length, then a pickle), so the worker
side is a plain `Connection`.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import socket
import struct
from collections.abc import AsyncIterator
from typing import Any

import trio

from balto.audio.frontend import STAGE_CPU
from balto.audio.opus_decoder import OPUS_CPU
from balto.audio.segmenter import CutSegment
from balto.audio.worker_loop import run_worker
from balto.errors import BaltoError

_HEADER = struct.Struct("!i")
_READ_SIZE = 1 << 16
_WRITE_SIZE = 1 << 16
# A worker that has not taken a request's bytes within this long is stuck: it is killed and
# replaced rather than left to hold the sessions that write to it (a write is a few µs normally).
_SEND_TIMEOUT_S = 5.0


class FrontEndWorkerError(BaltoError):
    """A front-end worker process died or failed on a block."""


class _Call:
    """One request's reply, handed over by the worker's reader task."""

    __slots__ = ("done", "error", "out")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.out: Any = None
        self.error: str | None = None

    def settle(self, out: Any = None, error: str | None = None) -> None:
        self.out, self.error = out, error
        self.done.set()


class _Worker:
    """One worker process, its socket, and the calls it has not answered yet (in order)."""

    def __init__(self, nursery: trio.Nursery) -> None:
        ctx = multiprocessing.get_context("spawn")  # no fork of a threaded Trio process
        parent, child = ctx.Pipe()  # duplex: a Unix socket pair
        self.process = ctx.Process(target=run_worker, args=(child,), daemon=True, name="balto-vad")
        self.process.start()
        child.close()
        sock = socket.socket(fileno=os.dup(parent.fileno()))
        parent.close()
        self._stream = trio.SocketStream(trio.socket.from_stdlib_socket(sock))
        self._sock = sock  # non-blocking now (Trio's): written directly when nothing waits
        self._writing = False  # the writer task holds bytes it has not written yet
        self._pending: dict[int, _Call] = {}  # by request number
        self._sent = 0  # requests numbered so far
        self._out: list[bytes] = []  # requests framed, not yet written
        self._queued = trio.Event()
        self.sessions = 0
        self.broken: str | None = None
        nursery.start_soon(self._read_replies)
        nursery.start_soon(self._write_requests)

    @property
    def pending(self) -> int:
        """Requests written and not yet answered."""
        return len(self._pending)

    async def call(self, op: str, key: int, arg: object, *, wait: bool = True) -> Any:
        """Send one request; with `wait`, return its reply (raise if the worker failed).

        The request is written at once when the socket takes it and nothing is waiting to be
        written before it; else (or what the socket did not take) it is queued, in order, for the
        worker's writer task. Either way nothing here waits, so a cancelled caller never leaves a
        request half written and a stuck worker holds no caller in a write. Why not always the
        writer task: it runs a scheduler pass later, one more pass of latency for every chunk
        (a few ms each under load, on the way to the STT).
        """
        if self.broken is not None:
            raise FrontEndWorkerError(self.broken)
        seq, self._sent = self._sent, self._sent + 1
        frame = pickle.dumps((seq, op, key, arg), protocol=pickle.HIGHEST_PROTOCOL)
        call = self._pending[seq] = _Call()
        data = _HEADER.pack(len(frame)) + frame
        if not self._out and not self._writing:
            try:
                data = data[self._sock.send(data) :]
            except BlockingIOError:
                pass
            except OSError as exc:
                self._fail(f"front-end worker stopped taking requests: {exc!r}")
        if data and self.broken is None:
            self._out.append(data)
            self._queued.set()
        if not wait:
            return None
        await call.done.wait()
        if call.error is not None:
            raise FrontEndWorkerError(call.error)
        return call.out

    async def _write_requests(self) -> None:
        """Write what `call` queued (the socket was full), in order, every request in one go."""
        try:
            while self.broken is None:
                await self._queued.wait()
                self._queued = trio.Event()
                if not self._out:
                    continue
                data, self._out = memoryview(b"".join(self._out)), []
                self._writing = True
                # The worker must keep taking bytes, not take a whole backlog within the limit.
                for at in range(0, len(data), _WRITE_SIZE):
                    with trio.fail_after(_SEND_TIMEOUT_S):
                        await self._stream.send_all(data[at : at + _WRITE_SIZE])
                self._writing = False
        except (trio.TooSlowError, trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            self._fail(f"front-end worker stopped taking requests: {exc!r}")
        except OSError as exc:
            self._fail(f"front-end worker stopped taking requests: {exc!r}")

    async def _read_replies(self) -> None:
        buf = bytearray()
        try:
            while self.broken is None:  # once broken, its calls are settled: nothing to read
                data = await self._stream.receive_some(_READ_SIZE)
                if not data:
                    raise EOFError("worker closed its socket")
                buf += data
                at, end = 0, len(buf)
                view = memoryview(buf)
                try:
                    # Every whole reply received, then one cut of the buffer (not one per reply).
                    while end - at >= _HEADER.size and self.broken is None:
                        (size,) = _HEADER.unpack_from(buf, at)
                        if end - at < _HEADER.size + size:
                            break
                        seq, ok, out = pickle.loads(
                            view[at + _HEADER.size : at + _HEADER.size + size]
                        )
                        at += _HEADER.size + size
                        call = self._pending.pop(seq)
                        if ok:
                            call.settle(out)
                        else:
                            call.settle(error=f"front-end worker failed: {out}")
                finally:
                    view.release()
                del buf[:at]
        except (EOFError, trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            self._fail(f"front-end worker died: {exc!r}")

    def _fail(self, reason: str) -> None:
        """Mark the worker broken, fail every unanswered call, and end the process."""
        if self.broken is None:
            self.broken = reason
        self._out = []
        self._queued.set()  # the writer task sees `broken` and ends
        pending, self._pending = self._pending, {}
        for call in pending.values():
            call.settle(error=self.broken)
        if self.process.is_alive():
            self.process.kill()

    def close(self) -> None:
        """End the worker (killed: its work is per session and those sessions are over)."""
        self._fail("front-end pool closed")
        with contextlib.suppress(OSError):
            self._stream.socket.close()
        self.process.join(timeout=1.0)  # reap it now (SIGKILLed: this returns at once)


class FrontEndPool:
    """Worker processes running sessions' front ends; a session keeps its worker."""

    def __init__(self, size: int, nursery: trio.Nursery) -> None:
        """`size` workers, started now; their reader tasks run in `nursery`."""
        self._nursery = nursery
        self._workers = [_Worker(nursery) for _ in range(size)]
        self._keys = 0

    def _pick(self) -> _Worker:
        """The least loaded healthy worker; broken ones are replaced first."""
        for i, worker in enumerate(self._workers):
            if worker.broken is not None or not worker.process.is_alive():
                worker.close()
                self._workers[i] = _Worker(self._nursery)
        return min(self._workers, key=lambda w: w.sessions)

    def snapshot(self) -> list[dict[str, int | str | None]]:
        """Per worker: pid, sessions, unanswered requests, why it is broken (admin runtime)."""
        return [
            {"pid": w.process.pid, "sessions": w.sessions, "pending": w.pending, "broken": w.broken}
            for w in self._workers
        ]

    async def open(self, *args: Any, **kwargs: Any) -> RemoteFrontEnd:
        """A `FrontEnd(*args, **kwargs)` in the least loaded worker."""
        self._keys += 1
        front = RemoteFrontEnd(self._pick(), self._keys)
        try:
            await front.start(args, kwargs)
        except BaseException:
            await front.close()  # the worker's session count goes back down
            raise
        return front

    def close(self) -> None:
        """End every worker."""
        for worker in self._workers:
            worker.close()


@contextlib.asynccontextmanager
async def open_front_end_pool(size: int) -> AsyncIterator[FrontEndPool | None]:
    """A pool of `size` workers for the server's lifetime; None when `size` is 0."""
    if size <= 0:
        yield None
        return
    async with trio.open_nursery() as nursery:
        pool = FrontEndPool(size, nursery)
        try:
            yield pool
        finally:
            pool.close()
            nursery.cancel_scope.cancel()


class RemoteFrontEnd:
    """A `FrontEnd` living in a worker process; the same calls, awaited."""

    def __init__(self, worker: _Worker, key: int) -> None:
        """Bind to `worker`; `start` creates the front end there (`FrontEndPool.open` does)."""
        self._worker: _Worker | None = worker
        self._key = key
        self._detail = ""
        self.voices = True
        """Whether the cuts carry their voice embedding (sent with each request)."""
        worker.sessions += 1

    async def start(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Create the front end in the worker."""
        await self._call("open", (args, kwargs))

    async def feed(self, pcm: bytes) -> list[CutSegment]:
        """`FrontEnd.feed`, in the worker; its CPU is added to this process's `STAGE_CPU`."""
        cuts, self._detail, (audio_s, denoise_s, vad_s) = await self._call(
            "feed", (pcm, self.voices)
        )
        STAGE_CPU.add(audio_s, denoise_s, vad_s)
        return list(cuts)

    async def feed_opus(
        self,
        runs: list[tuple[int, tuple[bytes, ...]]],
        head: bytes | None,
        first: bool,
        seconds: float,
    ) -> tuple[list[CutSegment], int]:
        """Decode Opus and feed the PCM to the front end, in one request to the worker.

        Args:
            runs: (samples of silence standing for lost audio, then packets), in stream order.
            head: The stream's OpusHead, for the decoder opened with the first request.
            first: The first run starts at the stream's first packet (else the decoder picks
                the stream up mid-way).
            seconds: The runs' audio (by their TOC bytes, silence included): the worker serves
                a request that can end a segment first.

        Returns:
            The segments cut, and the samples fed (silence and decoded audio).
        """
        cuts, self._detail, (audio_s, denoise_s, vad_s), decode_s, samples = await self._call(
            "feed_opus", (runs, head, first, self.voices, seconds)
        )
        STAGE_CPU.add(audio_s, denoise_s, vad_s)
        OPUS_CPU.add(audio_s, decode_s)
        return list(cuts), samples

    async def embed(self, pcm: bytes, rate: int) -> bytes | None:
        """A cut segment's voice embedding (`balto.speaker.voice_of`), made in the worker.

        Served after the requests that can cut a segment; its CPU counts in the VAD stage.
        """
        voice, spent = await self._call("embed", (pcm, rate))
        STAGE_CPU.add(0.0, 0.0, spent)
        return voice if isinstance(voice, bytes) else None

    async def flush(self) -> list[CutSegment]:
        """`FrontEnd.flush`, in the worker."""
        return list(await self._call("flush", self.voices))

    async def close(self) -> None:
        """Drop the front end from its worker without waiting (nothing is raised)."""
        worker, self._worker = self._worker, None
        if worker is None:
            return
        worker.sessions -= 1
        with contextlib.suppress(FrontEndWorkerError):  # a dead worker holds nothing to drop
            await worker.call("close", self._key, None, wait=False)

    async def _call(self, op: str, arg: object) -> Any:
        if self._worker is None:
            raise FrontEndWorkerError("front end closed")
        return await self._worker.call(op, self._key, arg)

    def describe(self) -> str:
        """The worker-side front end's CPU per stage, as of the last block."""
        return self._detail + " (worker process)"
