"""Structured logs: one JSON object per line, carrying the balcão and session ids of a session's
records, whether they come from an actor's logger, the supervisor or the device socket."""

from __future__ import annotations

import io
import itertools
import json
import logging

import httpx
import pytest
import trio

from balto.config import Settings, default_vad_workers
from balto.device import stream_file
from balto.errors import ConfigError
from balto.logs import (
    JsonFormatter,
    SessionContext,
    TextFormatter,
    bind_session,
    capture_logs,
    configure_logging,
)
from tests.conftest import ADMIN, FIXTURES, query, register_balcao, start_server, ws_url
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.wiring import provider_env

WAV = FIXTURES / "two_utterances.wav"


def _handler(formatter: logging.Formatter) -> tuple[logging.Handler, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(SessionContext())
    handler.setFormatter(formatter)
    return handler, out


def _logged(formatter: logging.Formatter, emit: object) -> list[str]:
    handler, out = _handler(formatter)
    logger = logging.getLogger("balto.test_logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        assert callable(emit)
        emit(logger)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return out.getvalue().splitlines()


def test_json_lines_carry_the_bound_ids_and_only_then() -> None:
    def emit(logger: logging.Logger) -> None:
        logger.info("fora de sessão")
        with bind_session("b-1", "s-1234567890"):
            logger.warning("linha\ncom quebra: %s", "ação")
            try:
                raise ValueError("boom")
            except ValueError:
                logger.exception("falhou")
        logger.info("de novo fora")

    lines = [json.loads(line) for line in _logged(JsonFormatter(), emit)]
    assert len(lines) == 4  # a newline inside a message stays inside its object
    outside, inside, failed, after = lines
    assert set(outside) == {"time", "level", "logger", "message"}
    assert outside["logger"] == "balto.test_logs" and outside["level"] == "INFO"
    assert outside["time"].endswith("+00:00")
    assert inside["message"] == "linha\ncom quebra: ação"
    assert (inside["balcao_id"], inside["session_id"]) == ("b-1", "s-1234567890")
    assert failed["level"] == "ERROR" and "ValueError: boom" in failed["exc"]
    assert "balcao_id" not in after and "session_id" not in after


def test_explicit_ids_win_over_the_context_and_text_shows_them() -> None:
    def emit(logger: logging.Logger) -> None:
        with bind_session("b-ctx", "s-ctx"):
            logger.info("do ator", extra={"balcao_id": "b-ator", "session_id": "abcdef0123456789"})
        logger.info("sem sessão")

    actor, plain = _logged(TextFormatter(), emit)
    assert actor.endswith("INFO    balto.test_logs: [balcao=b-ator session=abcdef01] do ator")
    assert plain.endswith("balto.test_logs: sem sessão")


def test_log_format_setting() -> None:
    assert Settings.from_env({}).log_format == "text"
    assert Settings.from_env({"BALTO_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(ConfigError, match="BALTO_LOG_FORMAT"):
        Settings.from_env({"BALTO_LOG_FORMAT": "xml"})


def test_configure_logging_writes_json_to_the_stream() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    out = io.StringIO()
    try:
        configure_logging("INFO", "json", out)
        with bind_session("b-9", "s-9"):
            logging.getLogger("balto.x").info("olá")
        logging.getLogger("httpx").info("per-request noise is quieted")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        logging.getLogger("httpx").setLevel(logging.NOTSET)
    [line] = out.getvalue().splitlines()
    assert json.loads(line) | {"time": None} == {
        "time": None,
        "level": "INFO",
        "logger": "balto.x",
        "message": "olá",
        "balcao_id": "b-9",
        "session_id": "s-9",
    }


async def test_a_sessions_records_carry_its_balcao_and_session(
    nursery: trio.Nursery, database_url: str
) -> None:
    stt = FakeElevenLabs(transcripts=["Bom dia.", "Tem dipirona?"])
    running = await start_server(nursery, database_url, **await provider_env(nursery, stt=stt))

    async def operator(balcao_id: str) -> None:
        await trio.sleep(4.0)  # between the utterances, as in test_session_ops
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            response = await http.post(f"/admin/sessions/{balcao_id}/restart", headers=ADMIN)
            assert response.status_code == 202, response.text

    with capture_logs() as lines:
        api_key, balcao_id = await register_balcao(running.base_url)
        async with trio.open_nursery() as inner:
            inner.start_soon(operator, balcao_id)
            run = await stream_file(ws_url(running), api_key, WAV, linger_s=1.0)
        with trio.fail_after(5):  # "session … ended" is logged after the socket closed
            for _ in itertools.count():
                if any(" ended " in line["message"] for line in lines):
                    break
                await trio.sleep(0.05)
    assert run.close_code == 1000
    [(session_id,)] = query(database_url, "SELECT id::text FROM sessions")
    tagged = [line for line in lines if line.get("session_id") == session_id]
    assert all(line["balcao_id"] == balcao_id for line in tagged)
    loggers = {line["logger"] for line in tagged}
    # an actor's own logger, the supervisor (context variables) and the socket handler
    assert {"balto.actor.decoder", "balto.supervisor", "balto.web.device_socket"} <= loggers
    messages = [line["message"] for line in tagged]
    assert any(m.startswith("audio format: wav") for m in messages)
    assert any(m.startswith("restarting ") for m in messages)
    assert not any(m.startswith("[balcao=") for m in messages)  # fields, not text prefixes
    # records from outside the session (the cadastro routes) carry no ids
    cadastro = [line for line in lines if line["logger"] == "balto.web.cadastro"]
    assert len(cadastro) == 2  # cliente and balcão registered
    assert all("session_id" not in line and "balcao_id" not in line for line in cadastro)


def test_vad_workers_default_to_one_per_core_and_reject_bad_values() -> None:
    assert Settings.from_env({}).vad_workers == default_vad_workers() >= 1
    assert Settings.from_env({"BALTO_VAD_WORKERS": "auto"}).vad_workers == default_vad_workers()
    assert Settings.from_env({"BALTO_VAD_WORKERS": "0"}).vad_workers == 0
    assert Settings.from_env({"BALTO_VAD_WORKERS": "3"}).vad_workers == 3
    for bad in ("-1", "two", "1.5"):
        with pytest.raises(ConfigError, match="BALTO_VAD_WORKERS"):
            Settings.from_env({"BALTO_VAD_WORKERS": bad})
