"""Import a cliente's catalog from CSV (what a pharmacy chain exports from its ERP or a sheet).

In: CSV text with a header row. Columns (names case- and accent-insensitive): ``nome``,
``categoria``, ``indicacoes``, ``explicacao`` (required), ``tarja``, ``complementos`` and
``contraindicacoes`` (optional; conditions as `balto.advice.cautions` names them). List cells
separate items with ``;`` or ``|``. The delimiter (``,``, or ``;`` as Brazilian spreadsheets
export) is sniffed. Out: a `Catalog`. Raises `CatalogError` naming the
line at fault.

A product's tarja must be ``isento``, ``vermelha`` or ``preta`` (empty means ``isento``): anything
else is rejected rather than guessed, because it decides whether the product may be suggested.
"""

from __future__ import annotations

import csv
import io
import json

from balto.advice.cautions_table import condition_code, condition_names
from balto.catalog import Catalog, Product, normalize
from balto.errors import BaltoError

REQUIRED = ("nome", "categoria", "indicacoes", "explicacao")
TARJAS = ("isento", "vermelha", "preta")


class CatalogError(BaltoError):
    """A catalog file is invalid; the message names the line and the field."""


def _items(cell: str) -> tuple[str, ...]:
    parts = cell.replace("|", ";").split(";")
    return tuple(part.strip() for part in parts if part.strip())


def catalog_from_csv(text: str) -> Catalog:
    """Parse a catalog CSV.

    Args:
        text: The whole file, decoded.

    Returns:
        The catalog.

    Raises:
        CatalogError: A required column or value is missing, a tarja is unknown, a name repeats.
    """
    text = text.lstrip("\ufeff")  # Excel writes a BOM
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], ",;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = {normalize(name or ""): name for name in reader.fieldnames or []}
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise CatalogError(f"missing column(s): {', '.join(missing)}")
    products: list[Product] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):

        def cell(column: str, row: dict[str, str | None] = row) -> str:
            source = header.get(column)
            return (row.get(source) or "").strip() if source else ""

        for column in REQUIRED:
            if not cell(column):
                raise CatalogError(f"line {line}: empty {column}")
        tarja = normalize(cell("tarja")) or "isento"
        if tarja not in TARJAS:
            raise CatalogError(f"line {line}: tarja must be one of {', '.join(TARJAS)}")
        conditions = [condition_code(entry) for entry in _items(cell("contraindicacoes"))]
        if None in conditions:
            raise CatalogError(
                f"line {line}: contraindicacoes must be among {', '.join(condition_names())}"
            )
        nome = cell("nome")
        if normalize(nome) in seen:
            raise CatalogError(f"line {line}: {nome!r} appears twice")
        seen.add(normalize(nome))
        products.append(
            Product(
                nome=nome,
                categoria=cell("categoria"),
                indicacoes=_items(cell("indicacoes")),
                explicacao=cell("explicacao"),
                tarja=tarja,
                complementos=_items(cell("complementos")),
                contraindicacoes=tuple(dict.fromkeys(c for c in conditions if c is not None)),
            )
        )
    if not products:
        raise CatalogError("the catalog has no products")
    return Catalog(products)


def catalog_to_json(catalog: Catalog) -> str:
    """The catalog in the JSON format `Catalog.from_json` reads (how it is stored per cliente)."""
    rows = [
        {
            "nome": product.nome,
            "categoria": product.categoria,
            "indicacoes": list(product.indicacoes),
            "explicacao": product.explicacao,
            "tarja": product.tarja,
            "complementos": list(product.complementos),
            "contraindicacoes": list(product.contraindicacoes),
        }
        for product in catalog.products
    ]
    return json.dumps(rows, ensure_ascii=False)
