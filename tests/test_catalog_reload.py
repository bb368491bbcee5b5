"""A live session picks up its cliente's new catalog at the next utterance (real PostgreSQL,
the real advisor actor and catalog source; the catalog is replaced between two utterances)."""

from __future__ import annotations

import uuid

import trio

from actors.advisor import run_advisor
from balto.catalog import Catalog
from balto.catalog.csv_import import catalog_from_csv
from balto.messages import Recommendation, Transcript
from balto.providers.catalog_advisor import CatalogAdvisor
from balto.recorder import DirectRecorder
from balto.store import Database
from balto.store.advice import save_cliente_catalog
from balto.store.catalogs import ClienteCatalogs
from balto.store.sessions import add_segment
from tests.test_providers_storage import db, new_session

__all__ = ["db"]  # the fixture, shared with the storage tests

FIRST = "nome,categoria,indicacoes,explicacao\nCefaliv,analgésico,dor de cabeça,Da casa.\n"
SECOND = (
    "nome,categoria,indicacoes,explicacao\n"
    "Cefaliv,analgésico,dor de cabeça,Da casa.\n"
    "Unhafix Creme,dermatológico,unha encravada,Alivia a unha encravada.\n"
)


async def test_a_new_catalog_reaches_a_live_session_at_its_next_utterance(
    db: Database, database_url: str
) -> None:
    where = await new_session(db, database_url)
    await db.run(save_cliente_catalog, where.cliente_id, catalog_from_csv(FIRST), "a.csv")
    text_tx, text_rx = trio.open_memory_channel[Transcript](4)
    rec_tx, rec_rx = trio.open_memory_channel[Recommendation](4)

    async def utterance(seq: int, text: str) -> None:
        segment_id = str(uuid.uuid4())
        await db.run(add_segment, segment_id, where.session_id, seq, seq * 10.0, seq * 10.0 + 1)
        await text_tx.send(Transcript(segment_id, text, "x", seq * 10.0, seq * 10.0 + 1))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(
            lambda: run_advisor(
                text_rx,
                rec_tx,
                where.ctx("advisor"),
                advisors=[CatalogAdvisor()],
                catalog=Catalog.load(),
                recorder=DirectRecorder(db),
                catalogs=ClienteCatalogs(db),
                cooldown_s=0.0,
            )
        )
        async with text_tx:
            await utterance(0, "Tem algo para unha encravada?")  # not in the first catalog
            await utterance(1, "Estou com dor de cabeça")
            first = await rec_rx.receive()
            await db.run(save_cliente_catalog, where.cliente_id, catalog_from_csv(SECOND), "b.csv")
            await utterance(2, "E para unha encravada, tem alguma pomada?")
            second = await rec_rx.receive()
    assert (first.produto, second.produto) == ("Cefaliv", "Unhafix Creme")
