"""Enrollment over the admin API: a recording in, a voiceprint stored (never the audio), clear
errors for every bad body, erasure, the voice's state in the attendants' list, and the voiceprint
gone with its attendant."""

from __future__ import annotations

import io
import uuid
import wave
from datetime import datetime
from typing import Any

import httpx
import numpy as np
import trio

from balto.speaker.enroll import decode
from tests.conftest import ADMIN, FIXTURES, query, start_server

ENROLL_WEBM = (FIXTURES / "speaker_enroll.webm").read_bytes()


def _wav(pcm: bytes, rate: int = 16_000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return out.getvalue()


def _noise(seconds: float, dbfs: float = -50.0) -> bytes:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(int(seconds * 16_000)) * 10 ** (dbfs / 20) * 32768
    return x.astype("<i2").tobytes()


async def _attendant(http: httpx.AsyncClient, nome: str) -> tuple[str, str]:
    body = {"email": "a@rede.com", "razao_social": "Rede", "telefone": "11999998888"}
    codigo = (await http.post("/cadastro/cliente", headers=ADMIN, json=body)).json()["codigo"]
    clientes = (await http.get("/admin/clientes", headers=ADMIN)).json()["items"]
    (cliente_id,) = [c["id"] for c in clientes if c["codigo"] == codigo]
    made = await http.post(
        "/admin/atendentes",
        headers=ADMIN,
        json={"cliente_id": cliente_id, "nome": nome, "consentimento": True},
    )
    return str(cliente_id), str(made.json()["id"])


async def _listed_voice(http: httpx.AsyncClient, cliente_id: str) -> dict[str, Any] | None:
    """The one attendant's ``voz`` as ``GET /admin/atendentes`` lists it."""
    listed = await http.get("/admin/atendentes", headers=ADMIN, params={"cliente_id": cliente_id})
    assert listed.status_code == 200
    (item,) = listed.json()["items"]
    voz: dict[str, Any] | None = item["voz"]
    return voz


async def _put(http: httpx.AsyncClient, who: str, body: bytes, kind: str) -> httpx.Response:
    headers = {**ADMIN, "Content-Type": kind}
    return await http.put(f"/admin/atendentes/{who}/voz", headers=headers, content=body)


async def test_a_wav_recording_enrolls_and_bad_bodies_get_clear_errors(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    speech = await trio.to_thread.run_sync(decode, ENROLL_WEBM, "matroska")
    async with httpx.AsyncClient(base_url=running.base_url, timeout=30) as http:
        _, ana = await _attendant(http, "Ana")
        cases = [
            (b"RIFF....", "audio/mp3", 415, "tipo_nao_suportado"),
            (b"", "audio/wav", 400, "corpo_vazio"),
            (b"\x1a\x45\xdf\xa3 not really webm" * 100, "audio/webm", 400, "audio_invalido"),
            (_wav(speech[: 2 * 16_000 * 8]), "audio/wav", 422, "audio_curto"),
            (_wav(_noise(20)), "audio/wav", 422, "sem_fala"),
            (_wav(speech + speech), "audio/wav", 413, "audio_longo"),
        ]
        for body, kind, status, code in cases:
            answer = await _put(http, ana, body, kind)
            assert answer.status_code == status, (code, answer.text)
            assert answer.json()["error"] == code
            assert answer.json()["message"]
        assert query(database_url, "SELECT count(*) FROM voiceprints") == [(0,)]
        assert (await _put(http, str(uuid.uuid4()), ENROLL_WEBM, "audio/webm")).status_code == 404
        assert (await _put(http, "nope", ENROLL_WEBM, "audio/webm")).status_code == 404
        wrong = {"Authorization": "Bearer wrong", "Content-Type": "audio/webm"}
        unauthorised = await http.put(f"/admin/atendentes/{ana}/voz", headers=wrong, content=b"x")
        assert unauthorised.status_code == 401
        assert (await http.delete(f"/admin/atendentes/{ana}/voz")).status_code == 401

        made = await _put(http, ana, _wav(speech), "audio/wav;codecs=1")
        assert made.status_code == 200, made.text
        body = made.json()
        assert body["id"] == ana and body["qualidade"] == "boa" and body["mensagem"]
        assert 25 < body["fala_s"] <= body["duracao_s"] < 40
        # a second recording replaces the first
        assert (await _put(http, ana, ENROLL_WEBM, "audio/webm")).status_code == 200
        rows = query(database_url, "SELECT length(print), model, verdict FROM voiceprints")
        assert rows == [(336, "mfcc-f0-v1", "boa")]
        audit = query(database_url, "SELECT action FROM admin_audit ORDER BY at")
        assert [a for (a,) in audit if "voz" in a] == ["enroll_voz", "enroll_voz"]


async def test_voiceprints_are_erased_on_request_and_with_their_attendant(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url)
    async with httpx.AsyncClient(base_url=running.base_url, timeout=30) as http:
        cliente, ana = await _attendant(http, "Ana")
        assert (await http.delete(f"/admin/atendentes/{ana}/voz", headers=ADMIN)).status_code == 404
        assert await _listed_voice(http, cliente) is None
        assert (await _put(http, ana, ENROLL_WEBM, "audio/webm")).status_code == 200
        voz = await _listed_voice(http, cliente)
        assert voz is not None and set(voz) == {
            "fala_s", "qualidade", "modelo", "cadastrada_em", "atual"
        }  # fmt: skip
        assert voz["qualidade"] == "boa" and 25 < voz["fala_s"] < 40 and voz["atual"] is True
        assert datetime.fromisoformat(voz["cadastrada_em"]).tzinfo is not None
        # a voiceprint of an older model is skipped by sessions: the admin is told to record again
        query(database_url, "UPDATE voiceprints SET model = 'mfcc-v0'")
        assert (await _listed_voice(http, cliente)) == {**voz, "modelo": "mfcc-v0", "atual": False}
        assert (await _put(http, ana, ENROLL_WEBM, "audio/webm")).status_code == 200
        epochs = query(database_url, "SELECT epoch FROM voiceprint_epochs")
        assert (await http.delete(f"/admin/atendentes/{ana}/voz", headers=ADMIN)).status_code == 204
        assert query(database_url, "SELECT count(*) FROM voiceprints") == [(0,)]
        assert await _listed_voice(http, cliente) is None
        assert query(database_url, "SELECT epoch FROM voiceprint_epochs") == [(epochs[0][0] + 1,)]

        assert (await _put(http, ana, ENROLL_WEBM, "audio/webm")).status_code == 200
        assert (await http.delete(f"/admin/atendentes/{ana}", headers=ADMIN)).status_code == 204
        assert query(database_url, "SELECT count(*) FROM voiceprints") == [(0,)]
        # a removed attendant cannot be enrolled again
        assert (await _put(http, ana, ENROLL_WEBM, "audio/webm")).status_code == 404
        assert cliente
