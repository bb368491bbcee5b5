"""A chain's webhooks over the admin API, for tests: make one, read its delivery log."""

from __future__ import annotations

from typing import Any

import httpx
import trio

from tests.conftest import ADMIN

PRIVATE = {"BALTO_WEBHOOKS_ALLOW_PRIVATE": "1"}


async def make_hook(http: httpx.AsyncClient, cliente: str, url: str, **body: Any) -> dict[str, Any]:
    """Make a webhook as the operator; its 201 answer (with the secret)."""
    made = await http.post(
        f"/admin/clientes/{cliente}/webhooks", json={"url": url, **body}, headers=ADMIN
    )
    assert made.status_code == 201, made.text
    answer: dict[str, Any] = made.json()
    return answer


async def log_of(http: httpx.AsyncClient, hook: str) -> list[dict[str, Any]]:
    """The webhook's delivery log, newest first."""
    listed = await http.get(f"/admin/webhooks/{hook}/entregas", headers=ADMIN)
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


async def log_until(
    http: httpx.AsyncClient, hook: str, done: Any, timeout_s: float = 15.0
) -> list[dict[str, Any]]:
    """The webhook's delivery log once `done(log)` holds."""
    with trio.fail_after(timeout_s):
        for _ in range(10_000):
            if done(items := await log_of(http, hook)):
                return items
            await trio.sleep(0.1)
    raise AssertionError("the delivery log never got there")
