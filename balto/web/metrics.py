"""``GET /metrics``: Prometheus text, built at scrape time from live sessions and the database.

Auth: the admin bearer secret (``Authorization: Bearer <ADMIN_SECRET>``; in Prometheus,
``authorization: {credentials: ...}``), because series carry balcão ids, or the read-only
``BALTO_METRICS_TOKEN`` when set (it opens nothing else). 401 otherwise.

Series (labels in braces):
- ``balto_sessions_live``; ``balto_session_lag_seconds{balcao_id}``;
- per actor ``{balcao_id, actor}``: ``balto_actor_queue_depth``, ``balto_actor_queue_dropped``,
  ``balto_actor_restarts``, ``balto_actor_messages_in``/``_out``, ``balto_actor_state{state}``,
  ``balto_actor_latency_seconds`` (histogram); counters restart with each session;
- ``balto_provider_calls_total{provider, kind}``, ``balto_provider_errors_total{…, category}``,
  ``balto_provider_cost_usd_total``, ``balto_provider_latency_seconds`` (histogram), from the
  database; ``balto_recommendations_total{feedback}``;
- ``balto_advice_refusals_total{provider, model, reason}`` (answers not shown, and why) and
  ``balto_alerts_total{sinal}``, from the database;
- the recorder's spool and the database's reachability (`balto.web.metrics_recorder`); while
  the database is away the series read from it are left out, the rest is served;
- the chains' systems: webhooks' backlog, API keys refused (`balto.web.metrics_integrations`);
- ``balto_event_loop_lag_seconds`` (histogram of how late a 0.25 s sleep wakes up) and
  ``balto_event_loop_lag_max_seconds``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import trio
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from quart import Blueprint, Response, current_app

from actors.histogram import BUCKETS, Histogram
from balto.services import Services
from balto.store import webhooks
from balto.store.database import DatabaseUnavailable
from balto.store.metrics import (
    AdviceTotals,
    ProviderTotals,
    advice_totals,
    provider_totals,
    recommendation_totals,
)
from balto.store.webhooks import Backlog
from balto.web.auth import has_bearer, is_admin
from balto.web.errors import error
from balto.web.metrics_integrations import IntegrationsCollector
from balto.web.metrics_recorder import RecorderCollector

blueprint = Blueprint("metrics", __name__)

LAG_PROBE_S = 0.25  # how often the loop-lag probe wakes; cheap, and fine-grained enough
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_STATES = ("starting", "running", "degraded", "restarting", "stopped", "failed")


class LoopLag:
    """How late the Trio loop wakes a sleeping task: a histogram and the worst seen."""

    def __init__(self) -> None:
        """Start with no observation."""
        self.histogram = Histogram()

    async def run(self) -> None:
        """Sleep `LAG_PROBE_S` forever, recording how late each wake-up is."""
        while True:
            start = trio.current_time()
            await trio.sleep(LAG_PROBE_S)
            self.histogram.observe(max(0.0, trio.current_time() - start - LAG_PROBE_S))


@blueprint.before_app_serving
async def start_lag_probe() -> None:
    """Run the loop-lag probe in the app's nursery for as long as the app serves."""
    probe = current_app.config["BALTO_LOOP_LAG"] = LoopLag()
    current_app.nursery.start_soon(probe.run)  # type: ignore[attr-defined]  # quart-trio has no stubs


def _buckets(counts: Sequence[int], cumulative: bool) -> list[tuple[str, float]]:
    out, seen = [], 0
    for bound, n in zip([*map(str, BUCKETS), "+Inf"], counts, strict=True):
        seen = n if cumulative else seen + n
        out.append((bound, float(seen)))
    return out


class _Scrape(Collector):
    """One scrape's worth of facts, turned into metric families."""

    def __init__(
        self,
        sessions: list[dict[str, Any]],
        providers: list[ProviderTotals],
        recommendations: dict[str, int],
        lag: Histogram | None,
        advice: AdviceTotals | None = None,
    ) -> None:
        self.sessions, self.providers = sessions, providers
        self.recommendations, self.lag, self.advice = recommendations, lag, advice

    def collect(self) -> Iterator[Metric]:
        yield from self._sessions()
        yield from self._providers()
        recs = CounterMetricFamily(
            "balto_recommendations", "Recommendations by feedback", labels=["feedback"]
        )
        for feedback, count in self.recommendations.items():
            recs.add_metric([feedback], count)
        yield recs
        if self.advice is not None:
            yield from self._advice(self.advice)
        if self.lag is not None:
            lag = HistogramMetricFamily(
                "balto_event_loop_lag_seconds", "Lateness of the loop-lag probe's wake-ups"
            )
            lag.add_metric([], _buckets(self.lag.counts, False), self.lag.total)
            yield lag
            yield GaugeMetricFamily(
                "balto_event_loop_lag_max_seconds", "Worst lateness seen", value=self.lag.maximum
            )

    def _sessions(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("balto_sessions_live", "Live sessions", value=len(self.sessions))
        lag = GaugeMetricFamily(
            "balto_session_lag_seconds", "Audio behind wall clock", labels=["balcao_id"]
        )
        labels = ["balcao_id", "actor"]
        gauges = {
            "queue_depth": GaugeMetricFamily(
                "balto_actor_queue_depth", "Items in the actor's inbox", labels=labels
            ),
        }
        counters = {
            key: CounterMetricFamily(f"balto_actor_{name}", text, labels=labels)
            for key, name, text in (
                ("queue_dropped", "queue_dropped", "Inbox items dropped by overflow policy"),
                ("restarts", "restarts", "Actor restarts in this session"),
                ("messages_in", "messages_in", "Messages received"),
                ("messages_out", "messages_out", "Messages sent"),
            )
        }
        state = GaugeMetricFamily(
            "balto_actor_state", "1 for the actor's current state", labels=[*labels, "state"]
        )
        latency = HistogramMetricFamily(
            "balto_actor_latency_seconds", "Per-message processing time", labels=labels
        )
        for snap in self.sessions:
            balcao = str(snap["balcao_id"])
            lag.add_metric([balcao], float(snap["lag_s"]))
            for actor in snap["actors"]:
                key = [balcao, actor["name"]]
                gauges["queue_depth"].add_metric(key, actor["queue_depth"])
                for field, family in counters.items():
                    family.add_metric(key, actor[field])
                for name in _STATES:
                    state.add_metric([*key, name], 1.0 if actor["state"] == name else 0.0)
                hist = actor["latency"]
                counts = list(hist["buckets"].values())
                latency.add_metric(key, _buckets(counts, False), hist["sum_s"])
        yield lag
        yield from gauges.values()
        yield from counters.values()
        yield state
        yield latency

    def _advice(self, advice: AdviceTotals) -> Iterator[Metric]:
        refusals = CounterMetricFamily(
            "balto_advice_refusals",
            "Advisor answers refused (unknown, prescription, unfit product, malformed, refusal)",
            labels=["provider", "model", "reason"],
        )
        for key, count in advice.refusals.items():
            refusals.add_metric(list(key), count)
        alerts = CounterMetricFamily("balto_alerts", "Red-flag signs alerted", labels=["sinal"])
        for sinal, count in advice.alerts.items():
            alerts.add_metric([sinal], count)
        yield from (refusals, alerts)

    def _providers(self) -> Iterator[Metric]:
        labels = ["provider", "kind"]
        calls = CounterMetricFamily("balto_provider_calls", "Provider calls", labels=labels)
        errors = CounterMetricFamily(
            "balto_provider_errors", "Failed provider calls", labels=[*labels, "category"]
        )
        cost = CounterMetricFamily("balto_provider_cost_usd", "Accounted cost", labels=labels)
        latency = HistogramMetricFamily(
            "balto_provider_latency_seconds", "Provider call latency", labels=labels
        )
        for p in self.providers:
            key = [p.provider, p.kind]
            calls.add_metric(key, p.calls)
            cost.add_metric(key, p.cost_usd)
            for category, count in p.errors.items():
                errors.add_metric([*key, category], count)
            latency.add_metric(key, _buckets(p.cumulative_buckets, True), p.latency_sum_s)
        yield from (calls, errors, cost, latency)


@blueprint.get("/metrics")
async def metrics() -> Response | tuple[Response, int]:
    """The Prometheus exposition."""
    services: Services = current_app.config["BALTO_SERVICES"]
    token = services.settings.metrics_token
    if not (is_admin(services.admin_secret) or (token is not None and has_bearer(token))):
        return error(
            401,
            "unauthorized",
            "Authorization: Bearer <ADMIN_SECRET ou BALTO_METRICS_TOKEN> ausente ou inválido",
        )
    sessions = [snapshot for _, snapshot in await services.registry.snapshots()]
    providers: list[ProviderTotals] = []
    recommendations: dict[str, int] = {}
    advice: AdviceTotals | None = None
    backlog: Backlog | None = None
    database_up = not services.db.away
    if database_up:
        try:
            providers = await services.db.run(provider_totals)
            recommendations = await services.db.run(recommendation_totals)
            advice = await services.db.run(advice_totals)
            backlog = await services.db.run(webhooks.backlog)
        except DatabaseUnavailable:
            database_up = False
    probe: LoopLag | None = current_app.config.get("BALTO_LOOP_LAG")
    registry = CollectorRegistry(auto_describe=False)
    lag = probe.histogram if probe else None
    registry.register(_Scrape(sessions, providers, recommendations, lag, advice))
    registry.register(RecorderCollector(services.recorder.stats(), database_up))
    registry.register(IntegrationsCollector(backlog, services.throttled.per_cliente))
    body = await trio.to_thread.run_sync(generate_latest, registry)
    return Response(body, content_type=CONTENT_TYPE)
