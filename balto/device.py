"""The device simulator: streams a WebM/Opus, WAV or raw PCM file to ``/ws`` in real time.

Like a counter device it sends the handshake, then one binary frame per ``chunk_s`` of audio, each
sent when that stretch of audio would have been fully recorded, and collects what comes back.
"""

from __future__ import annotations

import json
import ssl
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from balto.audio.formats import AudioFormat, detect_format
from balto.audio.webm_timeline import chunk_by_time
from balto.errors import BaltoError

PCM_BYTES_PER_S = 32_000  # s16le 16 kHz mono


@dataclass(slots=True)
class DeviceRun:
    """What a simulated device saw: frames with their time since streaming began, and the close."""

    frames: list[tuple[float, dict[str, object]]] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str | None = None
    sent_bytes: int = 0
    started_at: float = 0.0  # trio clock when streaming began (audio time 0)


def _wav_chunks(data: bytes, chunk_s: float) -> list[tuple[float, bytes]]:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise BaltoError("not a RIFF/WAVE file")
    pos, byte_rate, data_at = 12, 0, -1
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if chunk_id == b"fmt ":
            byte_rate = struct.unpack("<I", data[pos + 16 : pos + 20])[0]
        if chunk_id == b"data":
            data_at = pos + 8
            break
        pos += 8 + size + (size & 1)
    if data_at < 0 or byte_rate <= 0:
        raise BaltoError("WAV without fmt/data chunks")
    return _even_chunks(data, data_at, byte_rate, chunk_s)


def _even_chunks(
    data: bytes, start: int, byte_rate: int, chunk_s: float
) -> list[tuple[float, bytes]]:
    step = max(2, int(byte_rate * chunk_s) // 2 * 2)
    chunks: list[tuple[float, bytes]] = []
    pos = start
    while pos < len(data):
        end = min(len(data), pos + step)
        chunks.append(((end - start) / byte_rate, data[0 if not chunks else pos : end]))
        pos = end
    return chunks


def plan_chunks(data: bytes, chunk_s: float = 0.25) -> list[tuple[float, bytes]]:
    """Split a file into (audio time at which the chunk is complete, bytes) pairs."""
    fmt = detect_format(data[:64])
    if fmt is AudioFormat.WEBM:
        return chunk_by_time(data, chunk_s)
    if fmt is AudioFormat.WAV:
        return _wav_chunks(data, chunk_s)
    if fmt is AudioFormat.PCM:
        return _even_chunks(data, 0, PCM_BYTES_PER_S, chunk_s)
    raise BaltoError(f"the simulator cannot pace {fmt.value} files")


async def stream_file(
    url: str,
    api_key: str,
    path: Path,
    *,
    chunk_s: float = 0.25,
    linger_s: float = 3.0,
    on_frame: Callable[[float, dict[str, object]], None] | None = None,
    cafile: Path | None = None,
    atendente: str | None = None,
    until: Callable[[DeviceRun], bool] | None = None,
) -> DeviceRun:
    """Stream `path` to `url` in real time; wait `linger_s` for late frames; close normally.

    With `until`, the wait ends as soon as ``until(run)`` holds after a frame arrives (the
    `linger_s` is then only a bound: a loaded machine's late answer is still waited for).

    For ``wss://`` URLs the server certificate is verified against the system's CAs, or only
    against `cafile` (PEM) when given, e.g. the self-signed certificate of a local deployment.
    With `atendente`, the ``{"comando": "atendente", "nome": …}`` frame follows the handshake, as
    a counter device does when its attendant signs in.
    """
    tls: ssl.SSLContext | None = None
    if cafile is not None:
        if not url.startswith("wss://"):
            raise BaltoError(f"a CA file only applies to wss:// URLs, not {url}")
        try:
            tls = ssl.create_default_context(cafile=cafile)
        except (OSError, ssl.SSLError) as exc:
            raise BaltoError(f"cannot load the CA file {cafile}: {exc}") from exc
    chunks = plan_chunks(await trio.Path(path).read_bytes(), chunk_s)
    run = DeviceRun()
    enough = trio.Event()
    async with open_websocket_url(url, tls, max_message_size=1 << 20) as ws:
        await ws.send_message(json.dumps({"api_key": api_key}))
        if atendente is not None:
            await ws.send_message(json.dumps({"comando": "atendente", "nome": atendente}))
        t0 = run.started_at = trio.current_time()

        async def read() -> None:
            try:
                while True:
                    message = await ws.get_message()
                    at = trio.current_time() - t0
                    frame = json.loads(message)
                    run.frames.append((at, frame))
                    if on_frame is not None:
                        on_frame(at, frame)
                    if until is not None and until(run):
                        enough.set()
            except ConnectionClosed as closed:
                if closed.reason is not None:
                    run.close_code, run.close_reason = closed.reason.code, closed.reason.reason

        async with trio.open_nursery() as nursery:
            nursery.start_soon(read)
            try:
                for end_at, chunk in chunks:
                    await trio.sleep_until(t0 + end_at)
                    await ws.send_message(chunk)
                    run.sent_bytes += len(chunk)
                if until is None:
                    await trio.sleep(linger_s)
                else:
                    with trio.move_on_after(linger_s):
                        await enough.wait()
            except ConnectionClosed:
                pass
            nursery.cancel_scope.cancel()
    if run.close_code is None and ws.closed is not None:  # we closed it ourselves
        run.close_code, run.close_reason = ws.closed.code, ws.closed.reason
    return run
