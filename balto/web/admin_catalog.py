"""A cliente's catalog over HTTP: load it (CSV or JSON, checked row by row) and read it back.

``PUT /admin/clientes/{id}/catalogo`` (admin): the body is CSV (``Content-Type: text/csv``) or
JSON (``application/json``), at most `MAX_CATALOG_BYTES`; ``?nome=`` names the file for the
record. Every row is checked first (`balto.catalog.validate`): any error → 400
``{"error": "invalid_catalog", "message", "erros": [{"linha", "campo", "mensagem"}]}`` and nothing
is saved; otherwise the catalog replaces the cliente's → 200 ``{"cliente_id", "produtos",
"versao"}``. Live sessions of that cliente advise from it from their next utterance. 404 for an
unknown cliente, 413 past the size, 415 for another content type. Audited as ``catalog_upload``.

``GET /admin/clientes/{id}/catalogo`` (admin): ``{"cliente_id", "versao", "origem",
"produtos": [...]}`` (``versao`` null and the default catalog's products when it imported none;
``padrao`` says which), or the same products as CSV with ``?formato=csv`` or ``Accept: text/csv``.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from quart import Blueprint, Response, jsonify, request
from quart_trio import QuartTrio

from balto.catalog import Catalog
from balto.catalog.csv_import import catalog_to_json
from balto.catalog.validate import check_csv, check_json
from balto.store.advice import cliente_catalog_version, load_cliente_catalog, save_cliente_catalog
from balto.store.cadastro import cliente_exists
from balto.web.audit import audit
from balto.web.auth import app_services, require_admin
from balto.web.errors import error
from balto.web.params import text_arg
from balto.web.path_ids import own_cliente
from balto.web.principal import for_gestores, for_lojas

blueprint = Blueprint("admin_catalog", __name__)
blueprint.before_request(require_admin)

MAX_CATALOG_BYTES = 2 * 1024 * 1024  # thousands of products; the app's 64 KiB cap is for forms
_CSV_COLUMNS = (
    "nome",
    "categoria",
    "indicacoes",
    "explicacao",
    "tarja",
    "complementos",
    "contraindicacoes",
)


def allow_catalog_bodies(app: QuartTrio) -> None:
    """Give ``PUT …/catalogo`` and ``PUT …/em-falta`` their own body cap; others keep the app's."""
    base: Any = app.request_class

    class _Request(base):  # type: ignore[misc]  # Quart's request class is only known at runtime
        def __init__(self, method: str, scheme: str, path: str, *args: Any, **kw: Any) -> None:
            if (
                method == "PUT"
                and path.startswith("/admin/clientes/")
                and path.endswith(("/catalogo", "/em-falta"))
            ):
                # a chain's stock system may send its whole list of products out of stock
                kw["max_content_length"] = MAX_CATALOG_BYTES
            super().__init__(method, scheme, path, *args, **kw)

    app.request_class = _Request


def _save(conn: Any, cliente_id: str, catalog: Catalog, source: str) -> str | None:
    """Save when the cliente exists; its new version, or None for an unknown cliente."""
    if not cliente_exists(conn, cliente_id):
        return None
    save_cliente_catalog(conn, cliente_id, catalog, source)
    return cliente_catalog_version(conn, cliente_id)


@blueprint.put("/admin/clientes/<cliente_id>/catalogo")
@for_gestores
async def upload(cliente_id: str) -> tuple[Response, int]:
    """Check and load the cliente's catalog (module docstring)."""
    if (cid := own_cliente(cliente_id)) is None:
        return error(404, "not_found", "cliente não encontrado")
    kind = request.mimetype
    raw = await request.body  # bytes, capped at MAX_CATALOG_BYTES (413 past it)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")  # what Excel on Windows saves "CSV" as
        except UnicodeDecodeError:
            return error(400, "invalid_catalog", "arquivo não é texto UTF-8", erros=[])
    if kind in ("text/csv", "text/plain", "application/csv"):
        checked = check_csv(text)
    elif kind == "application/json":
        checked = check_json(text)
    else:
        return error(415, "unsupported_media_type", "envie text/csv ou application/json")
    if checked.catalog is None:
        erros = [
            {"linha": e.linha, "campo": e.campo, "mensagem": e.mensagem} for e in checked.errors
        ]
        await audit("catalog_upload", cliente_id=cid, outcome="invalid", erros=len(erros))
        return error(
            400,
            "invalid_catalog",
            f"catálogo com {len(erros)} erro(s); nada foi salvo",
            erros=erros,
        )
    nome = text_arg("nome", 200) or f"upload.{'csv' if 'csv' in kind else 'json'}"
    version = await app_services().db.run(_save, cid, checked.catalog, nome)
    if version is None:
        return error(404, "not_found", "cliente não encontrado")
    await audit("catalog_upload", cliente_id=cid, outcome="saved", produtos=len(checked.catalog))
    return jsonify({"cliente_id": cid, "produtos": len(checked.catalog), "versao": version}), 200


def _read(conn: Any, cliente_id: str) -> dict[str, Any] | None:
    if not cliente_exists(conn, cliente_id):
        return None
    row = conn.execute(
        "SELECT imported_at, source FROM cliente_catalogs WHERE cliente_id = %s", (cliente_id,)
    ).fetchone()
    catalog = load_cliente_catalog(conn, cliente_id)
    return {
        "versao": None if row is None else row[0].isoformat(),
        "origem": None if row is None else row[1],
        "padrao": catalog is None,
        "catalog": catalog,
    }


@blueprint.get("/admin/clientes/<cliente_id>/catalogo")
@for_lojas
async def read(cliente_id: str) -> tuple[Response, int]:
    """The cliente's catalog as JSON, or CSV (``?formato=csv`` / ``Accept: text/csv``)."""
    cid = own_cliente(cliente_id)
    services = app_services()
    found = None if cid is None else await services.db.run(_read, cid)
    if cid is None or found is None:
        return error(404, "not_found", "cliente não encontrado")
    catalog: Catalog = found.pop("catalog") or services.pipeline.catalog
    produtos = json.loads(catalog_to_json(catalog))
    wants_csv = request.args.get("formato") == "csv" or (
        request.args.get("formato") is None
        and request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"
    )
    if not wants_csv:
        return jsonify({"cliente_id": cid, **found, "produtos": produtos}), 200
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_CSV_COLUMNS)
    for p in produtos:
        writer.writerow(
            [
                _cell(p["nome"]),
                _cell(p["categoria"]),
                _cell("; ".join(p["indicacoes"])),
                _cell(p["explicacao"]),
                p["tarja"],
                _cell("; ".join(p["complementos"])),
                _cell("; ".join(p["contraindicacoes"])),
            ]
        )
    response = Response("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="catalogo-{cid[:8]}.csv"'
    return response, 200


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
