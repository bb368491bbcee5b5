"""Admin routes over an attendant's voiceprint (issue 16).

All need the admin secret (401), or a gestor's session for its own cliente's attendants (a
store's gestor: its own store's).

``PUT /admin/atendentes/{id}/voz`` with a recording as the body (``Content-Type: audio/wav`` or
``audio/webm``; 15-60 s of the attendant speaking; at most `MAX_VOICE_BYTES`) → 200 ``{"id",
"duracao_s", "fala_s", "qualidade": "boa"|"aceitavel", "mensagem", "modelo"}``; a new recording
replaces the voiceprint. Errors (JSON, Portuguese message): 400 empty or undecodable body,
413 longer than 60 s or too big, 415 another content type, 422 shorter than 15 s, no speech or
too little usable speech, 404 unknown attendant. Only the voiceprint is stored, never the audio.
``DELETE /admin/atendentes/{id}/voz`` → 204 (404 when it has none): identification stops at the
next segment of every session.
"""

from __future__ import annotations

import re
from typing import Any

import trio
from quart import Blueprint, Response, jsonify, request
from quart_trio.wrappers.request import TrioRequest

from balto.speaker.enroll import EnrollmentError, enroll
from balto.speaker.voiceprint import MODEL
from balto.store.atendentes import get_atendente
from balto.store.voiceprints import delete_voiceprint, save_voiceprint
from balto.web.audit import audit
from balto.web.auth import app_services, require_admin
from balto.web.errors import error
from balto.web.path_ids import touchable
from balto.web.principal import for_lojas

blueprint = Blueprint("admin_voice", __name__)
blueprint.before_request(require_admin)

MAX_VOICE_BYTES = 16 * 1024 * 1024
"""Largest recording body (60 s of 48 kHz stereo 16-bit WAV is 11 MiB; the proxy passes 16)."""
_VOICE_PATH = re.compile(r"/admin/atendentes/[^/]+/voz/?")


class VoiceBodyRequest(TrioRequest):
    """The app's request: the recording route may carry `MAX_VOICE_BYTES`, others the app's cap."""

    def __init__(self, method: str, scheme: str, path: str, *args: Any, **kwargs: Any) -> None:
        if method == "PUT" and _VOICE_PATH.fullmatch(path):
            kwargs["max_content_length"] = MAX_VOICE_BYTES
        super().__init__(method, scheme, path, *args, **kwargs)


@blueprint.put("/admin/atendentes/<atendente_id>/voz")
@for_lojas
async def put_voice(atendente_id: str) -> tuple[Response, int]:
    """Enroll the attendant's voice from the recording in the body."""
    key = await touchable("atendente", atendente_id)
    db = app_services().db
    if key is None or await db.run(get_atendente, key) is None:
        return error(404, "not_found", "atendente não encontrado")
    data = await request.get_data(cache=False, as_text=False)
    body = data if isinstance(data, bytes) else data.encode()
    content_type = request.headers.get("Content-Type")
    try:
        made = await trio.to_thread.run_sync(enroll, body, content_type)
    except EnrollmentError as exc:
        return error(exc.status, exc.code, exc.message)
    del body  # the recording goes no further than this request
    data = made.voiceprint.to_bytes()
    if not await db.run(save_voiceprint, key, MODEL, data, made.fala_s, made.qualidade):
        return error(404, "not_found", "atendente não encontrado")
    await audit("enroll_voz", atendente_id=key, fala_s=made.fala_s, qualidade=made.qualidade)
    return jsonify(
        {
            "id": key,
            "duracao_s": made.duracao_s,
            "fala_s": made.fala_s,
            "qualidade": made.qualidade,
            "mensagem": made.mensagem,
            "modelo": MODEL,
        }
    ), 200


@blueprint.delete("/admin/atendentes/<atendente_id>/voz")
@for_lojas
async def delete_voice(atendente_id: str) -> tuple[str, int] | tuple[Response, int]:
    """Erase the attendant's voiceprint."""
    key = await touchable("atendente", atendente_id)
    services = app_services()
    if key is None or not await services.db.run(delete_voiceprint, key):
        return error(404, "not_found", "atendente sem voz cadastrada")
    await audit("delete_voz", atendente_id=key)
    return "", 204
