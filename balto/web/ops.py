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
    """Ready for devices: storage open and not shutting down."""
    services = _services()
    if services.ready and not services.going_away.is_set():
        return jsonify({"status": "ready"}), 200
    return jsonify({"status": "not_ready"}), 503
