"""Ids named in a request's path, checked against who is asking (`balto.web.principal`).

Each answers the id as PostgreSQL spells it when the principal may act on that row, else None:
a malformed id, an unknown row and another chain's (or store's) row all read the same, so the
route answers one 404 for the three.
"""

from __future__ import annotations

from balto.web.auth import app_services
from balto.web.params import canonical_uuid
from balto.web.principal import may_touch, owns


async def touchable(kind: str, row_id: str) -> str | None:
    """`row_id` made canonical when the principal may act on that `kind` row (`may_touch`)."""
    canonical = canonical_uuid(row_id)
    if canonical is None or not await may_touch(app_services(), kind, canonical):
        return None
    return canonical


def own_cliente(cliente_id: str) -> str | None:
    """`cliente_id` made canonical when it is the principal's to see (`owns`)."""
    canonical = canonical_uuid(cliente_id)
    if canonical is None or not owns(canonical):
        return None
    return canonical
