"""The deliverer: a root child on every instance that sends what the webhook outbox holds.

Every `POLL_S` (at once again after a full batch) it claims up to `BATCH` due deliveries
(`balto.store.webhooks.claim`, a lease of the timeout plus `LEASE_MARGIN_S`), reads what each
says, and POSTs it, `PARALLEL` at a time, signed (`balto.webhooks.signing`) and with the
delivery's id in ``X-Balto-Entrega`` (a receiver that sees one twice drops the second: delivery
is at least once). A 2xx answer delivers it; anything else (another status, a redirect, no
answer within ``BALTO_WEBHOOK_TIMEOUT_S``, a refused address) is retried after
`RETRY_STEPS` × ``BALTO_WEBHOOK_RETRY_S`` (10 s, 1 min, 5 min, 30 min, 2 h, 6 h, 12 h by
default) until ``BALTO_WEBHOOK_ATTEMPTS`` (8: ~21 hours) have failed, and then given up, which
the chain sees in the log and can send again. The receiver's answer body is never read.
Finished deliveries are forgotten after `KEEP_DAYS`. Raises nothing: a database away, or any
failure, is logged and the next round tries again.
"""

from __future__ import annotations

import json
import logging

import httpx
import trio

from balto.config import Settings
from balto.store.database import Database, DatabaseUnavailable
from balto.store.webhooks import Claimed, claim, delivered, event_body, failed, forget_older_than
from balto.webhooks.address import AddressRefused, check_resolved, check_url
from balto.webhooks.signing import HEADER, sign

log = logging.getLogger(__name__)

POLL_S = 1.0  # an alert reaches the chain's system within about this after it is written
BATCH = 20
PARALLEL = 8
LEASE_MARGIN_S = 10.0  # past the time limit: the outcome's write, a slow thread
RETRY_STEPS = (1, 6, 30, 180, 720, 2160, 4320)  # × BALTO_WEBHOOK_RETRY_S, after attempt 1, 2...
KEEP_DAYS = 7
FORGET_EVERY_S = 3600.0
USER_AGENT = "Balto-Webhooks/1"


def retry_in(attempt: int, base_s: float, attempts: int) -> float | None:
    """Seconds until the next attempt after failed attempt number `attempt` of `attempts`.

    None: that was the last; the delivery is given up. Past the steps, the last step repeats.
    """
    if attempt >= attempts:
        return None
    return RETRY_STEPS[min(attempt, len(RETRY_STEPS)) - 1] * base_s


def _why(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "sem resposta no tempo limite"
    if isinstance(exc, httpx.ConnectError):
        return "não foi possível conectar"
    return f"falha na conexão ({type(exc).__name__})"


class Deliverer:
    """Sends due deliveries from one instance (any number of instances may run one)."""

    def __init__(self, db: Database, settings: Settings, http: httpx.AsyncClient) -> None:
        """Deliver through `http` (no redirects followed) with `settings`' timeout and retries."""
        self._db = db
        self._settings = settings
        self._http = http
        self._lease_s = settings.webhook_timeout_s + LEASE_MARGIN_S

    async def round(self) -> int:
        """Claim and send one batch; how many were claimed."""
        batch = await self._db.run(claim, BATCH, self._lease_s)
        limit = trio.CapacityLimiter(PARALLEL)
        async with trio.open_nursery() as nursery:
            for item in batch:
                nursery.start_soon(self._guarded, item, limit)
        return len(batch)

    async def _guarded(self, item: Claimed, limit: trio.CapacityLimiter) -> None:
        async with limit:
            try:
                await self._send(item)
            except DatabaseUnavailable as exc:  # its lease ends and it is sent again
                log.warning("webhooks: outcome of %s not recorded (%s)", item.id, exc)
            except Exception:  # one delivery's bug must not stop the others
                log.exception("webhooks: delivery %s failed unexpectedly", item.id)

    async def _send(self, item: Claimed) -> None:
        body = await self._db.run(event_body, item)
        if body is None:
            await self._db.run(failed, item.id, None, "o registro não existe mais", None)
            return
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        allow = self._settings.webhooks_allow_private
        status: int | None = None
        try:
            await check_resolved(check_url(item.url, allow), allow)
            request = self._http.build_request(
                "POST",
                item.url,
                content=content,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": USER_AGENT,
                    "X-Balto-Evento": item.evento,
                    "X-Balto-Entrega": item.id,
                    HEADER: sign(item.segredo, content),
                },
            )
            # streamed and closed unread: a receiver cannot make us hold a large answer
            response = await self._http.send(request, stream=True)
            status = response.status_code
            await response.aclose()
        except AddressRefused as exc:
            erro = str(exc)
        except httpx.HTTPError as exc:
            erro = _why(exc)
        else:
            if 200 <= status < 300:
                await self._db.run(delivered, item.id, status)
                return
            erro = f"o receptor respondeu HTTP {status}"
        settings = self._settings
        wait = retry_in(item.tentativas, settings.webhook_retry_s, settings.webhook_attempts)
        log.info("webhooks: delivery %s attempt %d: %s", item.id, item.tentativas, erro)
        await self._db.run(failed, item.id, status, erro, wait)


async def _forget(db: Database) -> None:
    # in batches, pausing between them: the live traffic's writes never wait behind one delete
    for _ in range(10_000):
        if not await db.run(forget_older_than, KEEP_DAYS):
            return
        await trio.sleep(0.2)


async def keep_delivering(
    db: Database,
    settings: Settings,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Deliver what is due until cancelled."""
    timeout = httpx.Timeout(settings.webhook_timeout_s)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http:
        deliverer = Deliverer(db, settings, http)
        task_status.started()
        forget_at = trio.current_time()
        while True:
            claimed = 0
            try:
                claimed = await deliverer.round()
                if trio.current_time() >= forget_at:
                    await _forget(db)
                    forget_at = trio.current_time() + FORGET_EVERY_S
            except DatabaseUnavailable as exc:
                log.warning("webhooks: the database is away (%s)", exc)
            except Exception:  # a bug here must not end the server: the next round tries again
                log.exception("webhooks: the round failed")
            if claimed < BATCH:
                await trio.sleep(POLL_S)
