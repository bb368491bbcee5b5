"""The chains' own systems in ``/metrics``: their webhooks' backlog and their API keys refused.

- ``balto_webhook_pending`` (gauge): deliveries neither delivered nor given up, every chain's
  (read from the database at scrape time; left out while it is away).
- ``balto_webhook_oldest_pending_seconds`` (gauge): how long the oldest of them has waited; a
  receiver that is down shows here long before its deliveries are given up (alert on it).
- ``balto_api_key_throttled_total{cliente_id}`` (counter, this process): requests of a chain's
  API keys refused for their budget (`balto.web.throttled`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from balto.store.webhooks import Backlog


class IntegrationsCollector(Collector):
    """One scrape's figures (no webhook series when the database could not be read)."""

    def __init__(self, backlog: Backlog | None, throttled: Mapping[str, int]) -> None:
        """Hold what the scrape read."""
        self.backlog = backlog
        self.throttled = dict(throttled)

    def collect(self) -> Iterator[Metric]:
        """The series in the module docstring."""
        refused = CounterMetricFamily(
            "balto_api_key_throttled",
            "API key requests refused for the key's budget",
            labels=["cliente_id"],
        )
        for cliente, count in sorted(self.throttled.items()):
            refused.add_metric([cliente], count)
        yield refused
        if self.backlog is None:
            return
        yield GaugeMetricFamily(
            "balto_webhook_pending", "Webhook deliveries waiting", value=self.backlog.pendentes
        )
        yield GaugeMetricFamily(
            "balto_webhook_oldest_pending_seconds",
            "Age of the oldest webhook delivery waiting",
            value=self.backlog.mais_antiga_s,
        )
