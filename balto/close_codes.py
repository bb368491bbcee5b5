"""WebSocket close codes sent to devices (documented in the README)."""

from __future__ import annotations

import enum


class CloseCode(enum.IntEnum):
    """Every code Balto closes a device socket with, and the reason text it sends."""

    NORMAL = 1000
    GOING_AWAY = 1001  # server shutting down: reconnect to another instance or later
    # The next three fail the connection at the protocol level (`balto.web.ws_protocol`), before
    # the application sees the frame.
    PROTOCOL_ERROR = 1002  # a frame WebSocket itself forbids (bad opcode, unmasked, ...)
    INVALID_TEXT = 1007  # a text frame that is not valid UTF-8
    TOO_BIG = 1009  # a frame exceeds BALTO_WS_MAX_MESSAGE_BYTES
    INTERNAL_ERROR = 1011
    INVALID_KEY = 4001  # the seed's code: bad or missing key, non-JSON or binary first frame
    HANDSHAKE_TIMEOUT = 4002
    REVOKED_KEY = 4003
    REPLACED = 4004  # another connection with the same key took over
    DISCONNECTED_BY_OPERATOR = 4005
    SESSION_FAILED = 4006  # the session supervisor gave up after repeated actor failures
    UNDECODABLE_AUDIO = 4007  # the audio stream cannot be decoded; restarting cannot help
    TRY_AGAIN = 4008  # the database is away and the key is not in the recent-keys cache: retry
    SUSPENDED = 4009  # the cliente's access is suspended: the key is kept, retry once resumed

    @property
    def reason(self) -> str:
        """The reason text (Portuguese: devices may show it)."""
        return _REASONS[self]


_REASONS = {
    CloseCode.NORMAL: "Sessão encerrada",
    CloseCode.GOING_AWAY: "Servidor encerrando",
    CloseCode.PROTOCOL_ERROR: "Erro de protocolo WebSocket",
    CloseCode.INVALID_TEXT: "Texto com UTF-8 invalido",
    CloseCode.TOO_BIG: "Mensagem muito grande",
    CloseCode.INTERNAL_ERROR: "Erro interno",
    CloseCode.INVALID_KEY: "API Key Invalida",
    CloseCode.HANDSHAKE_TIMEOUT: "Tempo de autenticacao esgotado",
    CloseCode.REVOKED_KEY: "API Key Revogada",
    CloseCode.REPLACED: "Sessao substituida por nova conexao",
    CloseCode.DISCONNECTED_BY_OPERATOR: "Sessao encerrada pelo operador",
    CloseCode.SESSION_FAILED: "Falha na sessao",
    CloseCode.UNDECODABLE_AUDIO: "Audio nao decodificavel",
    CloseCode.TRY_AGAIN: "Servico indisponivel, tente novamente",
    CloseCode.SUSPENDED: "Acesso do cliente suspenso",
}
