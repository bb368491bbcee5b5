"""The advisor actor run over a few transcripts against a real database, as a session runs it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from actors.advisor import run_advisor
from actors.context import ActorContext
from balto.catalog import Catalog
from balto.messages import Recommendation, Transcript
from balto.providers.catalog_advisor import CatalogAdvisor
from balto.recorder import DirectRecorder
from balto.store import Database
from balto.store.sessions import add_segment
from supervisors.links import Link, Overflow


async def advise_over(
    db: Database, ctx: ActorContext, said: Sequence[Transcript], first_seq: int = 0, **options: Any
) -> list[Recommendation]:
    """Store `said`'s segments (from `first_seq`), run the catalog advisor over them until its
    inbox closes (`options` go to `run_advisor`), and answer what it sent."""
    for seq, text in enumerate(said, first_seq):  # the transcriber stored their segments
        await db.run(
            add_segment, text.segment_id, ctx.session.session_id, seq, text.start, text.end
        )
    inbox: Link[Transcript] = Link("transcripts", max(len(said), 1), Overflow.BLOCK)
    tx = inbox.sender()
    for text in said:
        await tx.send(text)
    await tx.aclose()
    inbox.close_sending()
    out: Link[Recommendation] = Link("recommendations", 8, Overflow.BLOCK)
    await run_advisor(
        inbox.receiver(),
        out.sender(),
        ctx,
        advisors=[CatalogAdvisor()],
        catalog=Catalog.load(None),
        recorder=DirectRecorder(db),
        cooldown_s=0,
        **options,
    )
    out.close_sending()
    return out.drain()
