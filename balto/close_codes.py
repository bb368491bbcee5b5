"""WebSocket close codes sent to devices (documented in the README)."""

from __future__ import annotations

import enum


class CloseCode(enum.IntEnum):
    """Every code Balto closes a device socket with, and the reason text it sends."""

    NORMAL = 1000
    GOING_AWAY = 1001  # server shutting down: reconnect to another instance or later
    TOO_BIG = 1009  # sent by Hypercorn when a frame exceeds BALTO_WS_MAX_MESSAGE_BYTES
    INTERNAL_ERROR = 1011
    INVALID_KEY = 4001  # the seed's code: bad or missing key, non-JSON or binary first frame
    HANDSHAKE_TIMEOUT = 4002
    REVOKED_KEY = 4003
    REPLACED = 4004  # another connection with the same key took over
    DISCONNECTED_BY_OPERATOR = 4005
    SESSION_FAILED = 4006  # the session supervisor gave up after repeated actor failures

    @property
    def reason(self) -> str:
        """The reason text (Portuguese: devices may show it)."""
        return _REASONS[self]


_REASONS = {
    CloseCode.NORMAL: "Sessão encerrada",
    CloseCode.GOING_AWAY: "Servidor encerrando",
    CloseCode.TOO_BIG: "Mensagem muito grande",
    CloseCode.INTERNAL_ERROR: "Erro interno",
    CloseCode.INVALID_KEY: "API Key Invalida",
    CloseCode.HANDSHAKE_TIMEOUT: "Tempo de autenticacao esgotado",
    CloseCode.REVOKED_KEY: "API Key Revogada",
    CloseCode.REPLACED: "Sessao substituida por nova conexao",
    CloseCode.DISCONNECTED_BY_OPERATOR: "Sessao encerrada pelo operador",
    CloseCode.SESSION_FAILED: "Falha na sessao",
}
