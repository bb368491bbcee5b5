"""The root of the tree: storage, the recorder, providers, the registry and the web server.

Startup nests (database → providers → keeper, recorder and retention → cluster → web), so
shutdown runs in reverse: devices are told `GOING_AWAY` (1001), Hypercorn drains, the recorder
writes what is queued (to its spool if the database is away), then providers and the database
close. The recorder replays a spool left by an earlier process before sessions it left open are
reconciled, so their own closes land first. With the embedded database, its keeper restarts it
whenever it dies; with ``BALTO_RETENTION_DAYS``, the retention task erases old texts; the
webhooks' deliverer sends what the database queued for the chains' systems.
"""

from __future__ import annotations

import gc
import logging
import secrets
from dataclasses import dataclass

import trio

from balto.audio.workers import FrontEndPool, open_front_end_pool
from balto.catalog import Catalog
from balto.close_codes import CloseCode
from balto.config import Settings
from balto.providers.registry import Providers, open_providers
from balto.recorder import Recorder, Spool
from balto.sealing import Box, box_for
from balto.services import Services
from balto.speaker.source import ClienteVoices
from balto.store import Database, open_database
from balto.store.catalogs import ClienteCatalogs
from balto.store.embedded import server_database
from balto.store.keeper import keep_embedded
from balto.store.reconcile import SERVER_LOST, close_lost_sessions
from balto.store.retention import keep_retention
from balto.store.sealed_secrets import sealed_at_rest
from balto.web.app import BaltoApp
from balto.web.key_cache import KeyCache
from balto.web.server import behind_proxies, make_config, serve_app
from balto.webhooks.deliverer import keep_delivering
from supervisors.cluster import default_instance_id, open_cluster
from supervisors.registry import Registry
from supervisors.session import Pipeline

# The collector's thresholds once the server is up (CPython's defaults: 700, 10, 10). A young
# collection every 10,000 net allocations, not 700: most of a session's objects die young, by
# reference count, before a collection would walk them, so the collector's CPU falls by about
# two thirds, and the middle generation fills 14 times less often, so a full collection (~500 ms
# of CPU at 150 sessions: every session stalls) is rarely due. Each young collection costs more
# (~10 ms, against ~1); the loop lag p99 still fell (docs/BENCHMARKS.md, Capacity, 2026-12-05
# fourth session).
_GC_YOUNG, _GC_MIDDLE, _GC_FULL_EVERY = 10_000, 10, 100

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Running:
    """What a started server reports: where it listens and its services (tests use both)."""

    urls: list[str]
    services: Services

    @property
    def base_url(self) -> str:
        """The first HTTP URL."""
        return self.urls[0]

    def stop(self) -> None:
        """Begin a graceful shutdown."""
        self.services.going_away.set()


async def run_root(
    settings: Settings,
    *,
    port: int | None = None,
    freeze_gc: bool = False,
    task_status: trio.TaskStatus[Running] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the whole server until `Running.stop()` (or cancellation).

    `freeze_gc` (the CLI sets it) moves what startup allocated out of the garbage collector's
    reach once the server is ready.
    """
    admin_secret = settings.admin_secret
    if not admin_secret:
        admin_secret = secrets.token_urlsafe(24)
        log.warning("ADMIN_SECRET is not set; generated one for this run: %s", admin_secret)
    catalog = Catalog.load(settings.catalog_path)
    embedded_dir = None if settings.database_url else settings.data_dir
    box = box_for(settings.secrets_key, settings.secrets_keys_old, embedded_dir)
    async with (
        server_database(settings.database_url, settings.data_dir) as (url, embedded),
        open_database(url, wait_s=settings.db_timeout_s) as db,
        sealed_at_rest(db, box, settings.secrets_drop_unreadable),
        open_providers(settings) as providers,
        open_front_end_pool(settings.vad_workers) as front_ends,
        trio.open_nursery() as infra,
    ):
        if embedded is not None:
            await infra.start(keep_embedded, embedded, settings.pg_restart_s)
        recorder = Recorder(db, Spool(settings.data_dir, settings.spool_max_bytes))
        await infra.start(recorder.run)
        if settings.retention_days:
            await infra.start(keep_retention, db, settings.retention_days)
        await infra.start(keep_delivering, db, settings, url, box)
        try:
            await _serve(
                settings,
                port,
                url,
                db,
                recorder,
                providers,
                front_ends,
                catalog,
                admin_secret,
                box,
                freeze_gc,
                task_status,
            )
        finally:
            with trio.CancelScope(shield=True):
                await recorder.close()
            infra.cancel_scope.cancel()
    log.info("Balto stopped")


async def _serve(
    settings: Settings,
    port: int | None,
    url: str,
    db: Database,
    recorder: Recorder,
    providers: Providers,
    front_ends: FrontEndPool | None,
    catalog: Catalog,
    admin_secret: str,
    box: Box,
    freeze_gc: bool,
    task_status: trio.TaskStatus[Running],
) -> None:
    """Reconcile, join the cluster, then serve devices and admins until `Running.stop()`."""
    # Before any device is accepted. The embedded database is this process's alone: no
    # session of it can be live yet. A shared one is reconciled per instance (open_cluster).
    lost = [] if settings.database_url else await db.run(close_lost_sessions)
    if lost:
        log.warning(
            "closed %d session(s) a dead server process left open (%r): %s",
            len(lost),
            SERVER_LOST,
            ", ".join(lost),
        )
    pipeline = Pipeline(
        recorder=recorder,
        catalogs=ClienteCatalogs(db, settings.em_falta_horas),
        stt=providers.stt,
        stt_missing=providers.stt_missing,
        advisors=providers.advisors,
        catalog=catalog,
        settings=settings,
        front_ends=front_ends,
        voices=ClienteVoices(db),
    )
    registry = Registry()
    stop_serving = trio.Event()
    async with (
        open_cluster(
            db,
            url,
            registry,
            instance_id=settings.instance_id or default_instance_id(),
            heartbeat_s=settings.heartbeat_s,
            timeout_s=settings.heartbeat_timeout_s,
        ) as cluster,
        trio.open_nursery() as nursery,
    ):
        services = Services(
            settings=settings,
            db=db,
            registry=registry,
            pipeline=pipeline,
            admin_secret=admin_secret,
            recorder=recorder,
            cluster=cluster,
            keys=KeyCache(settings.key_cache_s),
            box=box,
            breakers=providers.breakers,
        )
        cluster.control.on_suspend = services.keys.forget_cliente
        urls = await nursery.start(
            serve_app,
            behind_proxies(BaltoApp(services), settings.trusted_proxy_hops),
            make_config(settings, port),
            stop_serving.wait,
        )
        services.ready = True
        if freeze_gc:
            # Everything allocated so far lives as long as the process: move it out of the
            # collector's reach, so a full collection under load does not stall every
            # session for ~150 ms walking it (docs/BENCHMARKS.md, Capacity). Not in tests:
            # many servers share their process there.
            gc.collect()
            gc.freeze()
            # A full collection still walks every live session's objects (~900 each: ~100 ms of
            # CPU at 100 sessions); consider one only every 100 middle-generation collections
            # instead of 10 (garbage cycles that got old wait longer: some memory for fewer
            # stalls of every session; docs/BENCHMARKS.md, Capacity, 2026-12-05).
            gc.set_threshold(_GC_YOUNG, _GC_MIDDLE, _GC_FULL_EVERY)
        log.info("Balto listening on %s (catalog: %d products)", ", ".join(urls), len(catalog))
        task_status.started(Running(urls=urls, services=services))
        await services.going_away.wait()
        log.info("shutting down: closing %d device session(s)", len(services.registry.all()))
        services.registry.close_all(CloseCode.GOING_AWAY, CloseCode.GOING_AWAY.reason)
        stop_serving.set()
