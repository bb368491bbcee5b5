"""The product catalog: products, their indications, and lookup by name.

A default catalog of common Brazilian over-the-counter products ships in ``default.json``. Names and
texts are Portuguese because they reach the attendant's screen.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


def normalize(text: str) -> str:
    """Lower-case, accent-free, single-spaced text for matching (``"Cabeça"`` → ``"cabeca"``)."""
    if text.isascii():
        # Nothing to decompose and no accents, and casefold is lower: the same text, without a
        # pass per character (the learned reader normalizes whole windows of plain words).
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.split())


@dataclass(frozen=True, slots=True)
class Product:
    """One catalog product."""

    nome: str
    categoria: str
    indicacoes: tuple[str, ...]
    explicacao: str
    tarja: str = "isento"
    complementos: tuple[str, ...] = ()
    # Conditions that rule it out (`balto.advice.cautions`): "gravidez", "hipertensao", ...
    contraindicacoes: tuple[str, ...] = ()

    @property
    def prescription_only(self) -> bool:
        """True for products sold only with a prescription (tarja vermelha or preta)."""
        return self.tarja != "isento"


class Catalog:
    """An immutable set of products, looked up by normalized name."""

    def __init__(self, products: list[Product]) -> None:
        """Index `products` by normalized name."""
        self.products: tuple[Product, ...] = tuple(products)
        self._by_name = {normalize(p.nome): p for p in self.products}

    def __len__(self) -> int:
        """Number of products."""
        return len(self.products)

    def find(self, name: str) -> Product | None:
        """The product named `name` (accents and case ignored), or None."""
        return self._by_name.get(normalize(name))

    @classmethod
    def from_json(cls, text: str) -> Catalog:
        """Parse the catalog JSON format (a list of product objects)."""
        rows = json.loads(text)
        products = [
            Product(
                nome=row["nome"],
                categoria=row["categoria"],
                indicacoes=tuple(row["indicacoes"]),
                explicacao=row["explicacao"],
                tarja=row.get("tarja", "isento"),
                complementos=tuple(row.get("complementos", ())),
                contraindicacoes=tuple(row.get("contraindicacoes", ())),
            )
            for row in rows
        ]
        return cls(products)

    @classmethod
    def load(cls, path: Path | None = None) -> Catalog:
        """Load `path` (JSON, or CSV when it ends in ``.csv``), or the default catalog."""
        if path is not None and path.suffix.lower() == ".csv":
            from balto.catalog.csv_import import catalog_from_csv  # it imports this module

            return catalog_from_csv(path.read_text(encoding="utf-8-sig"))
        if path is not None:
            return cls.from_json(path.read_text(encoding="utf-8"))
        ref = resources.files("balto.catalog").joinpath("default.json")
        return cls.from_json(ref.read_text(encoding="utf-8"))
