"""``GET /api/export/xlsx``: the Excel report, built off the Trio thread and streamed from disk.

Admin only; a gestor (a chain's account) gets its own cliente's report. Query: the history
filters ``cliente_id``, ``balcao_id``, ``desde``, ``ate`` (see `balto.web.params`), ``atendente``
(an attendant's name, any case) and ``tz`` (IANA zone for the times written, default
``BALTO_TIMEZONE``). Costs in R$ use ``BALTO_BRL_PER_USD``; a server run by ``balto demo`` marks
every sheet as demo data. The workbook is written
by openpyxl in write-only mode on a worker thread into a temporary file, then sent in
`CHUNK_BYTES` pieces with a Content-Length, and the file is deleted. At most `MAX_EXPORTS` run at
once (each holds a database connection while it writes); the rest wait their turn.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import trio
from quart import Blueprint, Response, current_app, request

from balto.services import Services
from balto.store.export import ReportOptions, write_report
from balto.web.audit import audit
from balto.web.auth import require_admin
from balto.web.errors import FieldError
from balto.web.key_limit import costs
from balto.web.params import filters_arg, text_arg
from balto.web.principal import for_lojas

if TYPE_CHECKING:  # trio.open_file's return type lives in a private module
    from trio._file_io import AsyncIOWrapper

log = logging.getLogger(__name__)

blueprint = Blueprint("export", __name__)
blueprint.before_request(require_admin)

CHUNK_BYTES = 64 * 1024
MAX_EXPORTS = 2  # each holds a pooled connection and a CPU for its duration
# what a report costs a chain's API key (`balto.web.key_limit`): it reads a whole period, some
# 30 times the work of a page of a list, so a key's default budget allows 20 a minute
REPORT_COST = 30
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _services() -> Services:
    services: Services = current_app.config["BALTO_SERVICES"]
    return services


def _limiter() -> trio.CapacityLimiter:
    limiter: trio.CapacityLimiter | None = current_app.config.get("BALTO_EXPORT_LIMITER")
    if limiter is None:
        limiter = current_app.config["BALTO_EXPORT_LIMITER"] = trio.CapacityLimiter(MAX_EXPORTS)
    return limiter


def _tz_arg(default: str) -> str:
    tz = request.args.get("tz") or default
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise FieldError("tz", "tz deve ser um fuso IANA, ex.: America/Sao_Paulo") from None
    return tz


async def _chunks(file: AsyncIOWrapper[Any]) -> AsyncIterator[bytes]:
    async with file:
        while chunk := await file.read(CHUNK_BYTES):
            yield chunk


@blueprint.get("/api/export/xlsx")
@for_lojas
@costs(REPORT_COST)
async def export_xlsx() -> Response | tuple[Response, int]:
    """The report as an .xlsx download (Resumo, Interações, Alertas, Custos, Comparativo STT)."""
    services = _services()
    settings = services.settings
    options = ReportOptions(
        filters=filters_arg(),
        atendente=text_arg("atendente", 80),
        tz=_tz_arg(settings.timezone),
        brl_per_usd=settings.brl_per_usd,
        demo=settings.demo,
    )
    fd, name = tempfile.mkstemp(prefix="balto-export-", suffix=".xlsx")
    os.close(fd)
    path = Path(name)
    try:
        async with _limiter():
            started = trio.current_time()
            counts = await services.db.run(write_report, path, options)
        file = await trio.open_file(path, "rb")
        size = os.fstat(file.fileno()).st_size
    finally:
        # the open handle keeps the data; nothing is left on disk however the download ends
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(path.unlink, True)
    elapsed = trio.current_time() - started
    log.info("export written: %s rows, %d bytes in %.1f s", counts, size, elapsed)
    await audit("export_xlsx", rows=counts, bytes=size, tz=options.tz)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    response = Response(_chunks(file), mimetype=XLSX)
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="balto-{"demo-" if options.demo else ""}{stamp}.xlsx"'
    )
    return response
