"""Accounting of provider calls, shared by the transcriber and the advisor.

Every attempt that reached a provider is a row of ``provider_calls``: failed attempts (retries, the
last failure of a failed-over provider) at zero cost, successful ones with their cost. A call the
breaker refused sent nothing, so it is not accounted.
"""

from __future__ import annotations

from actors.ports import Recorder
from balto.errors import ProviderError
from balto.providers.breaker import CircuitOpen
from balto.providers.guard import GuardedError
from balto.providers.ports import Attempt
from balto.store.sessions import ProviderCall, add_provider_call


async def record_failed_attempts(
    recorder: Recorder,
    kind: str,
    model: str,
    attempts: tuple[Attempt, ...],
    *,
    session_id: str,
    segment_id: str | None,
    audio_seconds: float | None = None,
) -> None:
    """Store each failed attempt of one call."""
    for attempt in attempts:
        call = ProviderCall.failed(kind, model, attempt.latency_s, attempt.error, audio_seconds)
        await recorder.record(add_provider_call, call, session_id=session_id, segment_id=segment_id)


async def record_failure(
    recorder: Recorder,
    kind: str,
    model: str,
    exc: ProviderError,
    latency_s: float,
    *,
    session_id: str,
    segment_id: str | None,
    audio_seconds: float | None = None,
) -> None:
    """Store the attempts of a call that raised `exc` (none when the breaker refused it)."""
    if isinstance(exc, CircuitOpen):
        return
    attempts = exc.attempts if isinstance(exc, GuardedError) else (Attempt(exc, latency_s),)
    await record_failed_attempts(
        recorder,
        kind,
        model,
        attempts,
        session_id=session_id,
        segment_id=segment_id,
        audio_seconds=audio_seconds,
    )
