"""Fuzz a running Balto through the device WebSocket and the HTTP query strings; print what broke.

Not a benchmark of speed: a robustness probe whose figure is the number of bad outcomes, which
must be 0. Run it against a server of your own (`balto demo` is the easiest: it prints the admin
secret; its log is the file to watch):

    .venv/bin/python -m balto demo > /tmp/demo.log 2>&1 &
    .venv/bin/python -m bench.fuzz_device --secret SECRET --log /tmp/demo.log [--mutations 40]

A bad outcome is a close code that means the server failed (1011, 4006), a connection that
breaks without a close code, an HTTP status >= 500, an HTTP request with no answer within 10 s,
or a traceback or ERROR line in the log.
Cases: odd handshakes; commands with wrong types, NUL and lone-surrogate escapes; WAV headers
with every field at an edge; bare magic bytes; WebM, Ogg and WAV streams with random bytes changed,
deleted and inserted (`--mutations` of each, seeded by `--seed`); raw WebSocket frames (random
opcodes, reserved bits, fragments, control frames, unmasked, lying lengths) written at once,
where a connection the server ends must end with a close frame; every admin query filter
with ``%00``; the JSON routes' bodies with each field of a valid body given a value of another
type, size or shape; ids in paths spelled every way (upper case, braces, ``urn:uuid:``); the
same as a chain's gestor, with its routes' bodies and the sign-in form (`bench._fuzz_gestor`).
Its first run (2026-12-06) found one frame that stopped the whole server.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import struct
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from tests.raw_device import frame, open_raw_device

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
SERVER_FAILED = (1011, 4006)
HTTP_ROUTES = [
    "/admin/history/alerts", "/admin/history/alertas", "/admin/history/conversas",
    "/admin/history/recommendations", "/admin/history/refusals", "/admin/history/segments",
    "/admin/history/refusals/summary", "/admin/painel/dados", "/admin/audit", "/admin/balcoes",
    "/admin/clientes", "/admin/atendentes", "/admin/cadastro/falhas", "/admin/totals",
    "/api/export/xlsx",
]  # fmt: skip
HTTP_PARAMS = [
    "aceita", "ate", "atendente", "balcao_id", "cliente_id", "cursor", "desde", "grao", "limit",
    "provider", "reason", "sem_feedback", "sinal", "tz", "formato", "falante", "loja_id", "acao",
    "ator", "q",
]  # fmt: skip
# the conversations' search: text PostgreSQL's tsquery parser would read as operators, if it saw it
SEARCH_VALUES = [
    "&", "|", "!", "!!", "(", ")", "()", ":*", "dor:*", "dor & cabeca", "dor | !febre", "'", "''",
    "\\", "<->", "dor <2> cabeca", "dor:A", "x" * 100, "😀", "ﬁ", "İstanbul", "ß", "a\u0301",
    "%", "_", "%25", "dor%", "--", "/*", ";", "1=1", "$$", "E'\\x00'", " ", "\u200b",
]  # fmt: skip


@dataclass
class Probe:
    """One server under test: where it is, its admin secret, its log, and the tally."""

    base: str
    secret: str
    log: Path | None
    bad: list[str] = field(default_factory=list)
    cases: int = 0

    def log_since(self, offset: int) -> list[str]:
        """The log's bad lines written after `offset`."""
        if self.log is None:
            return []
        with self.log.open("rb") as file:
            file.seek(offset)
            text = file.read().decode("utf-8", "replace")
        return [line for line in text.splitlines() if "Traceback" in line or " ERROR " in line]

    def log_size(self) -> int:
        """Where the log ends now."""
        return self.log.stat().st_size if self.log is not None else 0

    def judge(self, what: str, response: httpx.Response | None) -> None:
        """Count one HTTP case; a 5xx or no answer (None) is bad."""
        self.cases += 1
        if response is None or response.status_code >= 500:
            status = "no answer" if response is None else response.status_code
            self.bad.append(f"{what[:120]}: {status}")
            print("BAD", self.bad[-1], flush=True)


def register(probe: Probe) -> str:
    """A fresh cliente and balcão through the cadastro API; the balcão's key."""
    admin = {"Authorization": f"Bearer {probe.secret}"}
    cliente = {
        "email": f"fuzz{os.getpid()}@x.com",
        "razao_social": "Fuzz",
        "telefone": "11999998888",
    }
    codigo = httpx.post(probe.base + "/cadastro/cliente", headers=admin, json=cliente)
    codigo.raise_for_status()
    balcao = {"nome_balcao": "fuzz", "user_codigo": codigo.json()["codigo"]}
    created = httpx.post(probe.base + "/cadastro/balcao", json=balcao)
    created.raise_for_status()
    return str(created.json()["api_key"])


async def session(probe: Probe, name: str, first: str | bytes, frames: list[str | bytes]) -> None:
    """Send `first` then `frames`, wait for the server a moment, and judge what it did."""
    offset = probe.log_size()
    code: object = None
    url = probe.base.replace("http", "ws", 1) + "/ws"
    try:
        async with open_websocket_url(url, max_message_size=1 << 22) as ws:
            await ws.send_message(first)
            for data in frames:
                await ws.send_message(data)
                await trio.sleep(0.02)
            with trio.move_on_after(0.8):
                while True:
                    await ws.get_message()
    except ConnectionClosed as exc:
        code = exc.reason.code
    except Exception as exc:  # any other way the connection broke is a finding
        code = repr(exc)
    await trio.sleep(0.3)
    probe.cases += 1
    lines = probe.log_since(offset)
    if code in SERVER_FAILED or isinstance(code, str) or lines:
        probe.bad.append(f"{name}: close {code}; {lines[:3]}")
        print("BAD", probe.bad[-1], flush=True)


def wav_header(channels: int = 1, rate: int = 16_000, bits: int = 16, code: int = 1) -> bytes:
    """A streaming WAV header (unknown sizes) with these fields, clamped to their widths."""
    align = min(channels * bits // 8, 0xFFFF)
    fmt = struct.pack("<HHIIHH", code, channels, rate, min(rate * align, 0xFFFFFFFF), align, bits)
    head = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    return b"RIFF\xff\xff\xff\xff" + head + b"data\xff\xff\xff\xff"


def ogg_opus(pcm: bytes) -> bytes:
    """16 kHz mono s16le `pcm` as an Ogg/Opus stream at 48 kHz (ffmpeg's libopus)."""
    import subprocess

    import imageio_ffmpeg

    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error",
        "-f", "s16le", "-ar", "16000", "-ac", "1", "-i", "pipe:0",
        "-ar", "48000", "-c:a", "libopus", "-b:a", "32k", "-page_duration", "250000",
        "-f", "ogg", "pipe:1",
    ]  # fmt: skip
    return subprocess.run(cmd, input=pcm, capture_output=True, check=True).stdout


def mutate(data: bytes, rng: random.Random, header_only: bool) -> bytes:
    """`data` with 1-100 random bytes changed, runs deleted or junk inserted."""
    out = bytearray(data)
    reach = 600 if header_only else len(out)
    for _ in range(rng.choice([1, 2, 5, 20, 100])):
        pos = rng.randrange(min(reach, len(out)))
        roll = rng.random()
        if roll < 0.6:
            out[pos] = rng.randrange(256)
        elif roll < 0.8:
            del out[pos : pos + rng.randrange(1, 50)]
        else:
            out[pos:pos] = rng.randbytes(rng.randrange(1, 50))
    return bytes(out)


def pieces(data: bytes, rng: random.Random, most: int = 30) -> list[bytes]:
    """`data` cut at random sizes, as a device's chunks."""
    out, pos = [], 0
    while pos < len(data) and len(out) < most:
        size = rng.choice([1, 7, 100, 3000, 9000])
        out.append(data[pos : pos + size])
        pos += size
    return out


async def device_cases(probe: Probe, rng: random.Random, mutations: int) -> None:
    """Every device case (module docstring)."""
    key = register(probe)
    hello = json.dumps({"api_key": key})
    webm = (FIXTURES / "two_utterances.webm").read_bytes()
    wav = (FIXTURES / "two_utterances.wav").read_bytes()
    audio = [webm[i : i + 4000] for i in range(0, 12_000, 4000)]
    for i, first in enumerate(
        [json.dumps({"api_key": v}) for v in (5, None, [key], {"a": 1}, key + "\0", "bk_\ud800")]
        + ["null", "1e999999", "", "[" * 20 + "]" * 20, json.dumps([key])]
    ):
        await session(probe, f"handshake{i}", first, [])
    commands: list[dict[str, object]] = [
        {"comando": 1}, {"comando": "feedback", "id": 5, "aceita": True},
        {"comando": "feedback", "id": "urn:uuid:" + "0" * 32, "aceita": True},
        {"comando": "feedback", "id": "\0", "aceita": True},
        {"comando": "feedback", "id": "x" * 70_000},
        {"comando": "atendente", "nome": "Ana\0"}, {"comando": "atendente", "nome": "\ud800"},
        {"comando": "atendente", "nome": "😀" * 80}, {"comando": "atendente", "nome": 5},
        {"comando": "atendente", "nome": "\u202eAna"}, {"comando": "x" * 60_000},
        {"comando": "orientado"}, {"comando": "orientado", "id": 5},
        {"comando": "orientado", "id": "urn:uuid:" + "0" * 32},
        {"comando": "orientado", "id": "\0"},
        {"comando": "orientado", "id": ["x"]}, {"comando": "orientado", "id": "x" * 70_000},
        {"comando": "novo_atendimento"}, {"comando": "novo_atendimento", "id": ["x"] * 100},
        {"comando": "em_falta"}, {"comando": "em_falta", "id": 5},
        {"comando": "em_falta", "id": "urn:uuid:" + "0" * 32}, {"comando": "em_falta", "id": "\0"},
        {"comando": "em_falta", "id": "x" * 70_000},
    ]  # fmt: skip
    for i, command in enumerate(commands):
        text = json.dumps(command)
        await session(probe, f"command{i}", hello, [text, *audio, text])
    # the next customer, over and over: more boundaries than the session keeps, between chunks
    flood = [json.dumps({"comando": "novo_atendimento"})] * 100
    await session(probe, "next-customer-flood", hello, [*flood, *audio, *flood, *audio])
    pcm = wav[44 : 44 + 96_000]
    headers = [
        wav_header(channels=0), wav_header(rate=0), wav_header(rate=1), wav_header(rate=0xFFFFFFFF),
        wav_header(bits=8), wav_header(bits=24), wav_header(bits=32, code=3), wav_header(bits=0),
        wav_header(channels=65535), wav_header(channels=7, rate=96_000), wav_header(code=0xFFFE),
        b"RIFF", b"RIFF\0\0\0\0WAVE", b"RIFF\xff\xff\xff\xffWAVEfmt \xff\xff\xff\xff",
    ]  # fmt: skip
    for i, header in enumerate(headers):
        chunks = [pcm[j : j + 8000] for j in range(0, len(pcm), 8000)]
        await session(probe, f"wav-header{i}", hello, [header + chunks[0], *chunks[1:]])
    magic = [b"\0", b"\x1a\x45\xdf\xa3", b"OggS", b"OggS\0\x02" + rng.randbytes(200)]
    for i, raw in enumerate([*magic, webm.replace(b"A_OPUS", b"A_\0PU\x07", 1)]):
        await session(probe, f"magic{i}", hello, [raw, raw, rng.randbytes(3000)])
    for label, data in (("webm", webm), ("ogg", ogg_opus(wav[44:])), ("wav", wav)):
        for i in range(mutations):
            damaged = mutate(data, rng, header_only=i % 2 == 0)
            await session(probe, f"{label}-mutated{i}", hello, pieces(damaged, rng))


def raw_frame(rng: random.Random) -> bytes:
    """One random frame as a device could write it, well-formed or not."""
    roll = rng.random()
    if roll < 0.3:  # audio, sometimes an unfinished fragment
        first = (0x80 if rng.random() < 0.7 else 0) | 0x2
        return bytes([first]) + frame(0x2, rng.randbytes(rng.choice([0, 1, 100, 5000])))[1:]
    if roll < 0.5:  # close, ping, pong: payloads past the 125 bytes control frames may carry
        return frame(rng.choice([0x8, 0x9, 0xA]), rng.randbytes(rng.choice([0, 1, 2, 125, 126])))
    if roll < 0.65:  # a command cut in two fragments
        text = b'{"comando": "feedback", "id": "x", "aceita": true}'
        cut = rng.randrange(len(text))
        return bytes([0x01]) + frame(0x1, text[:cut])[1:] + frame(0x0, text[cut:])
    if roll < 0.8:  # reserved bits and opcodes
        return bytes([0x80 | rng.randrange(8) << 4 | rng.randrange(16)]) + frame(0x2, b"xy")[1:]
    if roll < 0.9:  # unmasked
        return bytes([0x82, 0x02]) + b"xy"
    return rng.randbytes(rng.randrange(1, 30))


async def raw_cases(probe: Probe, rng: random.Random, count: int) -> None:
    """Random frames written at once: the server keeps the connection or closes it properly."""
    hello = json.dumps({"api_key": register(probe)})
    url = probe.base.replace("http", "ws", 1) + "/ws"
    outcomes: Counter[object] = Counter()
    for i in range(count):
        offset = probe.log_size()
        device = await open_raw_device(url)
        outcome: object = "open"
        async with device.stream:
            if rng.random() < 0.8:
                await device.send_text(hello)
            await device.send_raw(b"".join(raw_frame(rng) for _ in range(rng.randrange(1, 8))))
            try:
                with trio.move_on_after(3):
                    outcome = (await device.closed())[0]
            except EOFError:
                outcome = "ended without a close frame"
            except (trio.BrokenResourceError, OSError):
                outcome = "reset"  # unread bytes at the server's close: the kernel's RST
        await trio.sleep(0.2)
        probe.cases += 1
        outcomes[outcome] += 1
        lines = probe.log_since(offset)
        if outcome in SERVER_FAILED or outcome == "ended without a close frame" or lines:
            probe.bad.append(f"raw{i}: {outcome}; {lines[:3]}")
            print("BAD", probe.bad[-1], flush=True)
    print("raw frames:", ", ".join(f"{k} × {n}" for k, n in outcomes.most_common()))


def http_cases(probe: Probe) -> None:
    """Every admin query filter with a NUL, a lone surrogate's UTF-8 and bad UTF-8."""
    admin = {"Authorization": f"Bearer {probe.secret}"}
    offset = probe.log_size()
    with httpx.Client(base_url=probe.base, timeout=10) as http:
        for route in HTTP_ROUTES:
            for param in HTTP_PARAMS:
                for value in ("%00", "a%00b", "%ED%A0%80", "%C3", "%FF%FE"):
                    response = http.get(f"{route}?{param}={value}", headers=admin)
                    probe.cases += 1
                    if response.status_code >= 500:
                        probe.bad.append(f"GET {route}?{param}={value}: {response.status_code}")
                        print("BAD", probe.bad[-1], flush=True)
        for value in SEARCH_VALUES:
            response = http.get("/admin/history/conversas", params={"q": value}, headers=admin)
            probe.cases += 1
            if response.status_code >= 500 or (
                response.status_code == 200 and not isinstance(response.json().get("items"), list)
            ):
                probe.bad.append(f"GET conversas?q={value[:40]!r}: {response.status_code}")
                print("BAD", probe.bad[-1], flush=True)
    # the counter's list of names, asked with odd keys (a real one among them, spelled oddly);
    # wrong ones are guesses at the admin secret, so from an address of their own
    key = register(probe)
    elsewhere = httpx.HTTPTransport(local_address=f"127.0.{random.randrange(1, 250)}.9")
    with httpx.Client(base_url=probe.base, timeout=10, transport=elsewhere) as http:
        for value in (
            "", "Bearer", "Bearer ", "Bearer bk_", f"Bearer {key}", f"Bearer  {key}",
            f"BEARER {key.upper()}", f"Bearer {key}\x00", "Bearer " + "bk_" + "é" * 300,
            f"Bearer {key}" + "a" * 5000, "Basic " + key, f"Bearer {key[:-1]}",
        ):  # fmt: skip
            try:
                response = http.get("/balcao/atendentes", headers={"Authorization": value})
            except (httpx.LocalProtocolError, UnicodeEncodeError):
                continue  # httpx refuses to send it: no case
            probe.judge(f"GET /balcao/atendentes {value[:40]!r}", response)
    if lines := probe.log_since(offset):
        probe.bad.append(f"HTTP cases logged {lines[:3]}")


def main() -> int:
    """Run the cases; exit 1 when anything broke."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8765")
    parser.add_argument("--secret", required=True, help="the server's ADMIN_SECRET")
    parser.add_argument("--log", type=Path, help="the server's log file, to find tracebacks in")
    parser.add_argument("--mutations", type=int, default=40, help="damaged streams of each kind")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    probe = Probe(args.url.rstrip("/"), args.secret, args.log)
    trio.run(device_cases, probe, random.Random(args.seed), args.mutations)
    trio.run(raw_cases, probe, random.Random(args.seed), 4 * args.mutations)
    http_cases(probe)
    # they import this module's Probe and lists
    from bench._fuzz_bodies import body_cases
    from bench._fuzz_gestor import gestor_cases

    body_cases(probe)

    gestor_cases(probe)
    print(f"{probe.cases} cases, {len(probe.bad)} bad")
    return 1 if probe.bad else 0


if __name__ == "__main__":
    sys.exit(main())
