"""A 100,000-row export grows the server's memory by less than 200 MB (issue 6 acceptance).

The server runs as its own process, so its RSS is its own: the test reads ``/proc/<pid>/status``
(VmRSS before, VmHWM — the peak — after). Rows are inserted with ``generate_series``, each with
distinct texts (the worst case for openpyxl's shared-string table).
"""

from __future__ import annotations

import time
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import httpx

from tests.conftest import ADMIN, query
from tests.server_process import server_process

ROWS = 100_000
RSS_BUDGET = 200 * 1024 * 1024

_SEED = """
WITH c AS (
    INSERT INTO clientes (id, codigo, email, razao_social, telefone)
    VALUES (gen_random_uuid(), '123456', 'a@b.com', 'Rede Grande LTDA', '11999998888')
    RETURNING id
), b AS (
    INSERT INTO balcoes (id, cliente_id, nome_balcao, api_key_hash, api_key_hint)
    SELECT gen_random_uuid(), c.id, 'Balcão 1', '\\x00'::bytea, 'bk_xxxx' FROM c RETURNING id
)
INSERT INTO sessions (id, balcao_id) SELECT '00000000-0000-4000-8000-000000000001', b.id FROM b
"""
_SEGMENTS = """
INSERT INTO segments (id, session_id, seq, audio_start, audio_end, status, transcript, created_at,
                      transcribed_at, stt_provider)
SELECT gen_random_uuid(), '00000000-0000-4000-8000-000000000001', i, i, i + 1, 'transcribed',
       'o cliente pediu algo para dor de cabeça e febre, atendimento número ' || i || ' '
       || md5(i::text),
       t, t + interval '350 ms', 'elevenlabs'
FROM generate_series(1, %s) AS i,
     LATERAL (SELECT now() - interval '1 day' + i * interval '10 ms') AS x(t)
"""
_RECOMMENDATIONS = """
INSERT INTO recommendations (id, session_id, segment_id, produto, explicacao, transcricao_base,
                             source, created_at, sent_at, aceita)
SELECT gen_random_uuid(), session_id, id, 'Dipirona 500 mg ' || seq,
       'analgésico e antitérmico indicado para dor e febre ' || md5(seq::text), transcript,
       'catalog', transcribed_at, transcribed_at + interval '200 ms', seq %% 3 = 0
FROM segments
"""


def _status(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024
    return fields


async def test_a_100k_row_export_grows_rss_by_less_than_200_mb(
    database_url: str, tmp_path: Path
) -> None:
    async with server_process({"BALTO_DATABASE_URL": database_url}) as server:
        query(database_url, _SEED)
        query(database_url, _SEGMENTS, ROWS)
        query(database_url, _RECOMMENDATIONS)
        await server.runtime(gc=True)
        before = _status(server.process.pid)
        target = tmp_path / "export.xlsx"
        started = time.monotonic()
        async with (
            httpx.AsyncClient(base_url=server.base_url, timeout=600) as http,
            http.stream("GET", "/api/export/xlsx", headers=ADMIN) as response,
        ):
            assert response.status_code == 200
            with target.open("wb") as out:
                async for chunk in response.aiter_bytes():
                    out.write(chunk)
        elapsed = time.monotonic() - started
        after = _status(server.process.pid)
        rss_after_gc = (await server.runtime(gc=True))["rss_bytes"]
    peak_growth = after["VmHWM"] - before["VmRSS"]
    print(
        f"\n100k-row export: {elapsed:.1f} s, {target.stat().st_size / 1e6:.1f} MB file;"
        f" RSS before {before['VmRSS'] / 2**20:.0f} MiB, peak {after['VmHWM'] / 2**20:.0f} MiB"
        f" (+{peak_growth / 2**20:.0f} MiB), after gc {rss_after_gc / 2**20:.0f} MiB"
    )
    assert peak_growth < RSS_BUDGET, peak_growth
    with zipfile.ZipFile(target) as book:
        sheet = book.read(_sheet_path(book, "Interações"))
    assert sheet.count(b"</row>") == ROWS + 1  # header plus every segment


def _sheet_path(book: zipfile.ZipFile, name: str) -> str:
    """The part holding sheet `name` (the Resumo comes first; read the workbook's own map)."""
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    sheets = ElementTree.fromstring(book.read("xl/workbook.xml")).iter(f"{main}sheet")
    [rid] = [sheet.get(rel) for sheet in sheets if sheet.get("name") == name]
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    [target] = [r.get("Target", "") for r in rels if r.get("Id") == rid]
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
