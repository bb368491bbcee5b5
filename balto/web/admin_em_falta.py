"""Products out of stock (*em falta*) over HTTP: what the advisor must not suggest, and where.

``GET /admin/clientes/{id}/em-falta?loja_id=`` → ``{"items": [{"produto", "loja_id", "origem",
"por", "desde", "ate", "no_catalogo"}]}`` by product, the marks in force (``ate``: when an
attendant's runs out, ``BALTO_EM_FALTA_HORAS``): the whole chain's list, or with ``loja_id`` that
store's and the chain-wide rows (``loja_id`` null: every balcão of the chain). ``no_catalogo``
is false for a product the chain's catalog no longer has (a renamed one: its mark does nothing).

``PUT /admin/clientes/{id}/em-falta`` ``{"loja_id": …|null, "produtos": ["…", …]}`` → 200
``{"loja_id", "em_falta": [catalog names], "ignorados": [{"nome", "motivo"}]}``: the place's whole
list becomes these (what the chain's stock system sends every few minutes; at most
`MAX_PRODUTOS`). Names are matched as an LLM's answers are (`balto.catalog.names`: case, accents,
dosage spelling, a distinctive part); a name that matches no product (``desconhecido``) or
several (``ambiguo``) is ignored and listed, not an error, since a stock list names much a
counter never suggests.

``POST /admin/clientes/{id}/em-falta`` ``{"loja_id", "produto"}`` → 201 (200 when it already
was) ``{"produto", "loja_id"}``; 400 naming ``produto`` when it names no product or several.
``DELETE /admin/clientes/{id}/em-falta?produto=&loja_id=`` → 204: back in stock; 404 when it was
not marked there.

Who: the operator and the chain's gestores; a store's gestor for its store only (a chain-wide
``loja_id`` null, or another store, → 403 naming ``loja_id``); the chain's API keys too, for
writing as well as reading (its stock system: the one route a key may change), a store's key
for its store. Another chain's store → 400 naming ``loja_id``. Changes are audited and reach live
sessions at their next utterance (`balto.store.em_falta`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import trio
from quart import Blueprint, Response, jsonify

from balto.catalog import Catalog, normalize
from balto.catalog.names import MatchKind, NameIndex, NameMatch, match_name
from balto.store import em_falta
from balto.store.advice import load_cliente_catalog
from balto.store.cadastro import cliente_exists
from balto.store.ownership import owner_of
from balto.web.audit import audit
from balto.web.auth import app_services, require_admin
from balto.web.bodies import json_object, optional_uuid_field, text_field
from balto.web.errors import FieldError, error
from balto.web.params import jsonable, text_arg, uuid_arg
from balto.web.path_ids import own_cliente
from balto.web.principal import (
    OutsideScope,
    for_key_writes,
    for_lojas,
    principal,
    scoped_loja,
)

blueprint = Blueprint("admin_em_falta", __name__)
blueprint.before_request(require_admin)

MAX_PRODUTOS = 5000  # a pharmacy's whole over-the-counter range, with room
MAX_NOME = 200
_NO_CLIENTE = "cliente não encontrado"
_NOT_OURS = "loja não encontrada nesta rede"
_MOTIVOS = {MatchKind.AMBIGUOUS: "ambiguo"}


@dataclass(frozen=True, slots=True)
class _Chain:
    """The chain a request names, with the catalog its names are matched against."""

    cliente_id: str
    catalog: Catalog


@blueprint.get("/admin/clientes/<cliente_id>/em-falta")
@for_lojas
async def listing(cliente_id: str) -> tuple[Response, int]:
    """The products out of stock (module docstring)."""
    loja_id = scoped_loja(uuid_arg("loja_id"))
    found = await _in_chain(cliente_id, loja_id)
    if not isinstance(found, _Chain):
        return found
    cid, catalog = found.cliente_id, found.catalog
    services = app_services()
    rows = await services.db.run(em_falta.listed, cid, loja_id, services.settings.em_falta_horas)
    items = [
        jsonable({**asdict(row), "no_catalogo": catalog.find(row.produto) is not None})
        for row in rows
    ]
    return jsonify({"items": items}), 200


@blueprint.put("/admin/clientes/<cliente_id>/em-falta")
@for_lojas
@for_key_writes
async def replace(cliente_id: str) -> tuple[Response, int]:
    """Make a place's list exactly the products named (module docstring)."""
    body = await json_object()
    loja_id = _place(body)
    names = body.get("produtos")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise FieldError("produtos", "produtos deve ser uma lista de nomes")
    if len(names) > MAX_PRODUTOS:
        raise FieldError("produtos", f"produtos excede {MAX_PRODUTOS} nomes")
    found = await _in_chain(cliente_id, loja_id)
    if not isinstance(found, _Chain):
        return found
    cid, catalog = found.cliente_id, found.catalog
    # thousands of names against thousands of products: off the event loop
    produtos, ignored = await trio.to_thread.run_sync(_matched, catalog, names)
    await app_services().db.run(em_falta.replace, cid, loja_id, produtos, principal().actor)
    await audit(
        "replace_em_falta",
        cliente_id=cid,
        loja_id=loja_id,
        produtos=len(produtos),
        ignorados=len(ignored),
    )
    return jsonify({"loja_id": loja_id, "em_falta": produtos, "ignorados": ignored}), 200


@blueprint.post("/admin/clientes/<cliente_id>/em-falta")
@for_lojas
@for_key_writes
async def mark(cliente_id: str) -> tuple[Response, int]:
    """Mark one product out of stock at one place."""
    body = await json_object()
    loja_id = _place(body)
    name = text_field(body, "produto", MAX_NOME)
    found = await _in_chain(cliente_id, loja_id)
    if not isinstance(found, _Chain):
        return found
    cid, catalog = found.cliente_id, found.catalog
    produto, motivo = _product(catalog, name)
    if produto is None:
        words = "nomeia mais de um produto" if motivo == "ambiguo" else "não está no catálogo"
        raise FieldError("produto", f"{name[:MAX_NOME]} {words}")
    added = await app_services().db.run(
        em_falta.add, cid, loja_id, produto, "api", principal().actor
    )
    if added:
        await audit("mark_em_falta", cliente_id=cid, loja_id=loja_id, produto=produto)
    return jsonify({"produto": produto, "loja_id": loja_id}), 201 if added else 200


@blueprint.delete("/admin/clientes/<cliente_id>/em-falta")
@for_lojas
@for_key_writes
async def restock(cliente_id: str) -> Response | tuple[Response, int]:
    """The product is back in stock at that place."""
    produto = text_arg("produto", MAX_NOME)
    if produto is None:
        raise FieldError("produto", "campo obrigatório: produto")
    requested = uuid_arg("loja_id")
    loja_id = scoped_loja(requested)
    found = await _in_chain(cliente_id, loja_id, with_catalog=False)
    if not isinstance(found, _Chain):
        return found
    cid = found.cliente_id
    spelled = await app_services().db.run(em_falta.remove, cid, loja_id, produto)
    if spelled is None:
        return error(404, "not_found", "o produto não está marcado em falta aí")
    await audit("clear_em_falta", cliente_id=cid, loja_id=loja_id, produto=spelled)
    return Response("", status=204)


def _place(body: dict[str, Any]) -> str | None:
    """The body's ``loja_id`` (null: the whole chain), within what the principal may change."""
    requested = optional_uuid_field(body, "loja_id")
    if requested is None and principal().loja_id is not None and "loja_id" in body:
        raise OutsideScope("loja_id", "null")  # a store's gestor or key naming the whole chain
    return scoped_loja(requested)


async def _in_chain(
    cliente_id: str, loja_id: str | None, *, with_catalog: bool = True
) -> _Chain | tuple[Response, int]:
    """The cliente's id and the catalog names are matched against, or the error to answer.

    404 for a cliente not the principal's, 400 naming ``loja_id`` for another chain's store.
    Without `with_catalog` the cliente's catalog is not read (the default stands in).
    """
    if (cid := own_cliente(cliente_id)) is None:
        return error(404, "not_found", _NO_CLIENTE)
    services = app_services()
    found = await services.db.run(_read, cid, loja_id, with_catalog)
    if found is None:
        return error(404, "not_found", _NO_CLIENTE)
    catalog, store_ok = found
    if not store_ok:
        return error(400, "invalid_field", _NOT_OURS, field="loja_id")
    return _Chain(cid, catalog or services.pipeline.catalog)


def _read(
    conn: Any, cliente_id: str, loja_id: str | None, with_catalog: bool
) -> tuple[Catalog | None, bool] | None:
    """The cliente's imported catalog and whether `loja_id` is one of its stores (None: none)."""
    if not cliente_exists(conn, cliente_id):
        return None
    store_ok = True
    if loja_id is not None:
        owner = owner_of(conn, "loja", loja_id)
        store_ok = owner is not None and owner.cliente_id == cliente_id
    return (load_cliente_catalog(conn, cliente_id) if with_catalog else None), store_ok


def _matched(catalog: Catalog, names: list[str]) -> tuple[list[str], list[dict[str, str]]]:
    """The catalog's names for `names` (each once, sorted), and the names ignored with why."""
    kept: dict[str, str] = {}  # catalog name by normalized name
    ignored: list[dict[str, str]] = []
    index = NameIndex(catalog)  # its own: the shared cache of indexes is the event loop's
    for name in names:
        product, motivo = _verdict(index.match(name.strip()[:MAX_NOME]))
        if product is None:
            ignored.append({"nome": name[:MAX_NOME], "motivo": motivo})
        else:
            kept.setdefault(normalize(product), product)
    return sorted(kept.values()), ignored


def _product(catalog: Catalog, name: str) -> tuple[str | None, str]:
    """The catalog's name for `name`, or None and why (``desconhecido``, ``ambiguo``)."""
    return _verdict(match_name(catalog, name.strip()[:MAX_NOME]))


def _verdict(found: NameMatch) -> tuple[str | None, str]:
    """A match's catalog name, or None and why."""
    if found.product is None:
        return None, _MOTIVOS.get(found.kind, "desconhecido")
    return found.product.nome, ""
