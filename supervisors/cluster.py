"""This instance as one of many on a database: identity, heartbeats, cluster-wide live sessions.

`open_cluster` records the instance (``BALTO_INSTANCE_ID``), starts the control plane
(`supervisors.control`) and a heartbeat task, and on exit forgets the instance. Every
``BALTO_HEARTBEAT_S`` the task beats, refreshes the per-actor snapshots of this instance's live
sessions in ``live_sessions``, and reaps the instances silent for more than
``BALTO_HEARTBEAT_TIMEOUT_S``: their live rows go and their sessions are closed with
``server lost`` (`balto.store.reconcile`).

A session claims its balcão's row when it starts (`Cluster.claimed`); when another instance held
it, that instance is told to close its session with 4004. Listings merge this instance's own
sessions (fresh, from memory) with the others' (from the table, at most one heartbeat old); each
carries its ``instance``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import trio

from balto.store import Database
from balto.store.cluster import (
    LiveRow,
    claim,
    heartbeat,
    leave,
    live_session,
    live_sessions,
    reap_dead_instances,
    register_instance,
    release,
)
from supervisors.batches import in_batches
from supervisors.control import ControlPlane
from supervisors.registry import LiveSession, Registry

log = logging.getLogger(__name__)


def default_instance_id() -> str:
    """``hostname-pid-xxxx``: unique per process, and per server when a test runs several."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


def _remote(row: LiveRow) -> dict[str, Any]:
    snapshot = dict(row.snapshot)
    snapshot.setdefault("session_id", row.session_id)
    snapshot.setdefault("balcao_id", row.balcao_id)
    snapshot.setdefault("connected_since", row.connected_at.timestamp())
    if row.nome_balcao is not None:
        snapshot["nome_balcao"] = row.nome_balcao
    return {**snapshot, "instance": row.instance_id}


class Cluster:
    """The cluster as this instance sees it; routes and device handlers reach it via services."""

    def __init__(
        self,
        db: Database,
        registry: Registry,
        control: ControlPlane,
        *,
        heartbeat_s: float,
        timeout_s: float,
    ) -> None:
        """Bind to the database, this instance's registry and its control plane."""
        self.db = db
        self.registry = registry
        self.control = control
        self.instance_id = control.instance_id
        self.heartbeat_s = heartbeat_s
        self.timeout_s = timeout_s

    def _local(self, live: LiveSession) -> dict[str, Any]:
        return {**live.session.snapshot(), "instance": self.instance_id}

    async def claimed(self, live: LiveSession) -> None:
        """Record `live` as its balcão's session; close the one it replaces on another instance."""
        info = live.session.info
        try:
            previous = await self.db.run(
                claim, info.balcao_id, info.session_id, self.instance_id, live.session.snapshot()
            )
            if previous is not None and previous[0] != self.instance_id:
                log.info("session %s replaces %s on instance %s", info.session_id, *previous[::-1])
                await self.control.tell(previous[0], "replace", info.balcao_id, previous[1])
        except Exception:
            # the session serves the device anyway; the listing misses it until the next claim
            log.exception("could not record session %s in the cluster", info.session_id)

    async def released(self, live: LiveSession) -> None:
        """Drop `live`'s row (unless a newer session holds the balcão); never raises."""
        info = live.session.info
        try:
            await self.db.run(release, info.balcao_id, info.session_id)
        except Exception:
            log.exception("could not release session %s in the cluster", info.session_id)

    async def sessions(self) -> list[dict[str, Any]]:
        """Every live session of the cluster, each with its ``instance``."""
        local = [
            {**snapshot, "instance": self.instance_id}
            for _, snapshot in await self.registry.snapshots()
        ]
        mine = {s["balcao_id"] for s in local}
        try:
            rows = await self.db.run(live_sessions)
        except Exception:
            # the database is away: this instance's own sessions are still worth showing
            log.exception("could not read the cluster's live sessions")
            rows = []
        # a balcão renamed since its session started shows its name as it is now
        names = {r.balcao_id: r.nome_balcao for r in rows if r.nome_balcao is not None}
        for snapshot in local:
            snapshot["nome_balcao"] = names.get(snapshot["balcao_id"], snapshot["nome_balcao"])
        others = [_remote(r) for r in rows if r.instance_id != self.instance_id]
        return local + [s for s in others if s["balcao_id"] not in mine]

    async def holder(self, balcao_id: str) -> LiveRow | None:
        """The live session of `balcao_id` on another instance, if any."""
        try:
            balcao_id = str(uuid.UUID(balcao_id))  # canonical: PostgreSQL refuses "urn:uuid:…"
        except ValueError:
            return None
        row = await self.db.run(live_session, balcao_id)
        return row if row is not None and row.instance_id != self.instance_id else None

    async def session(self, balcao_id: str) -> dict[str, Any] | None:
        """One balcão's live session anywhere in the cluster, with its ``instance``."""
        live = self.registry.get(balcao_id)
        if live is not None:
            return self._local(live)
        row = await self.holder(balcao_id)
        return _remote(row) if row is not None else None

    async def _beat_once(self) -> None:
        # Encoded here a few at a time: in the database thread the JSON of 200 snapshots held
        # the GIL (an estimated 10-14 ms) at every beat.
        snapshots = await in_batches(
            await self.registry.snapshots(),
            lambda taken: (
                taken[0].session.info.balcao_id,
                taken[0].session.info.session_id,
                json.dumps(taken[1]),
            ),
        )
        if not await self.db.run(heartbeat, self.instance_id, snapshots, self.heartbeat_s):
            # e.g. the database was away longer than the timeout: the others dropped our live
            # rows and closed our sessions' rows; the beat has recorded the live ones again
            log.error("instance %s had been declared dead; recorded again", self.instance_id)
        reaped = await self.db.run(reap_dead_instances, self.instance_id, self.timeout_s)
        if reaped.instances or reaped.sessions:
            log.warning(
                "instance(s) %s silent for over %.0f s: declared dead, %d session(s) closed: %s",
                ", ".join(reaped.instances) or "-",
                self.timeout_s,
                len(reaped.sessions),
                ", ".join(reaped.sessions),
            )

    async def run_heartbeat(self) -> None:
        """Beat, refresh snapshots and reap every `heartbeat_s` until cancelled."""
        while True:
            try:
                await self._beat_once()
            except Exception:
                # the database is away: beat again next time (others may declare us dead)
                log.exception("cluster heartbeat failed")
            await trio.sleep(self.heartbeat_s)


@contextlib.asynccontextmanager
async def open_cluster(
    db: Database,
    dsn: str,
    registry: Registry,
    *,
    instance_id: str,
    heartbeat_s: float,
    timeout_s: float,
) -> AsyncIterator[Cluster]:
    """Join the cluster (before devices are accepted) and leave it on exit."""
    closed = await db.run(register_instance, instance_id)
    if closed:
        log.warning("closed %d session(s) a previous %s left open", len(closed), instance_id)
    control = ControlPlane(db, dsn, instance_id, registry)
    cluster = Cluster(db, registry, control, heartbeat_s=heartbeat_s, timeout_s=timeout_s)
    async with trio.open_nursery() as nursery:
        await nursery.start(control.run)
        await cluster._beat_once()  # reap before serving: dead instances' sessions close now
        nursery.start_soon(cluster.run_heartbeat)
        log.info("instance %s joined the cluster", instance_id)
        try:
            yield cluster
        finally:
            nursery.cancel_scope.cancel()
            with trio.CancelScope(shield=True), contextlib.suppress(Exception):
                await db.run(leave, instance_id)
