"""Front ends in worker processes: the session's denoise + VAD off the server's GIL.

In: per session, the `FrontEnd` arguments, then PCM blocks. Out: the `CutSegment`s each block
closes, as `FrontEnd.feed` returns them. Raises `FrontEndWorkerError` when a worker died or
failed on a block (the VAD actor's supervisor restarts it; the pool starts a new worker).

Why: the front end is ~3 ms CPU per audio-second of numpy and webrtcvad work that holds the GIL,
and the server's one Trio thread also carries every WebSocket, link and provider call; at 100
sessions that thread is the bottleneck (`docs/BENCHMARKS.md`, Capacity), and threads cannot
spread GIL-bound work (DESIGN §4c). Each session's `FrontEnd` lives in one worker (its noise
profile and segmenter state stay there), chosen as the least loaded when the session starts.

Enabled by ``BALTO_VAD_WORKERS`` (`Settings.vad_workers`, handed to the VAD actor; 0: the front
end runs in the server process, as the tests run it). Workers are spawned on first use and live
as long as the server; they exit when the server's end of their pipe closes.

A round trip is shielded from cancellation: the reply must be read before the pipe serves the
next request, and it is bounded by one block's work (~1 ms).
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import trio

from balto.audio.frontend import STAGE_CPU, FrontEnd
from balto.audio.segmenter import CutSegment
from balto.errors import BaltoError


class FrontEndWorkerError(BaltoError):
    """A front-end worker process died or failed on a block."""


def _serve(conn: Connection) -> None:  # pragma: no cover - runs in the worker process
    """The worker's loop: one request in, one reply out, in order."""
    fronts: dict[int, FrontEnd] = {}
    while True:
        try:
            op, key, arg = conn.recv()
        except (EOFError, OSError):
            return
        try:
            out: Any = None
            if op == "open":
                fronts[key] = FrontEnd(*arg[0], **arg[1])
            elif op == "feed":
                front = fronts[key]
                before = (front.audio_s, front.denoise_cpu_s, front.vad_cpu_s)
                cuts = front.feed(arg)
                after = (front.audio_s, front.denoise_cpu_s, front.vad_cpu_s)
                spent = tuple(b - a for a, b in zip(before, after, strict=True))
                out = (cuts, front.describe(), spent)
            elif op == "flush":
                out = fronts[key].flush()
            elif op == "close":
                fronts.pop(key, None)
            conn.send((True, out))
        except Exception as exc:  # reported to the caller, who raises it in the session
            conn.send((False, f"{type(exc).__name__}: {exc}"))


class _Worker:
    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")  # no fork of a threaded Trio process
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child,), daemon=True, name="balto-vad")
        self.process.start()
        child.close()
        self.lock = trio.Lock()
        self.sessions = 0

    async def call(self, op: str, key: int, arg: object) -> Any:
        with trio.CancelScope(shield=True):
            async with self.lock:
                try:
                    self.conn.send((op, key, arg))
                    await trio.lowlevel.wait_readable(self.conn.fileno())
                    ok, out = self.conn.recv()
                except (EOFError, OSError) as exc:
                    raise FrontEndWorkerError(f"front-end worker died: {exc!r}") from exc
        if not ok:
            raise FrontEndWorkerError(f"front-end worker failed: {out}")
        return out

    @property
    def alive(self) -> bool:
        return self.process.is_alive()


@dataclass
class _Pool:
    size: int
    workers: list[_Worker]

    def pick(self) -> _Worker:
        self.workers = [w for w in self.workers if w.alive]
        while len(self.workers) < self.size:
            self.workers.append(_Worker())
        return min(self.workers, key=lambda w: w.sessions)


_pool: _Pool | None = None
_keys = itertools.count()


class RemoteFrontEnd:
    """A `FrontEnd` living in a worker process; the same calls, awaited."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Take `FrontEnd`'s arguments; `open` creates it in a worker."""
        self._args, self._kwargs = args, kwargs
        self._key = next(_keys)
        self._worker: _Worker | None = None
        self._detail = ""

    async def open(self, workers: int) -> None:
        """Create the front end in the least loaded of `workers` processes."""
        global _pool
        if _pool is None or _pool.size != workers:
            _pool = _Pool(workers, _pool.workers if _pool is not None else [])
        self._worker = _pool.pick()
        self._worker.sessions += 1
        await self._worker.call("open", self._key, (self._args, self._kwargs))

    async def feed(self, pcm: bytes) -> list[CutSegment]:
        """`FrontEnd.feed`, in the worker; its CPU is added to this process's `STAGE_CPU`."""
        assert self._worker is not None
        cuts, self._detail, (audio_s, denoise_s, vad_s) = await self._worker.call(
            "feed", self._key, pcm
        )
        STAGE_CPU.add(audio_s, denoise_s, vad_s)
        return list(cuts)

    async def flush(self) -> list[CutSegment]:
        """`FrontEnd.flush`, in the worker."""
        assert self._worker is not None
        return list(await self._worker.call("flush", self._key, None))

    async def close(self) -> None:
        """Drop the front end from its worker (nothing is raised if the worker is gone)."""
        worker, self._worker = self._worker, None
        if worker is None:
            return
        worker.sessions -= 1
        if worker.alive:
            with contextlib.suppress(FrontEndWorkerError):  # it died meanwhile: nothing to drop
                await worker.call("close", self._key, None)

    def describe(self) -> str:
        """The worker-side front end's CPU per stage, as of the last block."""
        return self._detail + " (worker process)"
