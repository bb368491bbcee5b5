"""Configuration from the environment (optionally a ``.env`` file), read once at start.

Every name is listed in the README's configuration table. Invalid values raise `ConfigError`
before anything starts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from balto.errors import ConfigError
from balto.pricing import DEFAULT_PRICING, Pricing
from balto.sealing import parse_key

DEFAULT_PORT = 8765
FALLBACK_PORT = 8766


def load_dotenv(path: Path) -> dict[str, str]:
    """Parse a ``KEY=value`` file; blank lines and ``#`` comments are skipped, quotes stripped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def _hops(env: Mapping[str, str]) -> int:
    """``BALTO_TRUSTED_PROXY_HOPS``: a whole number of proxies, 0 to 5."""
    value = _float(env, "BALTO_TRUSTED_PROXY_HOPS", 0)
    if value != int(value) or value > _MAX_PROXY_HOPS:
        raise ConfigError(f"BALTO_TRUSTED_PROXY_HOPS must be a whole number 0-5, got {value:g}")
    return int(value)


_MAX_PROXY_HOPS = 5  # more proxies in a row than this is a misconfiguration, not a deployment


def _retention_days(env: Mapping[str, str]) -> int:
    """``BALTO_RETENTION_DAYS``: whole days, 0 (keep everything) to 36500."""
    value = _float(env, "BALTO_RETENTION_DAYS", 0)
    if value != int(value) or value > _MAX_RETENTION_DAYS:
        raise ConfigError(f"BALTO_RETENTION_DAYS must be a whole number 0-36500, got {value:g}")
    return int(value)


_MAX_RETENTION_DAYS = 36_500


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {raw!r}")
    return value


def default_vad_workers() -> int:
    """Front-end worker processes when ``BALTO_VAD_WORKERS`` is unset or ``auto``.

    One per core, at most 4: one worker carries ~250 sessions' denoise + VAD; more only cost
    memory.
    """
    return max(1, min(4, os.cpu_count() or 1))


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    """A number over zero (zero would mean no wait or no time at all)."""
    value = _float(env, name, default)
    if value == 0:
        raise ConfigError(f"{name} must be more than zero")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    """An on/off setting: 1, true or yes turn it on."""
    return (env.get(name) or "").strip().lower() in ("1", "true", "yes")


def _workers(env: Mapping[str, str]) -> int:
    raw = (env.get("BALTO_VAD_WORKERS") or "auto").strip().lower()
    if raw == "auto":
        return default_vad_workers()
    if not raw.isdigit():
        raise ConfigError(f"BALTO_VAD_WORKERS must be auto or a whole number >= 0, got {raw!r}")
    return int(raw)


def _order(env: Mapping[str, str], name: str, default: str, known: set[str]) -> tuple[str, ...]:
    raw = env.get(name) or default
    order = tuple(part.strip().lower() for part in raw.split(",") if part.strip())
    unknown = [p for p in order if p not in known]
    if unknown:
        raise ConfigError(f"{name}: unknown provider(s) {unknown}; known: {sorted(known)}")
    return order


def _share(env: Mapping[str, str], name: str) -> float:
    value = _float(env, name, 0.0)
    if value > 1:
        raise ConfigError(f"{name} is a fraction between 0 and 1, got {value:g}")
    return value


def _log_format(env: Mapping[str, str]) -> str:
    value = (env.get("BALTO_LOG_FORMAT") or "text").strip().lower()
    if value not in ("text", "json"):
        raise ConfigError(f"BALTO_LOG_FORMAT must be text or json, got {value!r}")
    return value


def _metrics_token(env: Mapping[str, str]) -> str | None:
    token = env.get("BALTO_METRICS_TOKEN") or None
    if token is not None and token == env.get("ADMIN_SECRET"):
        # the token is refused by admin routes; the same string would make it the admin secret
        raise ConfigError("BALTO_METRICS_TOKEN must differ from ADMIN_SECRET")
    return token


def _secrets_keys(env: Mapping[str, str]) -> tuple[bytes | None, tuple[bytes, ...]]:
    current = env.get("BALTO_SECRETS_KEY") or None
    old = [k for k in (env.get("BALTO_SECRETS_KEYS_OLD") or "").split(",") if k.strip()]
    return (
        None if current is None else parse_key(current, "BALTO_SECRETS_KEY"),
        tuple(parse_key(k, "BALTO_SECRETS_KEYS_OLD") for k in old),
    )


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, with the defaults the README documents."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    port_explicit: bool = False
    database_url: str | None = None
    data_dir: Path = Path("var")
    admin_secret: str | None = None
    # TOTP and webhook secrets sealed at rest (balto/sealing.py); older keys only open
    secrets_key: bytes | None = field(default=None, repr=False)
    secrets_keys_old: tuple[bytes, ...] = field(default=(), repr=False)
    secrets_drop_unreadable: bool = False  # a lost key's secrets dropped at start
    elevenlabs_api_key: str | None = None
    elevenlabs_base_url: str = "https://api.elevenlabs.io"
    elevenlabs_model: str = "scribe_v2"
    xai_api_key: str | None = None
    xai_base_url: str = "https://api.x.ai/v1"
    xai_model: str = "grok-4-1-fast-non-reasoning"
    openai_api_key: str | None = None
    openai_base_url: str = "https://api.openai.com/v1"
    openai_model: str = "gpt-4o-mini"
    # Issue 5: backup/comparison STT, retries, breakers, comparison share, advice cooldown.
    assemblyai_api_key: str | None = None
    assemblyai_base_url: str = "https://api.assemblyai.com"
    assemblyai_models: tuple[str, ...] = ("universal-3-5-pro", "universal-2")
    assemblyai_poll_s: float = 0.3
    openai_stt_api_key: str | None = None
    openai_stt_base_url: str | None = None  # None: OPENAI_BASE_URL
    openai_stt_model: str = "gpt-4o-mini-transcribe"
    stt_compare_share: float = 0.0
    provider_attempts: int = 3
    provider_max_retry_after_s: float = 5.0
    breaker_failures: int = 3
    breaker_probe_s: float = 10.0
    advice_cooldown_s: float = 2.0
    advice_pause_s: float = 60.0
    em_falta_horas: float = 24.0
    stt_order: tuple[str, ...] = ("elevenlabs", "assemblyai")
    llm_order: tuple[str, ...] = ("xai", "openai", "catalog")
    stt_timeout_s: float = 10.0
    llm_timeout_s: float = 6.0
    handshake_timeout_s: float = 10.0
    vad_pause_s: float = 0.5
    vad_max_segment_s: float = 15.0
    ws_max_message_bytes: int = 1 << 20
    tcp_user_timeout_ms: int = 10_000
    catalog_path: Path | None = None
    pricing: Pricing = field(default_factory=lambda: DEFAULT_PRICING)
    log_level: str = "INFO"
    log_format: str = "text"  # or "json": one object per line (`balto.logs`)
    restart_intensity: int = 5
    restart_period_s: float = 30.0
    watchdog_s: float = 45.0
    ws_send_timeout_s: float = 5.0
    faults_enabled: bool = False
    vad_denoise: bool = True
    vad_workers: int = field(default_factory=default_vad_workers)
    # Issue 14: cadastro abuse limits, the metrics scrape token, the readiness probe.
    cadastro_max_failures: int = 5
    cadastro_window_s: float = 60.0
    metrics_token: str | None = None
    db_timeout_s: float = 2.0
    # Issue 13: several instances on one database (`supervisors.cluster`, `supervisors.control`).
    instance_id: str = ""  # BALTO_INSTANCE_ID; empty: hostname-pid-random, set at start
    heartbeat_s: float = 2.0
    heartbeat_timeout_s: float = 10.0
    # Reverse proxies in front of Balto whose X-Forwarded-For / -Proto / -Host it believes (0:
    # none). Only with Balto reachable through them alone: a client could forge the header.
    trusted_proxy_hops: int = 0
    # The recorder's spool cap (bytes) and how long a confirmed API key is trusted while the
    # database is away (seconds; 0 disables the cache).
    spool_max_bytes: int = 256 * 1024 * 1024
    # days after which what was said is erased (balto/store/retention.py); 0 keeps everything
    retention_days: int = 0
    key_cache_s: float = 24 * 3600.0
    # a chain's API key's work per minute, cluster-wide (`balto.store.key_budget`; 0: no limit)
    api_key_budget: int = 600
    # A chain's webhooks (`balto.webhooks`): the first retry's wait (later ones are multiples),
    # the attempts before a delivery is given up, each attempt's time limit, and whether
    # loopback/private addresses and plain HTTP may be called (a receiver on the servers' own
    # network; tests).
    webhook_retry_s: float = 10.0
    webhook_attempts: int = 8
    webhook_timeout_s: float = 10.0
    webhooks_allow_private: bool = False
    pg_restart_s: float = 1.0  # the embedded database's keeper waits this before a restart
    # Issue 15: `balto demo` runs with the loopback fakes and marks every page and report as demo
    # data; the admin pages show costs in BRL at this rate and times in this zone.
    demo: bool = False
    brl_per_usd: float = 5.0
    timezone: str = "America/Sao_Paulo"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, dotenv: Path | None = None) -> Settings:
        """Build settings from `env` (default: ``os.environ`` over ``./.env``)."""
        if env is None:
            merged = load_dotenv(dotenv or Path(".env"))
            merged.update(os.environ)
            env = merged
        port_raw = env.get("PORT")
        try:
            port = int(port_raw) if port_raw else DEFAULT_PORT
        except ValueError as exc:
            raise ConfigError(f"PORT must be an integer, got {port_raw!r}") from exc
        if not 0 <= port <= 65535:
            raise ConfigError(f"PORT out of range: {port}")
        pricing = DEFAULT_PRICING
        if env.get("BALTO_PRICING"):
            try:
                pricing = DEFAULT_PRICING.merged(json.loads(env["BALTO_PRICING"]))
            except (ValueError, TypeError) as exc:
                raise ConfigError(
                    f"BALTO_PRICING is not a valid pricing JSON object: {exc}"
                ) from exc
        catalog = env.get("BALTO_CATALOG")
        secrets_key, secrets_keys_old = _secrets_keys(env)
        d = cls()  # defaults (slotted dataclass: class attributes are descriptors)
        return cls(
            host=env.get("BALTO_HOST") or "127.0.0.1",
            port=port,
            port_explicit=bool(port_raw),
            database_url=env.get("BALTO_DATABASE_URL") or None,
            data_dir=Path(env.get("BALTO_DATA_DIR") or "var"),
            admin_secret=env.get("ADMIN_SECRET") or None,
            secrets_key=secrets_key,
            secrets_keys_old=secrets_keys_old,
            secrets_drop_unreadable=_flag(env, "BALTO_SECRETS_DROP_UNREADABLE"),
            elevenlabs_api_key=env.get("ELEVENLABS_API_KEY") or None,
            elevenlabs_base_url=env.get("ELEVENLABS_BASE_URL") or d.elevenlabs_base_url,
            elevenlabs_model=env.get("BALTO_ELEVENLABS_MODEL") or d.elevenlabs_model,
            xai_api_key=env.get("XAI_API_KEY") or None,
            xai_base_url=env.get("XAI_BASE_URL") or d.xai_base_url,
            xai_model=env.get("BALTO_XAI_MODEL") or d.xai_model,
            openai_api_key=env.get("OPENAI_API_KEY") or None,
            openai_base_url=env.get("OPENAI_BASE_URL") or d.openai_base_url,
            openai_model=env.get("BALTO_OPENAI_MODEL") or d.openai_model,
            assemblyai_api_key=env.get("ASSEMBLYAI_API_KEY") or None,
            assemblyai_base_url=env.get("ASSEMBLYAI_BASE_URL") or d.assemblyai_base_url,
            assemblyai_models=tuple(
                m.strip()
                for m in (env.get("BALTO_ASSEMBLYAI_MODELS") or "").split(",")
                if m.strip()
            )
            or d.assemblyai_models,
            assemblyai_poll_s=_float(env, "BALTO_ASSEMBLYAI_POLL_S", d.assemblyai_poll_s),
            openai_stt_api_key=env.get("OPENAI_STT_API_KEY") or env.get("OPENAI_API_KEY") or None,
            openai_stt_base_url=env.get("OPENAI_STT_BASE_URL") or None,
            openai_stt_model=env.get("BALTO_OPENAI_STT_MODEL") or d.openai_stt_model,
            stt_compare_share=_share(env, "BALTO_STT_COMPARE_SHARE"),
            provider_attempts=max(1, int(_float(env, "BALTO_PROVIDER_ATTEMPTS", 3))),
            provider_max_retry_after_s=_float(
                env, "BALTO_MAX_RETRY_AFTER_S", d.provider_max_retry_after_s
            ),
            breaker_failures=max(1, int(_float(env, "BALTO_BREAKER_FAILURES", 3))),
            breaker_probe_s=_float(env, "BALTO_BREAKER_PROBE_S", d.breaker_probe_s),
            advice_cooldown_s=_float(env, "BALTO_ADVICE_COOLDOWN_S", d.advice_cooldown_s),
            advice_pause_s=_float(env, "BALTO_ADVICE_PAUSE_S", d.advice_pause_s),
            em_falta_horas=_float(env, "BALTO_EM_FALTA_HORAS", d.em_falta_horas),
            stt_order=_order(
                env,
                "BALTO_STT",
                "elevenlabs,assemblyai",
                {"elevenlabs", "assemblyai", "openai_stt"},
            ),
            llm_order=_order(env, "BALTO_LLM", "xai,openai,catalog", {"xai", "openai", "catalog"}),
            stt_timeout_s=_float(env, "BALTO_STT_TIMEOUT", d.stt_timeout_s),
            llm_timeout_s=_float(env, "BALTO_LLM_TIMEOUT", d.llm_timeout_s),
            handshake_timeout_s=_float(env, "BALTO_HANDSHAKE_TIMEOUT", d.handshake_timeout_s),
            vad_pause_s=_float(env, "BALTO_VAD_PAUSE_MS", d.vad_pause_s * 1000) / 1000,
            vad_max_segment_s=_float(env, "BALTO_VAD_MAX_SEGMENT_S", d.vad_max_segment_s),
            ws_max_message_bytes=int(
                _float(env, "BALTO_WS_MAX_MESSAGE_BYTES", d.ws_max_message_bytes)
            ),
            tcp_user_timeout_ms=int(
                _float(env, "BALTO_TCP_USER_TIMEOUT_MS", d.tcp_user_timeout_ms)
            ),
            catalog_path=Path(catalog) if catalog else None,
            pricing=pricing,
            log_level=(env.get("BALTO_LOG_LEVEL") or "INFO").upper(),
            log_format=_log_format(env),
            restart_intensity=int(_float(env, "BALTO_RESTART_INTENSITY", d.restart_intensity)),
            restart_period_s=_float(env, "BALTO_RESTART_PERIOD_S", d.restart_period_s),
            watchdog_s=_float(env, "BALTO_WATCHDOG_S", d.watchdog_s),
            ws_send_timeout_s=_float(env, "BALTO_WS_SEND_TIMEOUT_S", d.ws_send_timeout_s),
            faults_enabled=(env.get("BALTO_FAULTS") or "") in ("1", "true", "yes"),
            vad_denoise=(env.get("BALTO_DENOISE") or "1") not in ("0", "false", "no"),
            vad_workers=_workers(env),
            cadastro_max_failures=max(
                1, int(_float(env, "BALTO_CADASTRO_MAX_FAILURES", d.cadastro_max_failures))
            ),
            cadastro_window_s=_float(env, "BALTO_CADASTRO_WINDOW_S", d.cadastro_window_s),
            metrics_token=_metrics_token(env),
            db_timeout_s=_float(env, "BALTO_DB_TIMEOUT_S", d.db_timeout_s) or d.db_timeout_s,
            instance_id=(env.get("BALTO_INSTANCE_ID") or "").strip(),
            heartbeat_s=_float(env, "BALTO_HEARTBEAT_S", d.heartbeat_s) or d.heartbeat_s,
            heartbeat_timeout_s=_float(env, "BALTO_HEARTBEAT_TIMEOUT_S", d.heartbeat_timeout_s)
            or d.heartbeat_timeout_s,
            trusted_proxy_hops=_hops(env),
            retention_days=_retention_days(env),
            spool_max_bytes=int(
                _float(env, "BALTO_SPOOL_MAX_MB", d.spool_max_bytes / 2**20) * 2**20
            ),
            key_cache_s=_float(env, "BALTO_KEY_CACHE_S", d.key_cache_s),
            api_key_budget=max(0, int(_float(env, "BALTO_API_KEY_BUDGET", d.api_key_budget))),
            webhook_retry_s=_positive(env, "BALTO_WEBHOOK_RETRY_S", d.webhook_retry_s),
            webhook_attempts=max(1, int(_float(env, "BALTO_WEBHOOK_ATTEMPTS", d.webhook_attempts))),
            webhook_timeout_s=_positive(env, "BALTO_WEBHOOK_TIMEOUT_S", d.webhook_timeout_s),
            webhooks_allow_private=_flag(env, "BALTO_WEBHOOKS_ALLOW_PRIVATE"),
            pg_restart_s=_float(env, "BALTO_PG_RESTART_S", d.pg_restart_s),
            demo=(env.get("BALTO_DEMO") or "") in ("1", "true", "yes"),
            brl_per_usd=_float(env, "BALTO_BRL_PER_USD", d.brl_per_usd) or d.brl_per_usd,
            timezone=_timezone(env),
        )


def _timezone(env: Mapping[str, str]) -> str:
    """BALTO_TIMEZONE: an IANA zone name for the times admins read (default São Paulo)."""
    name = (env.get("BALTO_TIMEZONE") or "").strip() or "America/Sao_Paulo"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"BALTO_TIMEZONE is not a known time zone: {name!r}") from exc
    return name
