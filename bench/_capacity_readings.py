"""What the capacity bench reads while it runs: the server's process tree, its stats file, and
the STT requests paired with the segments they carry (`bench/capacity.py`'s table is made of
these). Kept apart so the bench itself reads as its levels and its table.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import numpy as np
import psutil

from tests.conftest import ADMIN

PAUSE_S = 0.5  # BALTO_VAD_PAUSE_MS default


def pss_rss(pid: int) -> tuple[int, int]:
    """(PSS, RSS) bytes of one process, from /proc/<pid>/smaps_rollup."""
    pss = rss = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            pss = int(line.split()[1]) * 1024
        elif line.startswith("Rss:"):
            rss = int(line.split()[1]) * 1024
    return pss, rss


def tree(proc: psutil.Process) -> tuple[float, float, int, int, int]:
    """(own CPU s, children's CPU s incl. reaped, PSS, RSS, processes) of the server's tree."""
    own = proc.cpu_times()
    cpu_children = own.children_user + own.children_system
    pss, rss = pss_rss(proc.pid)
    n = 1
    for child in proc.children(recursive=True):
        try:
            t = child.cpu_times()
            cpu_children += t.user + t.system
            p, r = pss_rss(child.pid)
            pss, rss, n = pss + p, rss + r, n + 1
        except (psutil.NoSuchProcess, FileNotFoundError, ProcessLookupError):
            pass
    return own.user + own.system, cpu_children, pss, rss, n


def read_stats(
    path: Path, since: float, until: float, steady: tuple[float, float]
) -> tuple[list[float], list[float], list[float]]:
    """Loop lags recorded in (since, until] and in the `steady` window (all devices streaming:
    no connection ramp), and the stage totals' increase over (since, until]."""
    lags: list[float] = []
    steady_lags: list[float] = []
    stages: list[list[float]] = []
    gcs: list[tuple[int, float, float]] = []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if row["t"] <= since:
            stages[:1] = [row["stage"]]
        elif row["t"] <= until:
            lags += row["lags"]
            stages.append(row["stage"])
            gcs += [(g[0], g[1], g[2] if len(g) > 2 else g[1]) for g in row.get("gc", [])]
            if steady[0] + 1.0 <= row["t"] <= steady[1]:  # a line holds the second before it
                steady_lags += row["lags"]
    first, last = (stages[0], stages[-1]) if stages else ([0.0] * 5, [0.0] * 5)
    if gcs:
        worst = max(gcs, key=lambda g: g[1])
        gen2 = [s for g, s, _ in gcs if g == 2]
        print(
            f"  gc: {len(gcs)} collections, worst {1000 * worst[1]:.0f} ms (gen {worst[0]}); "
            f"gen 2: {len(gen2)}, {1000 * sum(gen2):.0f} ms in all",
            flush=True,
        )
        for gen in range(3):
            pauses = sorted((1000 * s, 1000 * c) for g, s, c in gcs if g == gen)
            if pauses:
                cpu = sorted(c for _, c in pauses)
                print(
                    f"    gen {gen}: {len(pauses)} collections, pause median "
                    f"{pauses[len(pauses) // 2][0]:.1f} / max {pauses[-1][0]:.1f} ms, "
                    f"{sum(p for p, _ in pauses):.0f} ms in all; CPU median "
                    f"{cpu[len(cpu) // 2]:.1f} / max {cpu[-1]:.1f} ms, {sum(cpu):.0f} ms in all",
                    flush=True,
                )
    return lags, steady_lags, [b - a for a, b in zip(first, last, strict=True)]


def latencies(
    cuts: list[tuple[int, float]],
    meta: dict,
    chunk_ends: list[float],
    sent: list[list[float]],
    requests: list[tuple[float, float]],
    owners: dict[int, tuple[int, int]],
    steady: tuple[float, float],
    quiet: bool = False,
) -> tuple[list[float], list[float], list[float]]:
    """Pair each STT request (its time, its seconds of audio) with the (device, segment) it
    was for; `sent`: per device, the time of each chunk.

    `owners` maps a request's index to (device, seq) as the server stored it (the stub's answer
    names the request; the stored transcript keeps it). Within that device the segment is the
    offline cut of about the request's audio length (±0.1 s: the live cut may differ by a few
    10 ms frames) nearest to that seq.

    Returns (request − send time of the chunk completing the pause,
    request − (session start + the utterance's reference end + pause), the first for the cuts
    completed while every device was streaming (`steady`)).
    """
    utterance_ends = sorted(b for _, b in meta["utterances"])
    arrival: list[float] = []
    device_view: list[float] = []
    steady_arrival: list[float] = []
    per_segment: dict[int, list[float]] = {j: [] for j in range(len(cuts))}
    taken: set[tuple[int, int]] = set()
    for index, (at, seconds) in enumerate(requests):
        if index not in owners:
            continue
        device, seq = owners[index]
        times = sent[device]
        near = [
            j
            for j, (k, length) in enumerate(cuts)
            if abs(length - seconds) <= 0.1 and len(times) > k and (device, j) not in taken
        ]
        if not near:
            continue
        j = min(near, key=lambda j: abs(j - seq))
        taken.add((device, j))
        k = cuts[j][0]
        want = times[k]
        arrival.append(at - want)
        per_segment[j].append(at - want)
        if steady[0] <= want <= steady[1]:
            steady_arrival.append(at - want)
        # The utterance this cut ends: its end + pause falls within the completing chunk (a cut
        # that ends no utterance, such as a split of a long turn, has no device view).
        ended = [e for e in utterance_ends if 0 <= chunk_ends[k] - (e + PAUSE_S) <= 0.4]
        if ended:
            start = times[0] - chunk_ends[0]  # audio time 0 on the device's clock
            device_view.append(at - (start + ended[-1] + PAUSE_S))
    if quiet:
        return arrival, device_view, steady_arrival
    matched = sum(len(v) for v in per_segment.values())
    print(f"  {matched} of {len(requests)} requests paired with a (device, segment)")
    worst = sorted(per_segment.items(), key=lambda kv: -max(kv[1], default=0.0))[:3]
    for j, mine in worst:
        if mine:
            p50, p99 = np.percentile(mine, [50, 99]) * 1000
            print(
                f"  segment {j}: {len(mine)} paired, arrival→STT p50 {p50:.0f} / p99 {p99:.0f} ms"
            )
    return arrival, device_view, steady_arrival


async def stored_owners(base_url: str, balcoes: list[str]) -> dict[int, tuple[int, int]]:
    """Request index → (device, segment seq), read back from the stored transcripts."""
    device_of = {balcao: i for i, balcao in enumerate(balcoes)}
    owners: dict[int, tuple[int, int]] = {}
    cursor: str | None = None
    async with httpx.AsyncClient(base_url=base_url, headers=ADMIN, timeout=30) as http:
        while True:
            params = {"limit": "500", **({"cursor": cursor} if cursor else {})}
            page = (await http.get("/admin/history/segments", params=params)).json()
            for item in page["items"]:
                match = re.search(r"Pedido (\d+)", item.get("transcript") or "")
                if match and item["balcao_id"] in device_of:
                    owners[int(match[1])] = (device_of[item["balcao_id"]], item["seq"])
            cursor = page.get("next_cursor")
            if not cursor:
                return owners
