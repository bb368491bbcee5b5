"""End-to-end latency of the walking skeleton, measured through the real server.

Runs the real server (Hypercorn, embedded PostgreSQL, real ffmpeg) with loopback provider fakes in
one `trio.run`, streams the two-utterance fixture in real time with the device simulator, and prints
per utterance: utterance end → STT request at the fake, and utterance end → recommendation frame at
the device. The fakes answer at once, so the figures are Balto's own latency plus the configured
pause (`BALTO_VAD_PAUSE_MS`, 500 ms) and the device's 250 ms chunking.

    .venv/bin/python bench/e2e_latency.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from functools import partial
from pathlib import Path

import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from balto.config import Settings  # noqa: E402
from balto.device import stream_file  # noqa: E402
from balto.fakes.elevenlabs import FakeElevenLabs  # noqa: E402
from balto.fakes.openai_compat import FakeOpenAICompat  # noqa: E402
from balto.fakes.wiring import provider_env  # noqa: E402
from supervisors.root import Running, run_root  # noqa: E402
from tests.conftest import register_balcao  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
UTTERANCES = json.loads((FIXTURES / "two_utterances.json").read_text())["utterances"]
TEXTS = ["Estou com dor de cabeça.", "Meu filho está com o nariz entupido."]


async def one_run(audio: Path, use_llm: bool, data_dir: Path) -> list[tuple[float, float]]:
    """Return (end → STT request, end → recommendation) per utterance."""
    async with trio.open_nursery() as nursery:
        stt = FakeElevenLabs(transcripts=list(TEXTS))
        llm = None
        if use_llm:
            llm = FakeOpenAICompat("xai")
            picks = iter(["Dipirona Monoidratada 500 mg", "Soro Fisiológico Nasal 0,9%"])
            llm.respond = lambda _: {"recomendar": True, "produto": next(picks), "explicacao": "x"}
        env = {
            "ADMIN_SECRET": "test-admin-secret",  # what register_balcao sends
            "BALTO_DATA_DIR": str(data_dir),
            **await provider_env(nursery, stt=stt, llm=llm),
        }
        running: Running = await nursery.start(partial(run_root, Settings.from_env(env), port=0))
        api_key, _ = await register_balcao(running.base_url)
        url = running.base_url.replace("http://", "ws://") + "/ws"
        run = await stream_file(url, api_key, audio, linger_s=2.0)
        recs = [at for at, frame in run.frames if frame.get("comando") == "recomendar"]
        figures = []
        for (_, end), request, rec_at in zip(UTTERANCES, stt.requests, recs, strict=True):
            figures.append((request.received_at - run.started_at - end, rec_at - end))
        nursery.cancel_scope.cancel()
    return figures


async def main(runs: int) -> None:
    """Run every configuration `runs` times and print a table."""
    header = f"{'audio':6} {'advisor':8} {'n':>3}  {'end→STT p50':>11} {'max':>6}"
    print(f"{header}  {'end→rec p50':>11} {'max':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for audio in ("webm", "wav"):
            for use_llm in (True, False):
                stt_lat: list[float] = []
                rec_lat: list[float] = []
                for _ in range(runs):
                    for stt_s, rec_s in await one_run(
                        FIXTURES / f"two_utterances.{audio}", use_llm, Path(tmp)
                    ):
                        stt_lat.append(stt_s)
                        rec_lat.append(rec_s)
                print(
                    f"{audio:6} {'xai-fake' if use_llm else 'catalog':8} {len(rec_lat):3}  "
                    f"{statistics.median(stt_lat):10.3f}s {max(stt_lat):5.3f}s  "
                    f"{statistics.median(rec_lat):10.3f}s {max(rec_lat):5.3f}s"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    trio.run(main, parser.parse_args().runs)
