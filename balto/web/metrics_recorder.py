"""The recorder's and the database's series for ``/metrics`` (scraped even during an outage).

- ``balto_recorder_spool_bytes`` (gauge): the spool file's size; 0 when nothing waits.
- ``balto_recorder_spool_events`` (gauge): events in the spool waiting to be replayed.
- ``balto_recorder_spooled_total``, ``balto_recorder_replayed_total`` (counters, this process).
- ``balto_recorder_dropped_total`` (counter): events refused past ``BALTO_SPOOL_MAX_MB``, or by
  a disk that failed the spool: lost.
- ``balto_recorder_faults_total`` (counter): unexpected failures the recorder logged and survived.
- ``balto_database_up`` (gauge): 0 while the recorder finds the database away, or a scrape could
  not read its totals.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from balto.recorder import RecorderStats


class RecorderCollector(Collector):
    """One scrape's recorder figures."""

    def __init__(self, stats: RecorderStats, database_up: bool) -> None:
        """Hold what the scrape read."""
        self.stats = stats
        self.database_up = database_up

    def collect(self) -> Iterator[Metric]:
        """The series in the module docstring."""
        s = self.stats
        yield GaugeMetricFamily(
            "balto_recorder_spool_bytes", "Size of the recorder's spool file", value=s.spool_bytes
        )
        yield GaugeMetricFamily(
            "balto_recorder_spool_events", "Spooled events not replayed yet", value=s.spool_events
        )
        yield CounterMetricFamily(
            "balto_recorder_spooled", "Events written to the spool", value=s.spooled
        )
        yield CounterMetricFamily(
            "balto_recorder_replayed", "Spooled events replayed", value=s.replayed
        )
        yield CounterMetricFamily(
            "balto_recorder_dropped", "Events lost: the spool was full", value=s.dropped
        )
        yield CounterMetricFamily(
            "balto_recorder_faults",
            "Unexpected recorder failures, logged and survived",
            value=s.faults,
        )
        up = self.database_up and not s.database_away
        yield GaugeMetricFamily("balto_database_up", "Database reachable", value=1.0 if up else 0.0)
