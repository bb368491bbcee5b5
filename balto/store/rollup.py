"""Which part of a period the Painel's hourly sums answer, and which its rows must.

The database keeps the Painel's sums per balcão and UTC hour (``painel_horas``, migration 0027),
in the same transaction as the rows they count. A period is read from its whole hours there and
from the rows only at its edges: before its first whole hour and after its last, an hour at most
each. An hour belongs to one local day only when the time zone's offset is whole hours (every
Brazilian zone's is); in any other zone the whole period is read from the rows.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from balto.store.history import Filters

_HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Split:
    """A period's parts (each one a `Filters` with its own bounds).

    Attributes:
        hours: The whole hours, read from ``painel_horas`` (None: none to read there).
        rows: The rest, read from the rows themselves.
    """

    hours: Filters | None
    rows: tuple[Filters, ...]


def split(filters: Filters, zone: str) -> Split:
    """Split `filters`' period into whole UTC hours and the edges around them."""
    desde, ate = filters.desde, filters.ate
    if not _whole_hour_offsets(zone, [t for t in (desde, ate) if t is not None]):
        return Split(None, (filters,))
    first = None if desde is None else _ceil_hour(desde)
    last = None if ate is None else _floor_hour(ate)
    if first is not None and last is not None and first >= last:
        return Split(None, (filters,))
    rows = []
    if desde is not None and first is not None and desde < first:
        rows.append(dataclasses.replace(filters, ate=first))
    if ate is not None and last is not None and last < ate:
        rows.append(dataclasses.replace(filters, desde=last))
    return Split(dataclasses.replace(filters, desde=first, ate=last), tuple(rows))


def _floor_hour(at: datetime) -> datetime:
    at = at.astimezone(UTC)
    return at.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(at: datetime) -> datetime:
    floor = _floor_hour(at)
    return floor if floor == at else floor + _HOUR


def _whole_hour_offsets(zone: str, instants: list[datetime]) -> bool:
    """Whether `zone` is a whole number of hours from UTC at `instants`, now, and both seasons."""
    tz = ZoneInfo(zone)
    now = datetime.now(UTC)
    seasons = [datetime(now.year, month, 1, tzinfo=UTC) for month in (1, 7)]
    for at in [*instants, now, *seasons]:
        offset = at.astimezone(tz).utcoffset() or timedelta()
        if offset % _HOUR:
            return False
    return True
