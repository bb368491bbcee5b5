"""A device that can break the WebSocket protocol: raw frames over a real TCP connection.

trio-websocket (like every well-behaved client) refuses to send a text frame that is not UTF-8,
so this one speaks the handshake through wsproto and writes frames it builds byte by byte.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Request, TextMessage

TEXT, BINARY = 0x1, 0x2


def frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked client frame carrying `payload` as is (RFC 6455 §5.2)."""
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        head = bytes([0x80 | opcode, 0x80 | size])
    elif size < 1 << 16:
        head = bytes([0x80 | opcode, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + size.to_bytes(8, "big")
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


@dataclass
class RawDevice:
    """An open WebSocket connection whose frames the test writes itself."""

    stream: trio.SocketStream
    ws: WSConnection

    async def send_text(self, text: str) -> None:
        """A well-formed text frame."""
        await self.stream.send_all(self.ws.send(TextMessage(data=text)))

    async def send_raw(self, data: bytes) -> None:
        """Bytes on the wire, as they are."""
        await self.stream.send_all(data)

    async def closed(self) -> tuple[int, str | None]:
        """Wait for the server's close frame (answering it); its code and reason.

        Raises `EOFError` when the connection ends without one.
        """
        while True:
            data = await self.stream.receive_some(65536)
            if not data:
                raise EOFError("the connection ended without a close frame")
            self.ws.receive_data(data)
            for event in self.ws.events():
                if isinstance(event, CloseConnection):
                    await self.stream.send_all(self.ws.send(event.response()))
                    return event.code, event.reason


async def open_raw_device(url: str) -> RawDevice:
    """Connect to the ``ws://`` `url` and complete the opening handshake."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    stream = await trio.open_tcp_stream(parts.hostname, parts.port)
    ws = WSConnection(ConnectionType.CLIENT)
    await stream.send_all(ws.send(Request(host=parts.netloc, target=parts.path)))
    while True:
        data = await stream.receive_some(65536)
        assert data, "the server closed during the handshake"
        ws.receive_data(data)
        if any(isinstance(event, AcceptConnection) for event in ws.events()):
            return RawDevice(stream, ws)
