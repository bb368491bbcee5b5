"""The deliverer: a root child on every instance that sends what the webhook outbox holds.

Whenever it has a free slot (`PARALLEL`, at most `PER_WEBHOOK` per webhook) it claims due
deliveries (`balto.store.webhooks.claim`, a lease of the timeout plus `LEASE_MARGIN_S`), looking
again every `POLL_S` when none is due, or at once when the database notifies that an alert or a
test was queued (``LISTEN balto_webhooks``); it reads what each says and POSTs it, signed
(`balto.webhooks.signing`) and with the delivery's id in ``X-Balto-Entrega`` (a receiver that
sees one twice drops the second: delivery is at least once). A 2xx answer delivers it; anything
else (another status, a redirect, no answer within ``BALTO_WEBHOOK_TIMEOUT_S``, a refused
address) is retried after `RETRY_STEPS` × ``BALTO_WEBHOOK_RETRY_S`` (10 s, 1 min, 5 min, 30 min,
2 h, 6 h, 12 h by default) until ``BALTO_WEBHOOK_ATTEMPTS`` (8: ~21 hours) have failed, and
then given up, which the chain sees in the log and can send again. The receiver's answer body is
never read. Finished deliveries are forgotten after `KEEP_DAYS`. Raises nothing: a database
away, or any failure, is logged and tried again.
"""

from __future__ import annotations

import json
import logging
import ssl
from collections import Counter

import httpx
import trio

from balto.config import Settings
from balto.sealing import WEBHOOK, Box, Unreadable
from balto.store.database import Database, DatabaseUnavailable
from balto.store.listener import listen
from balto.store.webhook_events import event_body
from balto.store.webhooks import (
    WAKE_CHANNEL,
    Claimed,
    claim,
    delivered,
    failed,
    forget_older_than,
)
from balto.webhooks.address import AddressRefused, check_url, pinned, resolve, via_proxy
from balto.webhooks.signing import HEADER, sign

log = logging.getLogger(__name__)

POLL_S = 1.0  # at the latest; an alert (a NOTIFY from the trigger) or a test wakes it at once
WAKE_BUFFER = 1024  # notifications waiting for the loop; one is enough to wake it
PARALLEL = 16
PER_WEBHOOK = 4  # one receiver's backlog or hang holds a quarter of the slots at most
LEASE_MARGIN_S = 10.0  # past the time limit: the outcome's write, a slow thread
RETRY_STEPS = (1, 6, 30, 180, 720, 2160, 4320)  # × BALTO_WEBHOOK_RETRY_S, after attempt 1, 2...
KEEP_DAYS = 7
FORGET_EVERY_S = 3600.0
USER_AGENT = "Balto-Webhooks/1"
MAX_ADDRESSES = 4  # a name's addresses tried in turn while each refuses the connection


def retry_in(attempt: int, base_s: float, attempts: int) -> float | None:
    """Seconds until the next attempt after failed attempt number `attempt` of `attempts`.

    None: that was the last; the delivery is given up. Past the steps, the last step repeats.
    """
    if attempt >= attempts:
        return None
    return RETRY_STEPS[min(attempt, len(RETRY_STEPS)) - 1] * base_s


NO_ANSWER = "sem resposta no tempo limite"
CONNECT_FAILED = "não foi possível conectar"
BAD_CERTIFICATE = "o certificado TLS do receptor não é válido para o nome da URL"
UNREADABLE = (
    "o segredo do webhook não pode ser aberto por este servidor: selado com uma chave que ele"
    " não tem, ou alterado no banco"
)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):  # httpx's error wraps httpcore's, which wraps the socket's or ssl's
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _why(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return NO_ANSWER
    if isinstance(exc, httpx.ConnectError):
        # the chain's own mistake, so it is named: an expired or self-signed certificate
        return BAD_CERTIFICATE if _caused_by(exc, ssl.SSLCertVerificationError) else CONNECT_FAILED
    return f"falha na conexão ({type(exc).__name__})"


class Deliverer:
    """Sends due deliveries from one instance (any number of instances may run one).

    Up to `PARALLEL` at once, and at most `PER_WEBHOOK` of them to one webhook: a chain whose
    receiver hangs until the time limit holds a quarter of this instance's slots, and the other
    chains' alerts go on.
    """

    def __init__(self, db: Database, settings: Settings, http: httpx.AsyncClient, box: Box) -> None:
        """Deliver through `http` (no redirects followed) with `settings`' timeout and retries.

        Signed with the webhooks' secrets as `box` opens them.
        """
        self._db = db
        self._box = box
        self._settings = settings
        self._http = http
        self._lease_s = settings.webhook_timeout_s + LEASE_MARGIN_S
        self._slots = trio.Semaphore(PARALLEL)
        self._busy: Counter[str] = Counter()  # deliveries in flight here, per webhook
        self._wake = trio.Event()
        self._away = False

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Claim what is due whenever a slot is free, until cancelled."""
        async with trio.open_nursery() as nursery:
            task_status.started()
            while True:
                if not await self._claim_into(nursery):
                    # nothing more is due, or only for webhooks at their share: look again at
                    # the next poll, as soon as one of ours ends (its webhook may take more),
                    # or when the database says something was queued (`woken_by`)
                    with trio.move_on_after(POLL_S):
                        await self._wake.wait()
                    self._wake = trio.Event()

    async def woken_by(self, notes: trio.MemoryReceiveChannel[str]) -> None:
        """Look again whenever the database notifies `WAKE_CHANNEL` (an alert, a test)."""
        async for _ in notes:
            self._wake.set()

    async def _claim_into(self, nursery: trio.Nursery) -> bool:
        """Claim as many as there are free slots and start sending them; whether all were."""
        async with self._slots:  # one slot free at least before asking the database
            free = self._slots.value + 1
            try:
                batch = await self._db.run(
                    claim, free, self._lease_s, dict(self._busy), PER_WEBHOOK
                )
            except DatabaseUnavailable as exc:
                if not self._away:  # once per outage, not once a poll
                    log.warning("webhooks: the database is away (%s); deliveries wait", exc)
                self._away = True
                return False
            except Exception:  # a bug here must not end the server: the next poll tries again
                log.exception("webhooks: claiming due deliveries failed")
                return False
        if self._away:
            log.info("webhooks: the database is back; delivering")
            self._away = False
        for item in batch:
            await self._slots.acquire()
            self._busy[item.webhook_id] += 1
            nursery.start_soon(self._guarded, item)
        return len(batch) == free  # fewer: nothing else is due now

    async def _guarded(self, item: Claimed) -> None:
        try:
            await self._send(item)
        except DatabaseUnavailable as exc:  # its lease ends and it is sent again
            log.warning("webhooks: outcome of %s not recorded (%s)", item.id, exc)
        except Exception:  # one delivery's bug must not stop the others
            log.exception("webhooks: delivery %s failed unexpectedly", item.id)
        finally:
            self._busy[item.webhook_id] -= 1
            if not self._busy[item.webhook_id]:
                del self._busy[item.webhook_id]
            self._slots.release()
            self._wake.set()

    async def _send(self, item: Claimed) -> None:
        body = await self._db.run(event_body, item)
        if body is None:
            await self._db.run(failed, item.id, None, "o registro não existe mais", None)
            return
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        status, erro = await self._post(item, content)
        if status is not None and 200 <= status < 300:
            await self._db.run(delivered, item.id, status)
            return
        settings = self._settings
        wait = retry_in(item.tentativas, settings.webhook_retry_s, settings.webhook_attempts)
        log.info("webhooks: delivery %s attempt %d: %s", item.id, item.tentativas, erro)
        await self._db.run(failed, item.id, status, erro, wait)

    async def _post(self, item: Claimed, content: bytes) -> tuple[int | None, str]:
        """The receiver's status (None: no answer) and what went wrong, in Portuguese."""
        allow = self._settings.webhooks_allow_private
        # httpx's limits are per step (connect, each read): one deadline for the whole attempt,
        # so a receiver trickling its answer cannot outlast the lease
        with trio.move_on_after(self._settings.webhook_timeout_s):
            try:
                url = check_url(item.url, allow)
                addresses = await resolve(url, allow)
                signed = sign([self._box.open(WEBHOOK, s) for s in item.segredos], content)
            except AddressRefused as exc:
                return None, str(exc)
            except Unreadable as exc:
                log.error("webhooks: delivery %s not signed: %s", item.id, exc)
                return None, UNREADABLE
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": USER_AGENT,
                "X-Balto-Evento": item.evento,
                "X-Balto-Entrega": item.id,
                HEADER: signed,
            }
            refused = CONNECT_FAILED
            # the addresses the check saw, in the resolver's order, as a browser would try them;
            # through a proxy, the name as it is (the proxy connects)
            routes = (
                [(url, {}, {})]
                if via_proxy(url)
                else [pinned(url, address) for address in addresses[:MAX_ADDRESSES]]
            )
            for target, host, extensions in routes:
                request = self._http.build_request(
                    "POST", target, content=content, headers=headers | host, extensions=extensions
                )
                try:
                    # streamed and closed unread: a receiver cannot make us hold a large answer
                    response = await self._http.send(request, stream=True)
                except httpx.ConnectError as exc:
                    refused = _why(exc)
                    continue
                except httpx.HTTPError as exc:
                    return None, _why(exc)
                await response.aclose()
                if 200 <= response.status_code < 300:
                    return response.status_code, ""
                return response.status_code, f"o receptor respondeu HTTP {response.status_code}"
            return None, refused
        return None, NO_ANSWER


async def _forget(db: Database) -> None:
    # in batches, pausing between them: the live traffic's writes never wait behind one delete
    for _ in range(10_000):
        if not await db.run(forget_older_than, KEEP_DAYS):
            return
        await trio.sleep(0.2)


async def _keep_forgetting(db: Database) -> None:
    while True:
        try:
            await _forget(db)
        except DatabaseUnavailable as exc:
            log.warning("webhooks: old deliveries not forgotten this time (%s)", exc)
        except Exception:  # a bug here must not end the server: the next round tries again
            log.exception("webhooks: forgetting old deliveries failed")
        await trio.sleep(FORGET_EVERY_S)


async def keep_delivering(
    db: Database,
    settings: Settings,
    dsn: str,
    box: Box,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Deliver what is due until cancelled, woken by `dsn`'s notifications between polls.

    `box` opens the webhooks' secrets.
    """
    timeout = httpx.Timeout(settings.webhook_timeout_s)
    limits = httpx.Limits(max_connections=PARALLEL, max_keepalive_connections=0)
    async with (
        httpx.AsyncClient(timeout=timeout, follow_redirects=False, limits=limits) as http,
        trio.open_nursery() as nursery,
    ):
        nursery.start_soon(_keep_forgetting, db)
        deliverer = Deliverer(db, settings, http, box)
        await nursery.start(deliverer.run)
        # not waited for: until it listens (or while the database is away) the poll suffices
        send, receive = trio.open_memory_channel[str](WAKE_BUFFER)
        nursery.start_soon(listen, dsn, WAKE_CHANNEL, send)
        nursery.start_soon(deliverer.woken_by, receive)
        task_status.started()
