"""The process-wide objects routes and sessions reach through the app (never through globals)."""

from __future__ import annotations

from dataclasses import dataclass, field

import trio

from balto.config import Settings
from balto.store import Database
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
    going_away: trio.Event = field(default_factory=trio.Event)
    ready: bool = False
