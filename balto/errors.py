"""The error vocabulary: one root, provider errors carrying a category.

Vendor exceptions are translated into `ProviderError` once, at the edge (the vendor module), chained
with ``from exc``. Supervisors and failover decide from `ProviderError.category` alone.
"""

from __future__ import annotations

import enum


class Category(enum.StrEnum):
    """What kind of failure a provider call had; decides retry, failover or give up."""

    AUTH = "auth"
    INVALID_REQUEST = "invalid_request"
    RATE_LIMITED = "rate_limited"
    QUOTA = "quota"
    SERVER = "server"
    CONNECTIVITY = "connectivity"
    TIMEOUT = "timeout"
    MALFORMED_RESPONSE = "malformed_response"

    @property
    def permanent(self) -> bool:
        """True when retrying the same call cannot help (bad credentials, a bad request)."""
        return self in (Category.AUTH, Category.INVALID_REQUEST, Category.QUOTA)


class BaltoError(Exception):
    """Root of every error Balto raises on purpose."""


class ConfigError(BaltoError):
    """The configuration is invalid; raised at start, before anything runs."""


class ProviderError(BaltoError):
    """A cloud provider call failed; `category` says how."""

    def __init__(
        self,
        provider: str,
        category: Category,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Describe a failed call to `provider`."""
        super().__init__(f"{provider}: {category.value}: {message}")
        self.provider = provider
        self.category = category
        self.message = message
        self.status = status
        self.retry_after = retry_after


class PermanentError(BaltoError):
    """A failure restarting cannot fix: supervisors escalate it at once instead of retrying."""


class UndecodableAudio(PermanentError):
    """The device's audio stream cannot be decoded at all; the session closes with 4007."""


class NoProviderConfigured(BaltoError):
    """No provider of a role has credentials; the role runs degraded."""


class DeviceGone(BaltoError):
    """The device's socket closed; `code` is the WebSocket close code when known."""

    def __init__(self, code: int | None = None) -> None:
        """Record the close code."""
        super().__init__(f"device disconnected (code {code})")
        self.code = code


class UnusableAnswer(ProviderError):
    """A provider answered (HTTP 200) with something Balto cannot use.

    Attributes:
        reason: Why, as stored for admins: ``resposta_malformada`` (not the JSON asked for),
            ``recusa`` (the model refused) or ``fora_do_esquema`` (JSON that breaks the schema).
        answer: What the provider said, as far as there was anything (truncated by the caller).
    """

    def __init__(self, provider: str, reason: str, message: str, answer: str) -> None:
        """Describe the unusable answer of `provider`."""
        super().__init__(provider, Category.MALFORMED_RESPONSE, message, status=200)
        self.reason = reason
        self.answer = answer
