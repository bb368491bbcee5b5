"""Ops routes: liveness and readiness (no secret needed; load balancers call them)."""

from __future__ import annotations

from quart import Blueprint, Response, current_app, jsonify

from balto.services import Services

blueprint = Blueprint("ops", __name__)


def _services() -> Services:
    services: Services = current_app.config["BALTO_SERVICES"]
    return services


@blueprint.get("/healthz")
async def healthz() -> Response:
    """The process is up."""
    return jsonify({"status": "ok"})


@blueprint.get("/readyz")
async def readyz() -> tuple[Response, int]:
    """Ready for devices: started, not shutting down, and the database answers.

    503 bodies say why: ``{"status": "not_ready", "reason": "starting" | "shutting_down" |
    "database_unreachable"}``. The database check costs nothing while queries succeed and at
    most one ``SELECT 1`` a second otherwise (`balto.store.database.Database.reachable`).
    """
    services = _services()
    reason = None
    if not services.ready:
        reason = "starting"
    elif services.going_away.is_set():
        reason = "shutting_down"
    elif not await services.db.reachable():
        reason = "database_unreachable"
    if reason is None:
        return jsonify({"status": "ready"}), 200
    return jsonify({"status": "not_ready", "reason": reason}), 503
