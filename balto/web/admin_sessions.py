"""Admin routes over live sessions: list, snapshot, restart, disconnect; faults when enabled.

Every route needs ``Authorization: Bearer <ADMIN_SECRET>`` (401 otherwise). The fault routes
exist only when ``BALTO_FAULTS=1`` (404 otherwise): they let tests and chaos drills break a live
session on purpose.
"""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator
from pathlib import Path

import trio
from quart import Blueprint, Response, jsonify, request

from balto.close_codes import CloseCode
from balto.web.audit import audit
from balto.web.auth import app_services, require_admin
from balto.web.bodies import json_body
from balto.web.errors import error
from balto.web.json_batches import dumps_batched
from balto.web.params import canonical_uuid
from balto.web.remote_ops import NO_SESSION as _NO_SESSION
from balto.web.remote_ops import forward
from supervisors.faults import Fault

blueprint = Blueprint("admin_sessions", __name__)

STREAM_INTERVAL_S = 1.0  # the dashboard's refresh: live enough, and cheap (snapshots are in memory)


_services = app_services
blueprint.before_request(require_admin)


@blueprint.get("/admin/sessions")
async def list_sessions() -> Response:
    """Every live session of the cluster with its per-actor health and its ``instance``.

    Encoded a few sessions at a time (`dumps_batched`), as the stream is: at hundreds of
    sessions one ``jsonify`` held the Trio thread for milliseconds.
    """
    body = await dumps_batched({"sessions": await _services().cluster.sessions()}, "sessions")
    return Response(body, content_type="application/json")


@blueprint.get("/admin/sessions/stream")
async def stream_sessions() -> Response:
    """Server-sent events: every live session's snapshot, once a second, until shutdown.

    Each event is ``data: {"sessions": [...]}`` (the body of ``GET /admin/sessions``). Browsers'
    ``EventSource`` cannot send the bearer header, so the dashboard reads this with ``fetch``.
    """
    services = _services()

    async def events() -> AsyncIterator[bytes]:
        while not services.going_away.is_set():
            sessions = await services.cluster.sessions()
            event = await dumps_batched({"sessions": sessions}, "sessions")
            yield b"data: " + event.encode() + b"\n\n"
            with trio.move_on_after(STREAM_INTERVAL_S):
                await services.going_away.wait()  # a shutdown ends the stream at once

    response = Response(events(), content_type="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.timeout = None  # a dashboard stays open for hours
    return response


@blueprint.get("/admin/sessions/<balcao_id>")
async def get_session(balcao_id: str) -> tuple[Response, int]:
    """One balcão's live session, on whichever instance holds it."""
    balcao_id = canonical_uuid(balcao_id) or balcao_id  # else 404: no such session
    snapshot = await _services().cluster.session(balcao_id)
    if snapshot is None:
        return error(404, "not_found", _NO_SESSION)
    return jsonify(snapshot), 200


@blueprint.post("/admin/sessions/<balcao_id>/restart")
async def restart_session(balcao_id: str) -> tuple[Response, int]:
    """Restart the session's pipeline actors; the socket stays open and audio keeps flowing."""
    balcao_id = canonical_uuid(balcao_id) or balcao_id  # else 404: no such session
    live = _services().registry.get(balcao_id)
    if live is None:
        return await forward("restart", balcao_id)
    restarted = live.session.restart("requested by an admin")
    sid = live.session.info.session_id
    await audit("restart", balcao_id=balcao_id, session_id=sid, accepted=restarted)
    if not restarted:
        return error(409, "busy", "a sessão não pode ser reiniciada agora; tente de novo")
    return jsonify({"status": "restarting", "session_id": live.session.info.session_id}), 202


@blueprint.post("/admin/sessions/<balcao_id>/disconnect")
async def disconnect_session(balcao_id: str) -> tuple[Response, int]:
    """Close the session's socket with 4005; the device will reconnect."""
    balcao_id = canonical_uuid(balcao_id) or balcao_id  # else 404: no such session
    live = _services().registry.get(balcao_id)
    if live is None:
        return await forward("disconnect", balcao_id)
    code = CloseCode.DISCONNECTED_BY_OPERATOR
    # also a session whose device has left and that is still draining (stuck on a stalled
    # provider, say): the operator asked for it to end
    live.request_close(code, code.reason, even_draining=True)
    await audit("disconnect", balcao_id=balcao_id, session_id=live.session.info.session_id)
    return jsonify({"status": "disconnecting", "session_id": live.session.info.session_id}), 202


def _faults_enabled() -> tuple[Response, int] | None:
    if not _services().settings.faults_enabled:
        return error(404, "not_found", "injeção de falhas desativada (BALTO_FAULTS=1 para ativar)")
    return None


@blueprint.get("/admin/faults")
async def list_faults() -> tuple[Response, int]:
    """The planned faults."""
    if (refused := _faults_enabled()) is not None:
        return refused
    return jsonify({"faults": [f.to_json() for f in _services().faults.all()]}), 200


@blueprint.post("/admin/faults")
async def add_fault() -> tuple[Response, int]:
    """Plan one fault: ``{"target", "kind", "after", "times", "delay_s", "category", ...}``."""
    if (refused := _faults_enabled()) is not None:
        return refused
    body = await json_body()
    if not isinstance(body, dict):
        return error(400, "invalid_body", "o corpo deve ser um objeto JSON")
    try:
        fault = Fault.from_json(body)
    except ValueError as exc:
        return error(400, "invalid_fault", str(exc))
    _services().faults.add(fault)
    await audit("fault_add", fault=fault.to_json())
    return jsonify(fault.to_json()), 201


@blueprint.delete("/admin/faults")
async def clear_faults() -> tuple[Response, int]:
    """Drop every planned fault."""
    if (refused := _faults_enabled()) is not None:
        return refused
    _services().faults.clear()
    await audit("fault_clear")
    return jsonify({"faults": []}), 200


@blueprint.delete("/admin/faults/<fault_id>")
async def remove_fault(fault_id: str) -> tuple[Response, int]:
    """Drop one planned fault."""
    if (refused := _faults_enabled()) is not None:
        return refused
    if not _services().faults.remove(fault_id):
        return error(404, "not_found", "falha não encontrada")
    await audit("fault_remove", fault_id=fault_id)
    return jsonify({"removed": fault_id}), 200


def _count_tasks(task: trio.lowlevel.Task) -> int:
    return 1 + sum(_count_tasks(child) for n in task.child_nurseries for child in n.child_tasks)


def _ffmpeg_children() -> int:
    count = 0
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, _, rest = stat.rpartition(") ")
        ppid = int(rest.split()[1]) if rest else -1
        if ppid == os.getpid() and "ffmpeg" in name:
            count += 1
    return count


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@blueprint.get("/admin/runtime")
async def runtime() -> Response:
    """Process facts for ops and leak checks: tasks, ffmpeg children, RSS, sessions, breakers.

    ``front_end_workers``: per worker its pid, sessions, unanswered requests, why it is broken.

    ``?gc=1`` runs a full garbage collection first, so RSS shows what is really still held.
    """
    if request.args.get("gc") == "1":
        gc.collect()
    root = trio.lowlevel.current_root_task()
    front_ends = _services().pipeline.front_ends
    return jsonify(
        {
            "tasks": _count_tasks(root) if root is not None else None,
            "ffmpeg_processes": _ffmpeg_children(),
            "rss_bytes": _rss_bytes(),
            "sessions": len(_services().registry.all()),
            "breakers": [b.snapshot() for b in _services().breakers.values()],
            "front_end_workers": front_ends.snapshot() if front_ends is not None else [],
        }
    )
