"""Red-flag symptoms: when the counter must refer the customer to a doctor instead of selling.

In: the dialogue's recent turns. Out: the first `RedFlag` found, or None. Raises nothing.

Phrases are written the way customers say them at a Brazilian counter and matched on normalized
text (lower case, no accents, word boundaries). Some flags need two things said together (fever
*and* a baby); those are checked across the whole window, since "minha filha de 3 meses" and "está
com febre de 39" often come in different utterances. Missing a red flag is worse than a needless
referral, so the lists lean wide.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from balto.catalog import normalize
from balto.providers.ports import Turn

_NON_WORD = re.compile(r"[^a-z0-9]+")

REFERRAL = (
    "Não indique medicamento: oriente o cliente a procurar atendimento médico agora "
    "(pronto-socorro ou SAMU 192)."
)


@dataclass(frozen=True, slots=True)
class RedFlag:
    """A symptom that calls for a referral.

    Attributes:
        code: A stable identifier (``dor_no_peito``), sent to the device as ``sinal``.
        motivo: What was recognized, for the attendant.
        orientacao: What the attendant should do.
    """

    code: str
    motivo: str
    orientacao: str = REFERRAL


@dataclass(frozen=True, slots=True)
class _Rule:
    flag: RedFlag
    any_of: tuple[str, ...]
    # When set, one of these must also appear somewhere in the window.
    with_any_of: tuple[str, ...] = ()


_BABY = (
    "bebe",
    "nene",
    "recem nascido",
    "recem nascida",
    "meses",
    "mes de vida",
    "dias de vida",
    "lactente",
)

_RULES = (
    _Rule(
        RedFlag("dor_no_peito", "Dor ou aperto no peito"),
        (
            "dor no peito",
            "dor forte no peito",
            "aperto no peito",
            "pressao no peito",
            "peito apertado",
            "dor no coracao",
            "dor no braco esquerdo",
            "infarto",
            "enfarte",
        ),
    ),
    _Rule(
        RedFlag("falta_de_ar", "Falta de ar"),
        (
            "falta de ar",
            "sem ar",
            "nao consigo respirar",
            "nao consegue respirar",
            "dificuldade para respirar",
            "dificuldade de respirar",
            "respirando mal",
            "sufocando",
            "labios roxos",
            "boca roxa",
        ),
    ),
    _Rule(
        RedFlag("sinais_de_avc", "Sinais de AVC (derrame)"),
        (
            "boca torta",
            "rosto torto",
            "rosto caido",
            "lado do rosto caido",
            "fala enrolada",
            "falando enrolado",
            "fala arrastada",
            "nao consegue falar",
            "braco dormente de um lado",
            "nao consegue mexer o braco",
            "nao consigo mexer o braco",
            "lado do corpo dormente",
            "formigamento de um lado",
            "derrame",
            "avc",
        ),
    ),
    _Rule(
        RedFlag("febre_alta_bebe", "Febre em bebê"),
        ("febre", "febril", "quente de febre", "39 graus", "40 graus", "trinta e nove"),
        with_any_of=_BABY,
    ),
    _Rule(
        RedFlag("convulsao", "Convulsão ou desmaio"),
        ("convulsao", "convulsionou", "convulsionando", "desmaiou", "desmaio", "ataque epiletico"),
    ),
    _Rule(
        RedFlag("sangramento", "Sangramento importante"),
        (
            "vomitando sangue",
            "vomito com sangue",
            "tossindo sangue",
            "sangue nas fezes",
            "sangramento forte",
            "sangrando muito",
            "nao para de sangrar",
        ),
    ),
    _Rule(
        RedFlag("reacao_alergica_grave", "Reação alérgica grave"),
        (
            "garganta fechando",
            "lingua inchada",
            "inchaco na garganta",
            "boca inchada",
            "olho e boca inchados",
            "anafilaxia",
        ),
    ),
    _Rule(
        RedFlag("intoxicacao", "Possível intoxicação ou overdose"),
        (
            "tomou a cartela toda",
            "tomou todos os comprimidos",
            "engoliu remedio",
            "engoliu veneno",
            "overdose",
            "intoxicacao",
            "intoxicado",
            "picada de cobra",
            "picada de escorpiao",
        ),
    ),
    _Rule(
        RedFlag("risco_de_suicidio", "Fala de se machucar"),
        ("quero morrer", "me matar", "tirar minha vida", "acabar com a minha vida", "suicidio"),
        # The referral here is to CVV (188) as well as emergency care.
    ),
)


def _words(text: str) -> str:
    return " " + _NON_WORD.sub(" ", normalize(text)).strip() + " "


def _said(window: str, phrases: Sequence[str]) -> bool:
    return any(_words(phrase) in window for phrase in phrases)


def detect(dialogue: Sequence[Turn]) -> RedFlag | None:
    """The first red flag said in `dialogue`, or None.

    Args:
        dialogue: The recent turns, oldest first (the advisor's rolling window).

    Returns:
        The flag, or None when nothing in the window calls for a referral.
    """
    # Turns are joined with a separator word so a phrase never straddles two utterances.
    window = " | ".join(_words(turn.text) for turn in dialogue)
    for rule in _RULES:
        if _said(window, rule.any_of) and (not rule.with_any_of or _said(window, rule.with_any_of)):
            if rule.flag.code == "risco_de_suicidio":
                return RedFlag(
                    rule.flag.code,
                    rule.flag.motivo,
                    "Não indique medicamento: acolha e oriente procurar ajuda agora "
                    "(CVV 188, SAMU 192).",
                )
            return rule.flag
    return None
