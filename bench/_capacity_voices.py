"""The capacity bench's devices with an enrolled attendant (``bench/capacity.py --enroll``).

Why: with nobody enrolled a session makes no voice embedding after its first segment (its
`VoiceNeed`), so the plain bench does not see what speaker identification costs under load.
With ``--enroll`` every device's balcão belongs to one cliente (a chain with many counters) that
has one attendant enrolled, over the admin API, from ``tests/fixtures/speaker_enroll.webm``:
every segment of every session is then embedded in the front-end workers and scored in the
transcriber, as at a chain that enrolled its staff. The enrolled voice is not the clip's, so the
labels do not matter here, only the work.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import ADMIN

ENROLLMENT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "speaker_enroll.webm"


async def enrolled_cliente(base_url: str) -> str:
    """Register a cliente with one attendant whose voice is enrolled; its linking code."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        body = {"email": "bench@rede.com", "razao_social": "Rede Bench", "telefone": "11999998888"}
        made = await http.post("/cadastro/cliente", headers=ADMIN, json=body)
        made.raise_for_status()
        codigo = str(made.json()["codigo"])
        clientes = (await http.get("/admin/clientes", headers=ADMIN)).json()["items"]
        (cliente_id,) = [c["id"] for c in clientes if c["codigo"] == codigo]
        ana = await http.post(
            "/admin/atendentes",
            headers=ADMIN,
            json={"cliente_id": cliente_id, "nome": "Ana Bench", "consentimento": True},
        )
        ana.raise_for_status()
        voz = await http.put(
            f"/admin/atendentes/{ana.json()['id']}/voz",
            headers={**ADMIN, "Content-Type": "audio/webm"},
            content=ENROLLMENT.read_bytes(),
        )
        voz.raise_for_status()
        print(f"enrolled Ana Bench: {voz.json()['fala_s']} s of speech, {voz.json()['qualidade']}")
    return codigo


async def register_under(base_url: str, codigo: str, nome: str) -> tuple[str, str]:
    """Register a balcão of the cliente with linking code `codigo`: (api key, balcão id)."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        made = await http.post(
            "/cadastro/balcao", json={"nome_balcao": nome, "user_codigo": codigo}
        )
        made.raise_for_status()
        body = made.json()
    return body["api_key"], body["balcao_id"]
