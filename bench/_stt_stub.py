"""A minimal ElevenLabs speech-to-text stand-in for the capacity bench: raw HTTP/1.1 on trio.

The test fake (`tests.fakes.elevenlabs`, a Quart app) stamps a request once Quart has parsed its
form, after whatever queue the bench process's own load builds; this stub stamps the moment the
request's first bytes are read (``time.monotonic()``), and also takes the kernel's receive stamp of
its first byte (``SO_TIMESTAMPNS``, moved onto the monotonic clock): on loopback, when the server
wrote it, whatever the wait of this process for a core before it could read. It
answers every ``POST`` with the single-channel 200 body (PROVIDERS.md §1.2), its text ending in
"Pedido <n>." (n: the request's index in `SttStub.requests`, so the bench finds in the stored
transcripts which session and segment each request was for), on a kept-alive
connection, and records the uploaded audio's duration to match requests to utterances: raw
16 kHz PCM (``file_format=pcm_s16le_16``, what Balto sends at that rate) by its part's length, a
WAV by its header. Only ``Content-Length`` bodies, as httpx sends a multipart upload.
"""

from __future__ import annotations

import json
import math
import socket
import struct
import time
from dataclasses import dataclass, field

import trio


def _response(n: int) -> bytes:
    """The single-channel 200 answer (PROVIDERS.md §1.2), its text tagged with request `n`."""
    body = json.dumps(
        {
            "language_code": "por",
            "language_probability": 0.98,
            "text": f"Estou com dor de cabeça. Pedido {n}.",
            "words": [],
            "transcription_id": f"stub-{n}",
        }
    ).encode()
    head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}"
    return head.encode() + b"\r\n\r\n" + body


# Linux's SO_TIMESTAMPNS (asm-generic/socket.h; the "old" timespec, 64-bit on 64-bit Linux):
# CPython does not export it.
SO_TIMESTAMPNS = 35


@dataclass(slots=True)
class SttStub:
    """Requests seen: (monotonic time of their first byte as read, seconds of audio) in order,
    and `kernel`: the same first byte's kernel receive time on the monotonic clock (NaN when the
    request's bytes came in a read with the previous one's)."""

    requests: list[tuple[float, float]] = field(default_factory=list)
    kernel: list[float] = field(default_factory=list)

    def clear(self) -> None:
        """Forget the requests seen so far (a new level)."""
        self.requests.clear()
        self.kernel.clear()

    def by_kernel(self) -> tuple[list[tuple[float, float]], int]:
        """`requests` with each time the kernel's receive stamp where there is one; and how many
        have none (their read time kept)."""
        stamped = [
            (read if math.isnan(k) else k, seconds)
            for (read, seconds), k in zip(self.requests, self.kernel, strict=True)
        ]
        return stamped, sum(math.isnan(k) for k in self.kernel)

    async def serve(self, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen on a loopback port (reported through `task_status`) until cancelled."""
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        task_status.started(listeners[0].socket.getsockname()[1])
        await trio.serve_listeners(self._connection, listeners)

    async def _connection(self, stream: trio.SocketStream) -> None:
        buf = bytearray()
        stream.socket.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        kernel = math.nan
        async with stream:
            while True:
                if not buf:
                    # One byte first: the stamp is that of the last buffer a read takes from.
                    data, kernel = await _first_byte(stream.socket)
                    if not data:
                        return
                    first = time.monotonic()
                    buf += data
                while b"\r\n\r\n" not in buf:
                    data = await stream.receive_some(65536)
                    if not data:
                        return
                    buf += data
                head, _, rest = bytes(buf).partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = bytearray(rest)
                while len(body) < length:
                    data = await stream.receive_some(65536)
                    if not data:
                        return
                    body += data
                buf = body[length:]
                self.requests.append((first, _audio_seconds(bytes(body[:length]))))
                self.kernel.append(kernel)
                await stream.send_all(_response(len(self.requests) - 1))
                if buf:
                    first, kernel = time.monotonic(), math.nan


async def _first_byte(sock: trio.socket.SocketType) -> tuple[bytes, float]:
    """Read one byte; return it and its kernel receive time on the monotonic clock (NaN if the
    kernel gave none)."""
    data, ancillary, _, _ = await sock.recvmsg(1, socket.CMSG_SPACE(16))
    offset = time.time() - time.monotonic()  # realtime − monotonic, read together
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(payload) >= 16:
            sec, nsec = struct.unpack("qq", payload[:16])
            return data, sec + nsec / 1e9 - offset
    return data, math.nan


def _audio_seconds(body: bytes) -> float:
    """Seconds of the audio inside a multipart body: raw 16 kHz s16le PCM, or a 16-bit WAV."""
    if b"pcm_s16le_16" in body:
        head = body.find(b"filename=")
        start = body.find(b"\r\n\r\n", head) + 4
        delimiter = b"\r\n" + body[: body.find(b"\r\n")]  # "--" + the boundary
        end = body.find(delimiter, start)
        return (end - start) / (2 * 16_000) if head >= 0 and end > start else 0.0
    return _wav_seconds(body)


def _wav_seconds(body: bytes) -> float:
    """Seconds of the 16-bit WAV inside a multipart body (0 when there is none)."""
    at = body.find(b"RIFF")
    if at < 0 or body[at + 8 : at + 12] != b"WAVE":
        return 0.0
    pos = at + 12
    rate, channels = 16_000, 1
    while pos + 8 <= len(body):
        chunk, size = body[pos : pos + 4], struct.unpack("<I", body[pos + 4 : pos + 8])[0]
        if chunk == b"fmt ":
            channels, rate = struct.unpack("<HI", body[pos + 10 : pos + 16])
        if chunk == b"data":
            return size / (2 * channels * rate)
        pos += 8 + size
    return 0.0
