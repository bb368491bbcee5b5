"""The web application: Quart-Trio routes plus the raw ASGI device socket at ``/ws``."""

from __future__ import annotations

import logging
from typing import Any, cast

from quart import Response, request
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException

from balto.sealing import Unreadable
from balto.services import Services
from balto.store.database import DatabaseUnavailable
from balto.web import (
    admin_atendentes,
    admin_balcoes,
    admin_cadastro,
    admin_catalog,
    admin_charts,
    admin_chaves,
    admin_conversations,
    admin_em_falta,
    admin_gestores,
    admin_history,
    admin_live,
    admin_lojas,
    admin_sessions,
    admin_suspension,
    admin_two_step,
    admin_voice,
    admin_webhooks,
    cadastro,
    counter,
    dashboard,
    export,
    metrics,
    ops,
    pages,
    signin,
)
from balto.web.auth import limit_bearer_guesses
from balto.web.device_socket import DeviceEndpoint
from balto.web.errors import FieldError, error
from balto.web.key_limit import budget_headers
from balto.web.principal import OutsideScope

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024  # cadastro bodies are a few hundred bytes
RETRY_AFTER_S = 5  # a database restart or failover takes seconds, not minutes


async def read_small_body() -> None:
    """Read a request's body (up to `MAX_BODY_BYTES`) before anything answers it.

    An answer given before the body has arrived (a 401, 403, 404 or 405, decided on the headers)
    makes Hypercorn close the connection after it, without ``Connection: close``: a client that
    sends its next request down that connection meanwhile gets no answer (browsers and httpx
    write headers and body apart). Read first, the body is out of the way and the connection
    stays usable. Bigger bodies (recordings, catalogs) are left to their routes, which check the
    admin first, so no one unsigned makes the server read megabytes.
    """
    length = request.content_length
    if length is not None and 0 < length <= MAX_BODY_BYTES:
        await request.get_data(cache=True, as_text=False)


def create_quart_app(services: Services) -> QuartTrio:
    """The Quart-Trio app with every HTTP route; errors always answer JSON."""
    app = QuartTrio("balto", static_folder=None)  # the admin pages serve their own (pages.py)
    app.config["BALTO_SERVICES"] = services
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.before_request(read_small_body)  # first: whatever answers next, the connection lives on
    app.before_request(limit_bearer_guesses)  # before every blueprint's own check
    app.after_request(budget_headers)  # a chain's API key is told what is left of its budget
    app.register_blueprint(cadastro.blueprint)
    app.register_blueprint(ops.blueprint)
    app.register_blueprint(admin_sessions.blueprint)
    for extra in (admin_history, admin_cadastro, admin_atendentes, dashboard, export, metrics):
        app.register_blueprint(extra.blueprint)
    # the admin app (issue 15): sign-in, pages, their data routes, the cliente's catalog
    for app_part in (signin, admin_live, admin_conversations, admin_charts, admin_catalog, pages):
        app.register_blueprint(app_part.blueprint)
    app.register_blueprint(admin_gestores.blueprint)  # chains' own accounts
    app.register_blueprint(admin_two_step.blueprint)  # their second step at sign-in
    app.register_blueprint(admin_chaves.blueprint)  # and their systems' read-only keys
    app.register_blueprint(admin_lojas.blueprint)  # and their stores
    app.register_blueprint(admin_balcoes.blueprint)  # and their balcões' names and stores
    app.register_blueprint(admin_suspension.blueprint)  # a chain's access suspended, resumed
    app.register_blueprint(admin_webhooks.blueprint)  # its system told of alerts as they happen
    app.register_blueprint(admin_em_falta.blueprint)  # products out of stock, per store
    app.register_blueprint(pages.assets)
    app.register_blueprint(pages.root)
    app.register_blueprint(counter.blueprint)  # the counter's own screen, a device in a browser
    app.register_blueprint(admin_voice.blueprint)
    # Two routes take bigger bodies than MAX_BODY_BYTES: voice recordings and catalogs.
    app.request_class = admin_voice.VoiceBodyRequest
    admin_catalog.allow_catalog_bodies(app)  # subclasses the request class set just above

    @app.errorhandler(FieldError)
    async def field_error(exc: FieldError) -> tuple[Response, int]:
        return error(400, "invalid_field", exc.message, field=exc.field)

    @app.errorhandler(OutsideScope)
    async def outside_scope(exc: OutsideScope) -> tuple[Response, int]:
        what = "loja fora do seu acesso" if exc.field == "loja_id" else "cliente de outra rede"
        return error(403, "forbidden", what, field=exc.field)

    @app.errorhandler(DatabaseUnavailable)
    async def database_unavailable(exc: DatabaseUnavailable) -> tuple[Response, int]:
        # the pool's wait is bounded (BALTO_DB_TIMEOUT_S): answer fast, ask to come back
        log.warning("database unavailable: %s", exc)
        response, status = error(
            503, "database_unavailable", "banco de dados indisponível; tente novamente"
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response, status

    @app.errorhandler(Unreadable)
    async def unreadable(exc: Unreadable) -> tuple[Response, int]:
        # another instance sealed with a key this one lacks (a rotation half done): the
        # operator's to fix, so it is logged loudly and the person told to try later
        log.error("a stored secret cannot be opened here: %s", exc)
        return error(
            503,
            "secrets_unreadable",
            "este servidor não consegue ler um segredo guardado; avise o operador",
        )

    @app.errorhandler(HTTPException)
    async def http_error(exc: HTTPException) -> tuple[Response, int]:
        status = exc.code or 500
        name = (exc.name or "error").lower().replace(" ", "_")
        return error(status, name, exc.description or exc.name or "error")

    @app.errorhandler(Exception)
    async def unexpected(exc: Exception) -> tuple[Response, int]:
        log.exception("unhandled error in a route")
        return error(500, "internal_error", "erro interno")

    return app


class BaltoApp:
    """ASGI entry: ``/ws`` websockets go to the device endpoint, everything else to Quart."""

    def __init__(self, services: Services) -> None:
        """Build both halves."""
        self.quart = create_quart_app(services)
        self.devices = DeviceEndpoint(services)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Dispatch one ASGI connection."""
        if scope["type"] == "websocket" and scope.get("path") == "/ws":
            await self.devices(scope, receive, send)
            return
        await self.quart(cast(Any, scope), receive, send)
