"""The process-wide objects routes and sessions reach through the app (never through globals)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import trio

from balto.config import Settings
from balto.providers.breaker import Breaker
from balto.recorder import Recorder
from balto.sealing import Box
from balto.store import Database
from balto.web.key_cache import KeyCache
from balto.web.throttled import Throttled
from supervisors.cluster import Cluster
from supervisors.faults import FaultPlan
from supervisors.registry import Registry
from supervisors.session import Pipeline


@dataclass(slots=True)
class Services:
    """Settings, storage, the live-session registry and the pipeline's dependencies."""

    settings: Settings
    db: Database
    registry: Registry
    pipeline: Pipeline
    admin_secret: str
    cluster: Cluster
    recorder: Recorder
    keys: KeyCache = field(default_factory=KeyCache)
    box: Box = field(default_factory=Box)  # seals TOTP and webhook secrets at rest
    throttled: Throttled = field(default_factory=Throttled)  # API keys over their budget
    going_away: trio.Event = field(default_factory=trio.Event)
    faults: FaultPlan = field(default_factory=FaultPlan)
    breakers: Mapping[str, Breaker] = field(default_factory=dict)
    ready: bool = False
