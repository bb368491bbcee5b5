"""Ops and admin read routes: liveness, readiness, live sessions with per-actor health."""

from __future__ import annotations

from quart import Blueprint, Response, current_app, jsonify

from balto.services import Services
from balto.web.auth import is_admin
from balto.web.errors import error

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


@blueprint.get("/admin/sessions")
async def list_sessions() -> tuple[Response, int]:
    """Every live session with its per-actor health."""
    services = _services()
    if not is_admin(services.admin_secret):
        return error(
            401, "unauthorized", "Authorization: Bearer <ADMIN_SECRET> ausente ou inválido"
        )
    sessions = [live.session.snapshot() for live in services.registry.all()]
    return jsonify({"sessions": sessions}), 200


@blueprint.get("/admin/sessions/<balcao_id>")
async def get_session(balcao_id: str) -> tuple[Response, int]:
    """One balcão's live session."""
    services = _services()
    if not is_admin(services.admin_secret):
        return error(
            401, "unauthorized", "Authorization: Bearer <ADMIN_SECRET> ausente ou inválido"
        )
    live = services.registry.get(balcao_id)
    if live is None:
        return error(404, "not_found", "nenhuma sessão ativa para este balcão")
    return jsonify(live.session.snapshot()), 200
