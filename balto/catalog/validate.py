"""Check an uploaded catalog row by row, reporting every error at once (admins fix them in one go).

In: CSV text (columns as `balto.catalog.csv_import`) or JSON (a list of products, or
``{"produtos": [...]}``, each with ``nome``, ``categoria``, ``indicacoes``, ``explicacao`` and
optional ``tarja``, ``complementos``, ``contraindicacoes`` (condition codes or names,
`balto.advice.cautions`); list fields as arrays or ``;``-separated text). Out: a
`Checked` holding the `Catalog` when there is no error, else every `RowError` (messages in
Portuguese, ``linha`` = the CSV line, header = line 1; for JSON the product's position, from 1).
Raises nothing.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from balto.advice.cautions_table import condition_code, condition_names
from balto.catalog import Catalog, Product, normalize
from balto.catalog.csv_import import REQUIRED, TARJAS
from balto.storable_text import unstorable_at

MAX_PRODUCTS = 5000  # a pharmacy's over-the-counter range is hundreds; more is a wrong file
MAX_ERRORS = 200  # past this the file is wrong as a whole; the first ones say how
MAX_CELL = 2000  # characters in one cell
_COLUMNS = (
    "nome",
    "categoria",
    "explicacao",
    "tarja",
    "indicacoes",
    "complementos",
    "contraindicacoes",
)


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem: where (``linha``, 0 for the file as a whole), which field, what."""

    linha: int
    campo: str | None
    mensagem: str


@dataclass(slots=True)
class Checked:
    """The outcome: the catalog, or the errors (never both)."""

    catalog: Catalog | None = None
    errors: list[RowError] = field(default_factory=list)


def _items(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str):
        parts: Iterable[Any] = value.replace("|", ";").split(";")
    elif isinstance(value, list):
        parts = value
    elif value is None:
        return ()
    else:
        return None
    if not all(isinstance(part, str) for part in parts):
        return None
    return tuple(part.strip() for part in parts if part.strip())


def _conditions(entries: tuple[str, ...]) -> tuple[str, ...] | None:
    """`entries` as condition codes, once each; None when one names no condition."""
    codes = [condition_code(entry) for entry in entries]
    if any(code is None for code in codes):
        return None
    return tuple(dict.fromkeys(code for code in codes if code is not None))


def _check_rows(rows: Iterable[tuple[int, dict[str, Any]]]) -> Checked:
    out = Checked()
    products: list[Product] = []
    seen: dict[str, int] = {}

    def fail(linha: int, campo: str | None, mensagem: str) -> None:
        if len(out.errors) < MAX_ERRORS:
            out.errors.append(RowError(linha, campo, mensagem))

    for linha, row in rows:
        if len(products) >= MAX_PRODUCTS:
            fail(linha, None, f"o catálogo passa de {MAX_PRODUCTS} produtos")
            break
        texts: dict[str, str] = {}
        bad = False
        for column in _COLUMNS:
            if unstorable_at(row.get(column)) is not None:  # a NUL: PostgreSQL refuses the row
                fail(linha, column, f"{column} com caractere nulo ou inválido")
                bad = True
        for column in ("nome", "categoria", "explicacao", "tarja"):
            value = row.get(column)
            if value is not None and not isinstance(value, str):
                fail(linha, column, f"{column} deve ser texto")
                bad = True
                continue
            texts[column] = (value or "").strip()
            if len(texts[column]) > MAX_CELL:
                fail(linha, column, f"{column} longo demais (máximo {MAX_CELL} caracteres)")
                bad = True
        lists: dict[str, tuple[str, ...]] = {}
        for column in ("indicacoes", "complementos", "contraindicacoes"):
            items = _items(row.get(column))
            if items is None:
                fail(linha, column, f"{column} deve ser uma lista de textos ou texto com ';'")
                bad = True
            else:
                lists[column] = items
        for column in REQUIRED:
            # a value of the wrong type was reported above; here only present-but-empty ones
            values = lists if column == "indicacoes" else texts
            if column in values and not values[column]:
                fail(linha, column, f"{column} vazio")
                bad = True
        codes = _conditions(lists.get("contraindicacoes", ()))
        if codes is None:
            unknown = [c for c in lists["contraindicacoes"] if condition_code(c) is None]
            fail(
                linha,
                "contraindicacoes",
                f"contraindicação desconhecida: {unknown[0]!r} "
                f"(use: {', '.join(condition_names())})",
            )
            bad = True
        tarja = normalize(texts.get("tarja", "")) or "isento"
        if tarja not in TARJAS:
            fail(linha, "tarja", f"tarja deve ser {', '.join(TARJAS)}")
            bad = True
        nome = texts.get("nome", "")
        if nome and normalize(nome) in seen:
            fail(linha, "nome", f"{nome!r} repetido (já na linha {seen[normalize(nome)]})")
            bad = True
        elif nome:
            seen[normalize(nome)] = linha
        if not bad:
            products.append(
                Product(
                    nome=nome,
                    categoria=texts["categoria"],
                    indicacoes=lists["indicacoes"],
                    explicacao=texts["explicacao"],
                    tarja=tarja,
                    complementos=lists["complementos"],
                    contraindicacoes=codes or (),
                )
            )
    if not out.errors and not products:
        fail(0, None, "o catálogo não tem produtos")
    if not out.errors:
        out.catalog = Catalog(products)
    return out


def check_csv(text: str) -> Checked:
    """Check a catalog CSV (header row; ``,`` or ``;`` delimited; a BOM is ignored)."""
    text = text.lstrip("\ufeff")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], ",;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    try:
        fieldnames = reader.fieldnames or []
    except csv.Error as exc:
        return Checked(errors=[RowError(1, None, f"CSV ilegível: {exc}")])
    header = {normalize(name or ""): name for name in fieldnames}
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        return Checked(errors=[RowError(1, None, f"falta(m) a(s) coluna(s): {', '.join(missing)}")])

    def rows() -> Iterable[tuple[int, dict[str, Any]]]:
        for raw in reader:
            # the reader's own line counter, so quoted cells spanning lines keep numbers right
            yield (
                reader.line_num,
                {column: raw.get(source) for column, source in header.items() if source},
            )

    try:
        return _check_rows(rows())
    except csv.Error as exc:
        return Checked(errors=[RowError(reader.line_num, None, f"CSV ilegível: {exc}")])


def check_json(text: str) -> Checked:
    """Check a catalog in JSON: a list of products or ``{"produtos": [...]}``."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        return Checked(errors=[RowError(0, None, f"JSON inválido: {exc}")])
    if isinstance(data, dict):
        data = data.get("produtos")
    if not isinstance(data, list):
        return Checked(errors=[RowError(0, None, "esperada uma lista de produtos")])
    rows: list[tuple[int, dict[str, Any]]] = []
    errors: list[RowError] = []
    for index, item in enumerate(data, start=1):
        if isinstance(item, dict):
            rows.append((index, {normalize(str(key)): value for key, value in item.items()}))
        else:
            errors.append(RowError(index, None, "cada produto deve ser um objeto"))
    checked = _check_rows(rows)
    if errors:
        return Checked(errors=(errors + checked.errors)[:MAX_ERRORS])
    return checked
