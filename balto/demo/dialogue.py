"""The bundled counter dialogue and the speech-to-text fake that "hears" it.

``dialogue.webm`` is a pt-BR conversation synthesised by `balto.demo.make_dialogue`; its turns
(``dialogue.json``) have lengths a second or more apart, so the fake answers each segment with
the turn whose length is nearest to the segment's: the transcript follows the audio whatever
order segments arrive in, loop after loop. One turn names a headache (a suggestion), another a
chest pain with shortness of breath (a red-flag alert).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from balto.fakes.elevenlabs import FakeElevenLabs, RecordedSttRequest
from balto.fakes.openai_compat import NO_RECOMMENDATION

HERE = Path(__file__).parent
AUDIO = HERE / "dialogue.webm"
TURNS = HERE / "dialogue.json"
# The VAD hands the STT a little audio either side of the speech: measured 0.45-0.57 s in all
# for these turns (`balto demo`'s log, "segment N: … (x s)").
VAD_PADDING_S = 0.5

# (word in the latest line, product of balto/catalog/default.json, explanation)
SUGGESTIONS = (
    (
        "cabeça",
        "Dipirona Monoidratada 500 mg",
        "Analgésico isento de prescrição indicado para dor de cabeça.",
    ),
    (
        "nariz",
        "Soro Fisiológico Nasal 0,9%",
        "Lavagem nasal isenta de prescrição para aliviar o nariz entupido.",
    ),
)


@dataclass(frozen=True, slots=True)
class Turn:
    """One turn of the dialogue: who speaks, what, and how long it lasts."""

    speaker: str
    text: str
    seconds: float


def load_turns(path: Path = TURNS) -> list[Turn]:
    """The dialogue's turns, in order."""
    meta = json.loads(path.read_text(encoding="utf-8"))
    return [
        Turn(turn["falante"], turn["texto"], float(turn["fim"]) - float(turn["inicio"]))
        for turn in meta["turnos"]
    ]


class DialogueScribe(FakeElevenLabs):
    """The Scribe fake answering each segment with the turn nearest to it in length."""

    def __init__(self, turns: list[Turn], *, api_key: str) -> None:
        """Answer from `turns`; accept only `api_key`."""
        super().__init__(api_key=api_key, default_text=turns[0].text)
        self.turns = turns

    def _transcript(self, recorded: RecordedSttRequest) -> dict[str, Any]:
        seconds = recorded.audio_duration() or 0.0
        turn = min(self.turns, key=lambda turn: abs(turn.seconds + VAD_PADDING_S - seconds))
        self.transcripts = [turn.text]
        return super()._transcript(recorded)


def advise(body: dict[str, Any]) -> dict[str, Any]:
    """The chat fake's answer: a catalog product for a symptom in the dialogue's latest line."""
    content = str(body["messages"][-1].get("content") or "")
    lines = [line for line in content.splitlines() if line.strip()]
    latest = lines[-1].lower() if lines else ""
    for word, produto, explicacao in SUGGESTIONS:
        if word in latest:
            return {"recomendar": True, "produto": produto, "explicacao": explicacao}
    return NO_RECOMMENDATION
