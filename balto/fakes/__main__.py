"""Serve the ElevenLabs STT fake and an OpenAI-compatible chat fake on fixed ports.

    python -m tests.fakes [--host 0.0.0.0] [--stt-port 9101] [--llm-port 9102]

The compose test stack (``compose.test.yaml``, ``deploy/check``) runs this as its ``fakes``
service and points the Balto instances at it:

    ELEVENLABS_BASE_URL=http://fakes:9101   ELEVENLABS_API_KEY=fake-elevenlabs-key
    OPENAI_BASE_URL=http://fakes:9102/v1    OPENAI_API_KEY=fake-openai-key

Scribe answers every segment with the next line of a short counter dialogue (a headache, then a
child's blocked nose, then again from the start). The chat fake recommends a catalog product for
the symptom named in the dialogue's latest line, and nothing when it names none. Both run until
SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import signal
from typing import Any

import trio

from balto.fakes.elevenlabs import FakeElevenLabs, RecordedSttRequest
from balto.fakes.openai_compat import NO_RECOMMENDATION, FakeOpenAICompat
from balto.fakes.server import serve_app

STT_KEY = "fake-elevenlabs-key"
LLM_KEY = "fake-openai-key"

DIALOGUE = (
    "Bom dia, eu estou com uma dor de cabeça muito forte desde ontem.",
    "E o meu filho está com o nariz entupido, o que a senhora tem?",
)

# (word in the latest line, product from balto/catalog/default.json, explanation)
SUGGESTIONS = (
    (
        "nariz",
        "Soro Fisiológico Nasal 0,9%",
        "Lavagem nasal isenta de prescrição para aliviar o nariz entupido.",
    ),
    (
        "cabeça",
        "Dipirona Monoidratada 500 mg",
        "Analgésico isento de prescrição indicado para dor de cabeça.",
    ),
)


class DialogueScribe(FakeElevenLabs):
    """The Scribe fake, answering with `DIALOGUE`'s lines in turn, forever."""

    def _transcript(self, recorded: RecordedSttRequest) -> dict[str, Any]:
        if not self.transcripts:
            self.transcripts = list(DIALOGUE)
        return super()._transcript(recorded)


def advise(body: dict[str, Any]) -> dict[str, Any]:
    """The advisor's answer object for a chat request: a product for the latest line's symptom."""
    content = str(body["messages"][-1].get("content") or "")
    lines = [line for line in content.splitlines() if line.strip()]
    latest = lines[-1].lower() if lines else ""
    for word, produto, explicacao in SUGGESTIONS:
        if word in latest:
            return {"recomendar": True, "produto": produto, "explicacao": explicacao}
    return NO_RECOMMENDATION


async def serve(host: str, stt_port: int, llm_port: int) -> None:
    """Serve both fakes until SIGTERM or SIGINT."""
    stt = DialogueScribe(api_key=STT_KEY)
    llm = FakeOpenAICompat("openai", api_key=LLM_KEY)
    llm.respond = advise
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async with trio.open_nursery() as nursery:
            stt_url = await serve_app(nursery, stt.app, bind=f"{host}:{stt_port}")
            llm_url = await serve_app(nursery, llm.app, bind=f"{host}:{llm_port}")
            print(f"fakes: ElevenLabs Scribe on {stt_url}, OpenAI chat on {llm_url}/v1", flush=True)
            async for signum in signals:
                print(f"fakes: {signal.Signals(signum).name}, stopping", flush=True)
                nursery.cancel_scope.cancel()
                break


def main() -> None:
    """Parse the arguments and serve."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--stt-port", type=int, default=9101)
    parser.add_argument("--llm-port", type=int, default=9102)
    args = parser.parse_args()
    trio.run(serve, args.host, args.stt_port, args.llm_port)


if __name__ == "__main__":
    main()
