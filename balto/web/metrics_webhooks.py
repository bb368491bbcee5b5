"""The webhooks' backlog for ``/metrics``, read from the database at scrape time.

- ``balto_webhook_pending`` (gauge): deliveries neither delivered nor given up, every chain's.
- ``balto_webhook_oldest_pending_seconds`` (gauge): how long the oldest of them has waited; a
  receiver that is down shows here long before its deliveries are given up (alert on it).
Left out while the database is away.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from balto.store.webhooks import Backlog


class WebhookCollector(Collector):
    """One scrape's webhook figures (none when the database could not be read)."""

    def __init__(self, backlog: Backlog | None) -> None:
        """Hold what the scrape read."""
        self.backlog = backlog

    def collect(self) -> Iterator[Metric]:
        """The series in the module docstring."""
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
