"""More voices for `bench/segment_learned.py`: two training sets and one fresh held-out set.

Why: the learned edge rule, trained on tune + tune2 (14 voices), placed starts well on those
sets' clips out of fold but missed onsets of the held-out voices; more training voices may carry
further. `tests/fixtures/make_voice_corpus.py` generates these with its own code (same noises,
events, SNRs and Opus round trip) into a directory of their own, so the main corpus (and its
digest, which the tests and `bench/segment_eval.py` use) is untouched.

- **train3**, **train4**: the tuning sets' dialogues (their words are not held out), 16 voices
  no other set uses, 125-225 words/min, pitch 25-80. Training data only.
- **heldout5**: three new dialogues, eight more unused voices; generated before any rule was
  measured on it, to measure once the rule chosen on the others.

    .venv/bin/python bench/segment_extra_corpus.py     # ~6 min; prints where
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures import make_corpus as mc  # noqa: E402
from tests.fixtures import make_voice_corpus as mvc  # noqa: E402

TRAIN3_SPEAKERS: list[mvc.Speaker] = [
    ("pt-br+Alex", 160, 45), ("pt-br+aunty", 205, 70), ("pt-br+Denis", 130, 30),
    ("pt-br+Gene", 190, 60), ("pt-br+Mike", 145, 35), ("pt-br+Nguyen", 220, 75),
    ("pt-br+adam", 175, 25), ("pt-br+Andy", 135, 55),
]  # fmt: skip
TRAIN4_SPEAKERS: list[mvc.Speaker] = [
    ("pt-br+boris", 150, 30), ("pt-br+caleb", 210, 50), ("pt-br+david", 125, 40),
    ("pt-br+ed", 185, 65), ("pt-br+john", 200, 35), ("pt-br+max", 140, 80),
    ("pt-br+paul", 170, 45), ("pt-br+quincy", 225, 60),
]  # fmt: skip
HELDOUT5_SPEAKERS: list[mvc.Speaker] = [
    ("pt-br+edward", 135, 35), ("pt-br+michel", 205, 65), ("pt-br+rob", 160, 30),
    ("pt-br+robert", 215, 50), ("pt-br+zac", 130, 75), ("pt-br+grandpa", 180, 25),
    ("pt-br+iven", 195, 55), ("pt-br+steph2", 150, 70),
]  # fmt: skip
HELDOUT5_DIALOGUES: dict[str, list[str]] = {
    "enjoo": [
        "Oi, boa tarde, posso ajudar?",
        "Vou viajar de ônibus amanhã e sempre passo mal na estrada.",
        "Sente enjoo ou tontura? Toma algum remédio contínuo?",
        "Enjoo forte, e não tomo nada todo dia.",
        "Este comprimido para enjoo se toma meia hora antes de sair, pode dar sono.",
        "Ótimo, então levo uma cartela pequena.",
    ],
    "queimadura": [
        "Bom dia, em que posso ajudar?",
        "Queimei a mão no forno ontem, está vermelha e ardendo.",
        "Formou bolha? A área é maior que a palma da mão?",
        "Uma bolhinha pequena, só nos dedos.",
        "Lave com água corrente e use esta pomada, sem estourar a bolha.",
        "Entendi, obrigada pela ajuda.",
    ],
    "rinite": [
        "Olá, o senhor já foi atendido?",
        "Ainda não, estou espirrando muito e com o nariz escorrendo.",
        "É pior de manhã? Tem febre ou dor de garganta?",
        "De manhã é terrível, febre não tenho.",
        "Este antialérgico não dá sono, e o soro nasal ajuda a limpar.",
        "Vou levar os dois, por favor.",
    ],
}
EXTRA_SETS: dict[str, tuple[dict[str, list[str]], list[mvc.Speaker], int]] = {
    "train3": (mc.DIALOGUES, TRAIN3_SPEAKERS, 7000),
    "train4": (mvc.TUNE2_DIALOGUES, TRAIN4_SPEAKERS, 8000),
    "heldout5": (HELDOUT5_DIALOGUES, HELDOUT5_SPEAKERS, 9000),
}
WHERE = ROOT / "var" / "cache" / "segment_learned" / f"extra_{mvc.digest()}"


def ensure() -> Path:
    """The extra corpus's directory, generated first if missing."""
    if not (WHERE / "corpus.json").exists():
        print(f"generating the extra corpus into {WHERE} (once)", flush=True)
        saved = mvc.SETS
        mvc.SETS = EXTRA_SETS  # the generator walks the module's sets
        try:
            mvc.generate(WHERE)
        finally:
            mvc.SETS = saved
    return WHERE


if __name__ == "__main__":
    print(ensure())
