"""Typed, formula-safe rows for openpyxl's write-only sheets: the report's look in one place.

A `Sheet` knows its columns (title, width, kind): it sets the widths and freezes the header before
the first row (write-only sheets write both ahead of the cells), writes a bold header (under a
banner row when one is given, e.g. for demo data), types each cell by its column's kind (dates
with a date format, ratios as percentages, money with two decimals) and sets the autofilter over
what it wrote when closed.

Text is never a formula: openpyxl stores any string starting with ``=`` as one, and spreadsheet
programs treat text starting with ``+``, ``-``, ``@`` (or a tab / line break) as the start of one
when a user edits the cell. Such text is written as a string cell with Excel's *quote prefix*
(what typing an apostrophe first does), so it stays text in every program. Carriage returns are
written as line feeds, which is how XML readers would read them back anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

# openpyxl ships no type information (types-openpyxl is not a dependency)
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.styles import Font, PatternFill  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

Kind = Literal["text", "datetime", "date", "int", "decimal", "ms", "usd", "brl", "pct"]

FORMATS: dict[str, str] = {
    "datetime": "dd/mm/yyyy hh:mm:ss",
    "date": "dd/mm/yyyy",
    "int": "#,##0",
    "decimal": "#,##0.000",
    "ms": "#,##0.0",
    "usd": '"US$" #,##0.00',
    "brl": '"R$" #,##0.00',
    "pct": "0.0%",
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
MAX_CELL_CHARS = 32_767  # Excel's limit per cell

_BOLD = Font(bold=True)
_BANNER_FONT = Font(bold=True, color="FFFFFF", size=12)
_BANNER_FILL = PatternFill("solid", fgColor="C00000")


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its header, its width in characters, and how its values are typed."""

    title: str
    width: float
    kind: Kind = "text"


def safe_text(sheet: Any, value: str) -> Any:
    """`value` without the characters XML cannot hold; text that could be a formula as text."""
    # XML readers turn a raw CR into LF: write what will be read back
    value = ILLEGAL_CHARACTERS_RE.sub("", value).replace("\r\n", "\n").replace("\r", "\n")
    value = value[:MAX_CELL_CHARS]
    if not value.startswith(FORMULA_STARTS):
        return value
    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"  # openpyxl made "=…" a formula
    cell.quotePrefix = True  # and a spreadsheet program keeps "+…", "-…", "@…" text on edit
    return cell


class Sheet:
    """A write-only worksheet with a typed layout; `close` before the workbook is saved."""

    def __init__(
        self, workbook: Workbook, title: str, columns: Sequence[Column], banner: str | None = None
    ) -> None:
        """Create the sheet in `workbook`; its header goes under `banner` when one is given."""
        self.sheet = workbook.create_sheet(title)
        self.columns = tuple(columns)
        self.rows = 0
        self._header_row = 2 if banner else 1
        for index, column in enumerate(self.columns, 1):
            self.sheet.column_dimensions[get_column_letter(index)].width = column.width
        self.sheet.freeze_panes = f"A{self._header_row + 1}"
        if banner:
            cell = WriteOnlyCell(self.sheet, banner)
            cell.font, cell.fill = _BANNER_FONT, _BANNER_FILL
            self.sheet.append([cell])
        header = []
        for column in self.columns:
            cell = WriteOnlyCell(self.sheet, column.title)
            cell.font = _BOLD
            header.append(cell)
        self.sheet.append(header)

    def append(self, values: Sequence[Any], kinds: Sequence[Kind] | None = None) -> None:
        """Write one row, each value typed by its column's kind (or by `kinds`, when given)."""
        kinds = kinds or [column.kind for column in self.columns]
        self.sheet.append([self.cell(v, k) for v, k in zip(values, kinds, strict=True)])
        self.rows += 1

    def extend(self, rows: Iterable[Sequence[Any]]) -> int:
        """Write every row of `rows`; return how many."""
        before = self.rows
        for row in rows:
            self.append(row)
        return self.rows - before

    def cell(self, value: Any, kind: Kind) -> Any:
        """`value` as a cell of `kind` (a plain value where no format is needed)."""
        if value is None:
            return None
        if isinstance(value, str):
            return safe_text(self.sheet, value)
        if isinstance(value, Decimal):
            value = float(value)
        fmt = FORMATS.get(kind)
        if fmt is None and isinstance(value, datetime):
            fmt = FORMATS["datetime"]
        elif fmt is None and isinstance(value, date):
            fmt = FORMATS["date"]
        if fmt is None:
            return value
        cell = WriteOnlyCell(self.sheet, value)
        cell.number_format = fmt
        return cell

    def close(self) -> None:
        """Set the autofilter over the header and every row written."""
        last = get_column_letter(len(self.columns))
        first = self._header_row
        self.sheet.auto_filter.ref = f"A{first}:{last}{first + self.rows}"
