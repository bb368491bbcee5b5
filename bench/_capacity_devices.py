"""The capacity bench's device process: N simulated counters streaming one clip in real time.

Reads a JSON job on stdin (``url``, ``keys``, ``clip``, ``chunk_s``, ``stagger_s``, ``linger_s``,
``first``: this process's index offset for the stagger), streams the clip from every key like
`balto.device.stream_file` (handshake, then each chunk when its audio would have been recorded)
and prints one JSON line: per device, the ``time.monotonic()`` (system-wide clock, comparable
with the bench's) just before each chunk was handed to the socket (``before``: trio writes at
once, so on loopback this is the chunk's arrival at the server) and just after ``send_all``
returned (``sent``: after the send's checkpoint, so later by whatever this process's other
devices ran meanwhile), and this process's CPU seconds.

Lean on purpose: the devices share the server's two cores, so every millisecond they spend is
taken from the server being measured. trio-websocket cost ~1 ms CPU per 250 ms chunk (41% of a
core at 100 devices); here each chunk's WebSocket frame is built and masked once for all devices
(RFC 6455 §5.3 asks for a fresh mask per frame to defeat proxy cache poisoning, which does not
arise on loopback) and a send is one ``send_all``. What the server sends is read and discarded.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from balto.device import plan_chunks  # noqa: E402

_MASK = os.urandom(4)


def _frame(opcode: int, payload: bytes) -> bytes:
    """One masked client frame (FIN set)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    mask = (_MASK * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(mask, "big")).to_bytes(n, "big")
    return head + _MASK + masked


async def _handshake(stream: trio.SocketStream, host: str, path: str) -> None:
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await stream.send_all(request.encode())
    reply = b""
    while b"\r\n\r\n" not in reply:
        data = await stream.receive_some(4096)
        if not data:
            raise ConnectionError("closed during the handshake")
        reply += data
    if not reply.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(reply.split(b"\r\n")[0].decode())


async def _device(
    job: dict,
    i: int,
    frames: list[tuple[float, bytes]],
    sent: list[list[float]],
    before: list[list[float]],
) -> None:
    await trio.sleep((job["first"] + i) * job["stagger_s"])
    times, befores = sent[i], before[i]
    url = urlsplit(job["url"])
    stream = await trio.open_tcp_stream(url.hostname or "127.0.0.1", url.port or 80)
    async with stream:
        await _handshake(stream, url.netloc, url.path)
        await stream.send_all(_frame(0x1, json.dumps({"api_key": job["keys"][i]}).encode()))
        t0 = trio.current_time()

        closed = trio.Event()

        async def drain() -> None:
            try:
                while await stream.receive_some(65536):
                    pass
            except trio.BrokenResourceError:
                pass
            closed.set()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(drain)
            try:
                for end_at, frame in frames:
                    await trio.sleep_until(t0 + end_at)
                    at = time.monotonic()
                    await stream.send_all(frame)
                    times.append(time.monotonic())
                    befores.append(at)
                await trio.sleep(job["linger_s"])
                await stream.send_all(_frame(0x8, struct.pack("!H", 1000)))
                with trio.move_on_after(5):  # the server's close frame, then its EOF
                    await closed.wait()
            except trio.BrokenResourceError:
                pass
            nursery.cancel_scope.cancel()


async def run_devices(
    base_url: str, keys: list[str], clip: Path, chunk_s: float, stagger_s: float, linger_s: float
) -> dict:
    """Run this script as a process of its own for `keys` (the bench's side); what it printed."""
    job = {
        "url": base_url.replace("http://", "ws://") + "/ws",
        "keys": keys,
        "clip": str(clip),
        "chunk_s": chunk_s,
        "stagger_s": stagger_s,
        "linger_s": linger_s,
        "first": 0,
    }
    done = await trio.run_process(
        [sys.executable, __file__], stdin=json.dumps(job).encode(), capture_stdout=True
    )
    out: dict = json.loads(done.stdout)
    return out


async def _main(job: dict) -> None:
    chunks = plan_chunks(await trio.Path(job["clip"]).read_bytes(), job["chunk_s"])
    frames = [(end_at, _frame(0x2, chunk)) for end_at, chunk in chunks]
    sent: list[list[float]] = [[] for _ in job["keys"]]
    before: list[list[float]] = [[] for _ in job["keys"]]
    async with trio.open_nursery() as nursery:
        for i in range(len(job["keys"])):
            nursery.start_soon(_device, job, i, frames, sent, before)
    out = {"sent": sent, "before": before, "cpu_s": time.process_time()}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    trio.run(_main, json.loads(sys.stdin.read()))
