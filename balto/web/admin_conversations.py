"""Conversations for the Histórico page: a filtered, paged list and one conversation in full.

``GET /admin/history/conversas`` (admin) → ``{"items": [...], "next_cursor"}``: sessions newest
first with balcão, cliente, attendant, start/end, close code and reason, and counts (``falas``,
``recomendacoes``, ``aceitas``, ``alertas``). Filters: ``cliente_id``, ``balcao_id``, ``desde``,
``ate`` (on the start; `balto.web.params`), ``atendente`` (name, case-insensitive) and ``q``
(up to 100 characters: conversations where one utterance, or one suggested product, holds every
word of it, in any order, case and accents; each item then has ``trecho``, the first utterance
holding them).
Like the other history routes, every body says ``"demo"`` (true for data made by ``balto demo``).

``GET /admin/history/conversas/{session_id}`` (admin) → ``{"sessao": {...}, "itens": [...]}``: the
timeline oldest first, each item a ``tipo``: ``fala`` (what was said, or why it was not
transcribed; ``falante`` ``atendente`` / ``cliente`` / null as identified by voice, and
``atendente`` the attendant's name then), ``recomendacao`` (product, ``explicacao`` = why,
``aceita``, ``fonte``), ``alerta`` (sign, reason, guidance, ``ciente_em`` once an admin
acknowledged it) or ``recusa`` (an advisor answer refused: ``erro`` = why, ``texto`` = what it
said, ``fonte`` = provider:model). 404 for an unknown session. The session row's
``falas_apagadas_em`` says when its texts were erased (null: never). A session can last a shift:
the timeline comes in pages of ``limit`` items (1–2,000, default 2,000), ``next_cursor`` set when
more follow (``cursor`` asks for them; 400 naming either when unusable).

``DELETE /admin/history/conversas/{session_id}`` (admin) erases what was said in one ended
conversation (`balto.store.erasure`; a customer's request under the LGPD) → 200 ``{"session_id",
"apagado_em", "falas", "recomendacoes", "alertas", "comparacoes", "recusas"}`` (rows erased now:
zeros when asked again); 409 ``live`` while the session is live; 404 for an unknown session.
Audited (``erase_conversation``).

``GET /admin/history/alertas`` (admin): referral alerts as ``GET /admin/history/alerts`` lists
them, filtered like conversations (``atendente`` included, the alert's own), by ``sinal``, and
with ``sem_ciente=true`` to those no admin has acknowledged yet (the Histórico's "Sem ciente":
alerts of conversations that ended before anyone saw them).

A gestor (a chain's account) uses all four on its own cliente's conversations only: another
cliente's conversation is a 404, another cliente's ``cliente_id`` filter a 403.
"""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from balto.store import conversations, erasure
from balto.web.audit import audit
from balto.web.auth import app_services, require_admin
from balto.web.errors import error
from balto.web.params import (
    bool_arg,
    cursor_arg,
    encode_cursor,
    filters_arg,
    jsonable,
    limit_arg,
    text_arg,
)
from balto.web.path_ids import touchable
from balto.web.principal import for_gestores, for_lojas

blueprint = Blueprint("admin_conversations", __name__)
blueprint.before_request(require_admin)


@blueprint.get("/admin/history/conversas")
@for_lojas
async def list_conversations() -> Response:
    """Conversations, newest first (module docstring)."""
    filters, limit, cursor, atendente, busca = (
        filters_arg(),
        limit_arg(),
        cursor_arg(),
        text_arg("atendente"),
        text_arg("q"),
    )
    page = await app_services().db.run(
        conversations.sessions_page, limit, cursor, filters, atendente, busca
    )
    return jsonify(
        {
            "items": [jsonable(row) for row in page.rows],
            "next_cursor": encode_cursor(page.next_cursor),
            "demo": app_services().settings.demo,
        }
    )


@blueprint.get("/admin/history/alertas")
@for_lojas
async def list_alerts() -> Response:
    """Alerts, newest first, with the conversations' filters, ``sinal`` and ``sem_ciente``."""
    filters, limit, cursor, atendente = (
        filters_arg(),
        limit_arg(),
        cursor_arg(),
        text_arg("atendente"),
    )
    sinal = text_arg("sinal")
    sem_ciente = bool_arg("sem_ciente") or False
    page = await app_services().db.run(
        conversations.alerts_page, limit, cursor, filters, atendente, sinal, sem_ciente
    )
    return jsonify(
        {
            "items": [jsonable(row) for row in page.rows],
            "next_cursor": encode_cursor(page.next_cursor),
            "demo": app_services().settings.demo,
        }
    )


@blueprint.get("/admin/history/conversas/<session_id>")
@for_lojas
async def one_conversation(session_id: str) -> tuple[Response, int]:
    """One conversation's session row and timeline."""
    if (sid := await touchable("session", session_id)) is None:  # or another chain's, store's
        return error(404, "not_found", "conversa não encontrada")
    db = app_services().db
    row = await db.run(conversations.session_row, sid)
    if row is None:
        return error(404, "not_found", "conversa não encontrada")
    limit = limit_arg(conversations.TIMELINE_MAX, conversations.TIMELINE_MAX)
    page = await db.run(conversations.timeline, sid, limit, cursor_arg())
    body = {
        "sessao": jsonable(row),
        "itens": [jsonable(i) for i in page.rows],
        "next_cursor": encode_cursor(page.next_cursor),
    }
    return jsonify({**body, "demo": app_services().settings.demo}), 200


@blueprint.delete("/admin/history/conversas/<session_id>")
@for_gestores
async def erase_conversation(session_id: str) -> tuple[Response, int]:
    """Erase what was said in one ended conversation; answer what was erased."""
    if (sid := await touchable("session", session_id)) is None:
        return error(404, "not_found", "conversa não encontrada")
    try:
        erased = await app_services().db.run(erasure.erase_conversation, sid)
    except erasure.StillLive:
        return error(409, "live", "a conversa ainda está ao vivo: apague depois que ela terminar")
    if erased is None:
        return error(404, "not_found", "conversa não encontrada")
    await audit("erase_conversation", session_id=sid, erased=erased.counts)
    return jsonify({"session_id": sid, "apagado_em": erased.at.isoformat(), **erased.counts}), 200
