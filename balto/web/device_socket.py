"""The device WebSocket, ``/ws``, as a raw ASGI endpoint mounted in front of the Quart app.

Why not a Quart route: quart-trio cancels a websocket handler the moment the peer disconnects, so
the session could not drain (the last utterance would never be transcribed or stored), and it turns
an empty binary frame into ``None``. Speaking ASGI directly keeps the same Hypercorn server and
gives the session a clean end-of-stream.

Handshake: the first frame must be text JSON ``{"api_key": "…"}`` within the handshake timeout.
Close codes are in `balto.close_codes.CloseCode` and the README.

While the database is away, a key confirmed within ``BALTO_KEY_CACHE_S`` is accepted from the
key cache (`balto.web.key_cache`) and checked again once the database answers (revoked → 4003,
its cliente suspended → 4009); any other key is closed with 4008 (try again) within
`AUTH_DEADLINE_S`. Every session's key is checked once more right after it is registered, so a
revocation or suspension racing the handshake still closes it. The session's own rows
go through the recorder, which spools them while the database is away.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import trio

from actors.context import SessionInfo
from balto.close_codes import CloseCode
from balto.errors import BaltoError, DeviceGone, UndecodableAudio
from balto.logs import bind_session
from balto.services import Services
from balto.store.cadastro import BalcaoIdentity, authenticate
from balto.store.database import DatabaseUnavailable
from balto.store.sessions import close_session, open_session
from balto.store.supervision import record_supervision
from balto.text_frames import TextFrameError, parse_text_frame
from balto.web.wedge import abort_connection
from supervisors.registry import LiveSession
from supervisors.session import Session, run_session
from supervisors.supervisor import Escalation

log = logging.getLogger(__name__)

ASGIMessage = dict[str, Any]
CLOSE_TIMEOUT_S = 2.0  # a close frame to a device that stopped reading must not hold shutdown
# Closes the protocol layer sends for a bad frame before the session sees it; the session's row
# records them like its own closes.
PROTOCOL_FAILURES = frozenset({CloseCode.PROTOCOL_ERROR, CloseCode.INVALID_TEXT, CloseCode.TOO_BIG})
AUTH_DEADLINE_S = 0.8  # a key check waits this long for the database, then the cache decides
RECHECK_S = 1.0  # a session accepted from the cache asks this often whether the database is back


def _refusal(identity: BalcaoIdentity) -> CloseCode | None:
    """The close a known key gets now: revoked (4003), its cliente suspended (4009), or none."""
    if identity.revoked:
        return CloseCode.REVOKED_KEY
    return CloseCode.SUSPENDED if identity.suspended else None


class TryAgain(BaltoError):
    """The key cannot be checked now (the database is away, the key is not cached)."""


class AsgiDeviceLink:
    """A `DeviceLink` over one ASGI websocket connection.

    Every send is bounded in time: Hypercorn shields its socket writes, so a device that stopped
    reading would otherwise hold the sender (and the shutdown) for as long as the kernel retries.
    Past the bound the connection is aborted (`balto.web.wedge`) and the device counts as gone.
    """

    def __init__(
        self, scope: ASGIMessage, receive: Any, send: Any, *, send_timeout_s: float = 5.0
    ) -> None:
        """Wrap the ASGI callables."""
        self._scope = scope
        self._receive = receive
        self._send = send
        self.send_timeout_s = send_timeout_s
        self.disconnected = False
        self.disconnect_code: int | None = None
        self.disconnect_reason: str | None = None
        self.closed_with: int | None = None
        self.aborted = False

    async def receive(self) -> bytes | str:
        """The next frame; raises `DeviceGone` once the device has left."""
        if self.disconnected or self.closed_with is not None:
            raise DeviceGone(self.disconnect_code)
        event: ASGIMessage = await self._receive()
        if event["type"] == "websocket.receive":
            data = event.get("bytes")
            if data is not None:
                return bytes(data)
            return str(event.get("text") or "")
        self.disconnected = True
        self.disconnect_code = event.get("code")
        self.disconnect_reason = event.get("reason")
        raise DeviceGone(self.disconnect_code)

    async def send_text(self, text: str) -> None:
        """Send one text frame; raises `DeviceGone` if the socket is gone or closing."""
        if self.disconnected or self.closed_with is not None:
            raise DeviceGone(self.disconnect_code)
        await self._bounded_send({"type": "websocket.send", "text": text}, self.send_timeout_s)
        if self.aborted:
            raise DeviceGone(self.disconnect_code)

    async def _bounded_send(self, message: ASGIMessage, timeout: float) -> None:
        # The timer is shielded so that cancelling us (shutdown) cannot stop it while the send
        # itself sits in Hypercorn's shield; it is cancelled explicitly once the send is done.
        timer = trio.CancelScope(shield=True)

        async def abort_when_late() -> None:
            with timer:
                await trio.sleep(timeout)
                self.aborted = self.disconnected = True
                abort_connection(self._scope.get("server"), self._scope.get("client"))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(abort_when_late)
            try:
                await self._send(message)
            finally:
                timer.cancel()

    async def close(self, code: CloseCode, reason: str | None = None) -> None:
        """Close the socket once, with `code`; bounded in time, shielded from cancellation."""
        if self.disconnected or self.closed_with is not None:
            return
        self.closed_with = int(code)
        with trio.CancelScope(shield=True):
            await self._bounded_send(
                {"type": "websocket.close", "code": int(code), "reason": reason or code.reason},
                CLOSE_TIMEOUT_S,
            )


def parse_hello(frame: bytes | str) -> str | None:
    """The API key of a handshake frame, or None when the frame is not a valid handshake."""
    if not isinstance(frame, str):
        return None
    try:
        hello = parse_text_frame(frame)
    except TextFrameError as exc:
        log.warning("handshake frame refused: %s", exc)
        return None
    key = hello.get("api_key") if isinstance(hello, dict) else None
    return key if isinstance(key, str) and key else None


def _leaf(group: BaseExceptionGroup[Escalation]) -> BaseException:
    """The first exception inside nested groups (the supervisor's nursery sits in the session's)."""
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


def _escalation_close(failure: BaseException) -> tuple[CloseCode, str]:
    """The close code of a session its supervisor gave up on, and the reason stored for it.

    Undecodable audio gets its own code: the device's stream is at fault, not the server.
    """
    if isinstance(failure.__cause__, UndecodableAudio):
        return CloseCode.UNDECODABLE_AUDIO, f"{CloseCode.UNDECODABLE_AUDIO.reason}: {failure}"
    return CloseCode.SESSION_FAILED, f"{CloseCode.SESSION_FAILED.reason}: {failure}"


class DeviceEndpoint:
    """Serves ``/ws``: handshake, then one supervised session per connection."""

    def __init__(self, services: Services) -> None:
        """Bind to the process's services."""
        self.services = services

    async def __call__(self, scope: ASGIMessage, receive: Any, send: Any) -> None:
        """Run one device connection to its end."""
        first = await receive()
        if first["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})  # accept first: a close before it is HTTP 403
        link = AsgiDeviceLink(
            scope, receive, send, send_timeout_s=self.services.settings.ws_send_timeout_s
        )
        if self.services.going_away.is_set():
            await link.close(CloseCode.GOING_AWAY)
            return
        try:
            hello = await self._handshake(link)
            if hello is not None:
                await self.services.recorder.record(
                    open_session,
                    hello[0].session_id,
                    hello[0].balcao_id,
                    self.services.cluster.instance_id,
                )
        except TryAgain as exc:
            log.warning("device rejected for now: %s", exc)
            await link.close(CloseCode.TRY_AGAIN)
            return
        except Exception:
            # e.g. the database is unreachable: tell the device plainly, it will reconnect
            log.exception("device handshake failed")
            await link.close(CloseCode.INTERNAL_ERROR)
            return
        if hello is None:
            return
        info, api_key, cached = hello
        with bind_session(info.balcao_id, info.session_id):
            await self._serve(link, info, api_key, cached)

    async def _identify(self, api_key: str) -> tuple[BalcaoIdentity | None, bool]:
        """The key's identity, and whether it came from the cache (the database was away).

        Raises:
            TryAgain: The database is away and the key was not confirmed recently.
        """
        services = self.services
        # Known away: ask the (cached, bounded) readiness probe rather than wait for a timeout.
        if not services.db.away or await services.db.reachable():
            try:
                identity = await services.db.run_within(AUTH_DEADLINE_S, authenticate, api_key)
            except DatabaseUnavailable:
                pass
            else:
                services.keys.remember(api_key, identity)
                return identity, False
        cached = services.keys.lookup(api_key)
        if cached is None:
            raise TryAgain("database unreachable and the key was not confirmed recently")
        log.warning("database unreachable: balcao %s accepted from the key cache", cached.balcao_id)
        return cached, True

    async def _handshake(self, link: AsgiDeviceLink) -> tuple[SessionInfo, str, bool] | None:
        """The session's identity, its key, and whether the key was accepted from the cache."""
        services = self.services
        with trio.move_on_after(services.settings.handshake_timeout_s):
            try:
                frame = await link.receive()
            except DeviceGone:
                return None
            api_key = parse_hello(frame)
            identity, cached = await self._identify(api_key) if api_key else (None, False)
            if identity is None or not api_key:
                log.warning("device rejected: invalid api key or handshake frame")
                await link.close(CloseCode.INVALID_KEY)
                return None
            refused = _refusal(identity)
            if refused is not None:
                log.warning("device rejected: %s for balcao %s", refused.name, identity.balcao_id)
                await link.close(refused)
                return None
            info = SessionInfo(
                session_id=str(uuid.uuid4()),
                balcao_id=identity.balcao_id,
                cliente_id=identity.cliente_id,
                nome_balcao=identity.nome_balcao,
            )
            return info, api_key, cached
        log.warning(
            "device rejected: no handshake within %.1f s", services.settings.handshake_timeout_s
        )
        await link.close(CloseCode.HANDSHAKE_TIMEOUT)
        return None

    async def _recheck(self, live: LiveSession, api_key: str, cached: bool) -> None:
        """Check the key again once the session is registered; close the session if refused.

        A cache-accepted key is checked once the database answers. Any other is checked once,
        right away: a revocation or a suspension that committed after the handshake's check
        but before the session was registered would otherwise miss it (its close is sent to
        the sessions registered then).
        """
        services = self.services
        while True:
            if cached:
                await trio.sleep(RECHECK_S)
                # One shared probe a second tells every such session whether to try; asking the
                # pool from each of them would tie up its slots while the database is away.
                if services.db.away and not await services.db.reachable():
                    continue
            try:
                identity = await services.db.run_within(AUTH_DEADLINE_S, authenticate, api_key)
            except DatabaseUnavailable:
                if cached:
                    continue
                return  # the handshake's answer stands: the database's latest word
            except Exception:
                # a check that cannot be made must not end a session that was let in
                log.exception(
                    "could not check the key of balcao %s again", live.session.info.balcao_id
                )
                return
            services.keys.remember(api_key, identity)
            refused = CloseCode.REVOKED_KEY if identity is None else _refusal(identity)
            if refused is not None:
                log.warning(
                    "balcao %s refused now (%s): closing", live.session.info.balcao_id, refused.name
                )
                live.request_close(refused, refused.reason)
            return

    async def _serve(
        self, link: AsgiDeviceLink, info: SessionInfo, api_key: str, cached: bool
    ) -> None:
        services = self.services
        session = Session(info)
        live = LiveSession(session, device_left=lambda: link.disconnected)
        services.registry.register(live)
        await services.cluster.claimed(live)  # closes this balcão's session on another instance
        log.info(
            "session %s started for balcao %s (%s)",
            info.session_id,
            info.balcao_id,
            info.nome_balcao,
        )
        code: CloseCode | None = None
        reason: str | None = None
        wire_reason: str | None = None  # what the device is sent, when not the stored reason
        try:
            with live.cancel_scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._recheck, live, api_key, cached)
                    await run_session(session, link, services.pipeline, faults=services.faults)
                    nursery.cancel_scope.cancel()
            code, reason = live.close_code, live.close_reason
        except* Escalation as group:
            failure = _leaf(group)
            code, reason = _escalation_close(failure)
            if code is CloseCode.UNDECODABLE_AUDIO:
                wire_reason = code.reason  # ffmpeg's English detail stays on the row
                # the device's fault, not the server's: no ERROR for an operator to chase
                log.warning("session %s: undecodable audio: %s", info.session_id, failure)
            else:
                log.error("session %s escalated: %s", info.session_id, failure)
        except* Exception:
            log.exception("session %s crashed", info.session_id)
            code, reason = CloseCode.INTERNAL_ERROR, CloseCode.INTERNAL_ERROR.reason
        finally:
            services.registry.unregister(live)
            if code is None and live.close_code is not None:
                code, reason = live.close_code, live.close_reason
            if code is not None:
                await link.close(code, wire_reason or reason)
            elif not link.disconnected:
                code = CloseCode.NORMAL
                await link.close(code)
            final_code = int(code) if code is not None else None
            if code is None and link.disconnect_code in PROTOCOL_FAILURES:
                # the server failed the connection for a bad frame (`balto.web.ws_protocol`)
                final_code, reason = link.disconnect_code, link.disconnect_reason
            elif code is None and link.disconnected:
                # Hypercorn reports every client-initiated close as 1006, whatever code the
                # device sent, so the code is unknown here; say who closed instead.
                reason = "device disconnected"
            with trio.CancelScope(shield=True):
                await services.cluster.released(live)
                await services.recorder.record(
                    close_session,
                    info.session_id,
                    audio_format=session.stats.audio_format,
                    audio_seconds=session.stats.audio_seconds,
                    close_code=final_code,
                    close_reason=reason,
                )
                await services.recorder.record(
                    record_supervision,
                    info.session_id,
                    segments_emitted=session.segments_emitted,
                    segments_dropped=session.segments_dropped,
                    restarts=session.restarts,
                )
            log.info("session %s ended (code %s)", info.session_id, final_code)
