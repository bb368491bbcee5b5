"""``GET /metrics`` parses with prometheus-client's parser and holds the per-actor series while a
device streams, then the provider and recommendation totals from the database."""

from __future__ import annotations

import httpx
import trio
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from balto.device import stream_file
from tests.conftest import ADMIN, FIXTURES, register_balcao, start_server, ws_url
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.wiring import provider_env

WAV = FIXTURES / "two_utterances.wav"
ACTORS = {"receiver", "decoder", "vad", "transcriber", "advisor", "sender"}
TEXTS = ["Bom dia, estou com dor de cabeça.", "Tem alguma coisa para nariz entupido?"]


async def _scrape(base_url: str) -> dict[str, list[Sample]]:
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.get("/metrics", headers=ADMIN)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {f.name: f.samples for f in text_string_to_metric_families(response.text)}


def _value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
    assert len(found) == 1, (name, labels, samples)
    return found[0]


async def test_metrics_hold_per_actor_series_and_provider_totals(
    nursery: trio.Nursery, database_url: str
) -> None:
    stt = FakeElevenLabs(transcripts=list(TEXTS))
    running = await start_server(nursery, database_url, **await provider_env(nursery, stt=stt))
    api_key, balcao_id = await register_balcao(running.base_url)
    live: list[dict[str, list[Sample]]] = []

    async def scraper() -> None:
        await trio.sleep(4.0)  # the first utterance went through the whole pipeline
        live.append(await _scrape(running.base_url))

    async with trio.open_nursery() as inner:
        inner.start_soon(scraper)
        run = await stream_file(ws_url(running), api_key, WAV, linger_s=1.5)
    assert run.close_code == 1000
    families = live[0]
    assert _value(families["balto_sessions_live"], "balto_sessions_live") == 1
    for family, sample in (
        ("balto_actor_queue_depth", "balto_actor_queue_depth"),
        ("balto_actor_restarts", "balto_actor_restarts_total"),
        ("balto_actor_messages_in", "balto_actor_messages_in_total"),
        ("balto_actor_latency_seconds", "balto_actor_latency_seconds_count"),
    ):
        actors = {s.labels["actor"] for s in families[family] if s.name == sample}
        assert actors == ACTORS, family
        assert {s.labels["balcao_id"] for s in families[family]} == {balcao_id}
    for actor in ACTORS:
        assert _value(families["balto_actor_state"], "balto_actor_state", actor=actor,
                      state="running") == 1  # fmt: skip
        assert _value(families["balto_actor_restarts"], "balto_actor_restarts_total",
                      actor=actor) == 0  # fmt: skip
    # the transcriber timed one STT call; its histogram is cumulative and ends at +Inf
    buckets = [
        s
        for s in families["balto_actor_latency_seconds"]
        if s.name.endswith("_bucket") and s.labels["actor"] == "transcriber"
    ]
    assert buckets[-1].labels["le"] == "+Inf" and buckets[-1].value >= 1
    assert [b.value for b in buckets] == sorted(b.value for b in buckets)
    lag = families["balto_event_loop_lag_seconds"]
    assert _value(lag, "balto_event_loop_lag_seconds_count") >= 10  # a probe every 0.25 s

    with trio.fail_after(10):  # the session ends and its calls are all recorded
        while True:
            after = await _scrape(running.base_url)
            calls = after["balto_provider_calls"]
            gone = _value(after["balto_sessions_live"], "balto_sessions_live") == 0
            if gone and [s.value for s in calls if s.labels["provider"] == "elevenlabs"] == [2]:
                break
            await trio.sleep(0.1)
    assert "balto_actor_queue_depth" not in after or not after["balto_actor_queue_depth"]
    provider = after["balto_provider_latency_seconds"]
    assert _value(provider, "balto_provider_latency_seconds_count", provider="elevenlabs") == 2
    assert _value(after["balto_provider_cost_usd"], "balto_provider_cost_usd_total",
                  provider="elevenlabs") > 0  # fmt: skip
    recs = after["balto_recommendations"]
    assert sum(s.value for s in recs if s.name == "balto_recommendations_total") >= 1
