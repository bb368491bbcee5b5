"""The speaker corpus: espeak-ng pt-BR voices enrolled and speaking counter dialogues in shop noise.

Generated deterministically (seeded) into a cache directory (default ``var/speaker_corpus``, not
committed): ``python bench/speaker_corpus.py`` or implicitly by ``bench/speaker_eval.py``.

Voices (defined in ``bench/speaker_voices.py``): 53 espeak-ng pt-BR voices (variant, pitch,
rate), in six splits that share no voice: ``tune`` (3 attendants, 5 customers; the thresholds
were chosen on it), ``holdout`` (3 attendants, 6 customers; measured, but its first figures
were seen before a last tuning round),
``holdout2`` (3 attendants, 6 customers; added after that round and measured once, then looked
at), ``holdout3`` (3 attendants, 6 customers; added with the second round, measured once with its
model), ``holdout4`` (the same; added with the third round, measured once with its model) and
``holdout5`` (the same; added with the fourth round). Five voices of holdout3 (customers `Marcelo`,
`Zac`) and holdout4 (`Steph2`, `Edward2`, customer `Iven3`) are
espeak-ng's default voice (their variant names are not espeak-ng's: it falls back silently).
An attendant's enrollment and her dialogue turns use the same voice (variant, pitch, rate ± 8).
`BACKGROUND`: 56 more voices in no split (``background.json``), for fitting the scoring model
(``bench/speaker_eval.py --fit``) and for the leave-voices-out protocol the choices are made on
(``bench/speaker_protocol.py``). Each
attendant is enrolled with `ENROLL_TEXT` (~35 s), sentences that never occur in the dialogues.
Dialogues: per split, `DIALOGUES_PER_SPLIT`
dialogues of 6-8 turns between one or two of its attendants and one or two customers (2-3
speakers), 0.8-2.2 s between turns, with barcode beeps and door slams in the gaps, mixed into the
shop backgrounds of ``tests/fixtures/make_corpus.py`` (air conditioner, babble, both) at 20, 10
and 5 dB SNR (speech power over the utterances against the background's).

The MBROLA splits (recorded voices; ``bench/speaker_mbrola.py``, optional) are written by the
same `write_split` into the same directory under their own index, ``mbrola.json``, so this
corpus's files do not depend on whether MBROLA is installed.
"""

from __future__ import annotations

import itertools
import json
import sys
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.speaker_voices import BACKGROUND, BACKGROUND_VERSION, SPLITS, Voice  # noqa: E402
from tests.fixtures.make_audio import to_pcm16  # noqa: E402
from tests.fixtures.make_corpus import ac_noise, babble, beep, slam, speak  # noqa: E402

SR = 16_000
SNRS = (20, 10, 5)
NOISES = ("ac", "babble", "shop")
DIALOGUES_PER_SPLIT = 24
CACHE = ROOT / "var" / "speaker_corpus"
VERSION = 5  # bump to regenerate the cache


_SEEDS = {
    "tune": 0,
    "holdout": 1000,
    "holdout2": 2000,
    "holdout3": 3000,
    "holdout4": 4000,
    "holdout5": 5000,
    # MBROLA splits (bench/speaker_mbrola.py); their enrollments and noises are seeded by their
    # position after the espeak-ng splits (6, 7, 8).
    "mbrola1": 6000,
    "mbrola2": 7000,
    "mbrola_tune": 8000,
    # Round 6's fresh held-out MBROLA split (bench/speaker_mbrola.py, position 9).
    "mbrola3": 9500,
}

ENROLL_TEXT = (
    "Meu nome está registrado aqui na farmácia e eu trabalho no balcão todos os dias.",
    "Eu autorizo o uso da minha voz para identificar quem está atendendo.",
    "O dia está bonito hoje, e a loja abriu cedo como sempre.",
    "Sete, oito, nove, dez: contando devagar, com calma e atenção.",
    "A rua da farmácia tem uma padaria, um banco e uma escola na esquina.",
    "No fim de semana eu gosto de cozinhar para a minha família inteira.",
    "Quando chove muito, o movimento da loja diminui bastante à tarde.",
)

ATTENDANT_LINES = (
    "Boa tarde, em que posso ajudar?",
    "O senhor tem alguma alergia a medicamento?",
    "Há quantos dias começou esse sintoma?",
    "Temos o genérico, que sai mais em conta.",
    "Esse pode tomar de oito em oito horas, depois das refeições.",
    "Quer levar também um protetor para o estômago?",
    "Vou pegar ali no estoque, só um minuto.",
    "O pagamento pode ser no cartão ou no pix.",
    "Está com febre ou só a dor mesmo?",
    "Se não melhorar em três dias, procure um médico.",
    "Posso ver a sua receita, por favor?",
    "Esse aqui é sem açúcar, serve para diabéticos.",
)
CUSTOMER_LINES = (
    "Estou com uma dor de cabeça muito forte desde ontem.",
    "Meu filho está com o nariz entupido e tossindo.",
    "Não, nenhuma alergia que eu saiba.",
    "Tem alguma coisa para azia? Comi demais no almoço.",
    "Quanto custa a caixa com vinte comprimidos?",
    "Pode ser o genérico mesmo, obrigado.",
    "Machuquei o joelho jogando bola no domingo.",
    "Minha garganta está arranhando desde segunda.",
    "Eu queria um protetor solar para criança.",
    "Vou pagar no cartão de débito.",
    "Faz uns três dias que estou assim.",
    "Tem vitamina C efervescente de laranja?",
)


def _save(path: Path, x: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(to_pcm16(x))


def _say(text: str, voice: Voice, rng: np.random.Generator) -> np.ndarray:
    x = speak(text, voice.variant, speed=voice.speed + int(rng.integers(-8, 9)), pitch=voice.pitch)
    return np.asarray(x / np.sqrt(np.mean(x**2)) * 10 ** ((-22 + rng.uniform(-3, 3)) / 20))


def _enrollment(voice: Voice, seed: int) -> np.ndarray:
    """The attendant reading `ENROLL_TEXT` with pauses, in a quiet room (a little hiss)."""
    rng = np.random.default_rng(seed)
    parts = [np.zeros(int(0.8 * SR))]
    for text in ENROLL_TEXT:
        parts += [_say(text, voice, rng), np.zeros(int(rng.uniform(0.6, 1.0) * SR))]
    x = np.concatenate(parts)
    return np.asarray(x + rng.standard_normal(len(x)) * 10 ** (-60 / 20))


def _noise(kind: str, rng: np.random.Generator, n: int) -> np.ndarray:
    if kind == "ac":
        return ac_noise(rng, n)
    if kind == "babble":
        return babble(rng, n)
    a, b = ac_noise(rng, n), babble(rng, n)
    return np.asarray(a / np.sqrt(np.mean(a**2)) + b / np.sqrt(np.mean(b**2)))


def _dialogue(
    voices: dict[str, tuple[Voice, ...]], seed: int, k: int
) -> tuple[np.ndarray, list[dict[str, object]], np.ndarray]:
    """Dialogue `k` of a split (`voices`, seeded `seed`): clean speech, turns, beeps/slams track."""
    rng = np.random.default_rng(seed + k)
    n_att = 2 if k % 4 == 3 else 1
    n_cus = 2 if k % 3 == 2 and n_att == 1 else 1
    att = [voices["attendants"][i] for i in rng.choice(3, n_att, replace=False)]
    cus = [
        voices["customers"][i] for i in rng.choice(len(voices["customers"]), n_cus, replace=False)
    ]
    speakers: list[tuple[Voice, str]] = []
    for t in range(int(rng.integers(6, 9))):
        if t % 2 == 0:
            speakers.append((att[int(rng.integers(n_att))], "atendente"))
        else:
            speakers.append((cus[int(rng.integers(n_cus))], "cliente"))
    pos = int(rng.uniform(1.5, 2.0) * SR)
    clips, turns = [], []
    for voice, role in speakers:
        lines = ATTENDANT_LINES if role == "atendente" else CUSTOMER_LINES
        x = _say(lines[int(rng.integers(len(lines)))], voice, rng)
        clips.append((pos, x))
        turns.append(
            {"voice": voice.name, "role": role, "interval": [pos / SR, (pos + len(x)) / SR]}
        )
        pos += len(x) + int(rng.uniform(0.8, 2.2) * SR)
    total = pos + SR
    speech = np.zeros(total)
    for at, x in clips:
        speech[at : at + len(x)] = x
    events = np.zeros(total)
    for a, b in itertools.pairwise(turns):
        lo, hi = int(a["interval"][1] * SR), int(b["interval"][0] * SR)  # type: ignore[index]
        x = beep(rng) if rng.random() < 0.5 else slam(rng)
        room = hi - lo - SR - len(x)
        if room > 0 and rng.random() < 0.5:
            at = lo + SR // 2 + int(rng.integers(room))
            events[at : at + len(x)] += x
    return speech, turns, events


def write_split(
    cache: Path, meta: dict[str, object], split: str, voices: dict[str, tuple[Voice, ...]], s: int
) -> None:
    """Enroll a split's attendants and write its dialogues at every SNR into `cache` and `meta`.

    `s` is the split's position (it seeds the enrollments and the noises); the dialogues are
    seeded by `_SEEDS`.
    """
    for i, voice in enumerate(voices["attendants"]):
        path = cache / f"enroll_{voice.name}.wav"
        _save(path, _enrollment(voice, 50 + 10 * s + i))
        meta["enroll"][voice.name] = {"split": split, "file": path.name}  # type: ignore[index]
    for k in range(DIALOGUES_PER_SPLIT):
        speech, turns, events = _dialogue(voices, _SEEDS[split], k)
        kind = NOISES[k % 3]
        noise = _noise(kind, np.random.default_rng(7000 + 100 * s + k), len(speech))
        inside = np.concatenate(
            [speech[int(t["interval"][0] * SR) : int(t["interval"][1] * SR)] for t in turns]  # type: ignore[index]
        )
        power = float(np.mean(inside**2))
        for snr in SNRS:
            scale = np.sqrt(power / 10 ** (snr / 10) / np.mean(noise**2))
            name = f"{split}_{k:02d}_{kind}_{snr}db.wav"
            _save(cache / name, speech + events + noise * scale)
            meta["clips"].append(  # type: ignore[attr-defined]
                {"file": name, "split": split, "snr": snr, "noise": kind, "turns": turns}
            )
    print(f"{split}: generated", file=sys.stderr)


def build(cache: Path = CACHE) -> Path:
    """Generate the corpus into `cache` unless it is there already; return its index file."""
    index = cache / "corpus.json"
    if index.exists() and json.loads(index.read_text()).get("version") == VERSION:
        return index
    cache.mkdir(parents=True, exist_ok=True)
    meta: dict[str, object] = {"version": VERSION, "enroll": {}, "clips": []}
    for s, (split, voices) in enumerate(SPLITS.items()):
        write_split(cache, meta, split, voices, s)
    index.write_text(json.dumps(meta, indent=1))
    return index


def _monologue(voice: Voice, k: int) -> tuple[np.ndarray, list[dict[str, object]]]:
    """One background voice saying 6 dialogue lines (either role's) with gaps."""
    rng = np.random.default_rng(9000 + k)
    pos = int(rng.uniform(1.5, 2.0) * SR)
    clips, turns = [], []
    for _ in range(6):
        lines = ATTENDANT_LINES + CUSTOMER_LINES
        x = _say(lines[int(rng.integers(len(lines)))], voice, rng)
        clips.append((pos, x))
        interval = [pos / SR, (pos + len(x)) / SR]
        turns.append({"voice": voice.name, "role": "fundo", "interval": interval})
        pos += len(x) + int(rng.uniform(0.8, 2.2) * SR)
    speech = np.zeros(pos + SR)
    for at, x in clips:
        speech[at : at + len(x)] = x
    return speech, turns


def write_background(
    cache: Path, meta: dict[str, object], voices: tuple[Voice, ...], split: str, first: int = 0
) -> None:
    """Enroll background `voices` and write two monologues each at every SNR (`split` names them).

    `first`: the number of the first voice, which seeds its enrollment, lines and noise (the
    espeak-ng background starts at 0, the MBROLA one at 200).
    """
    for n, voice in enumerate(voices):
        i = first + n
        path = cache / f"enroll_{voice.name}.wav"
        _save(path, _enrollment(voice, 500 + i))
        meta["enroll"][voice.name] = {"split": split, "file": path.name}  # type: ignore[index]
        for j in range(2):
            k = 2 * i + j
            speech, turns = _monologue(voice, k)
            kind = NOISES[k % 3]
            noise = _noise(kind, np.random.default_rng(8000 + k), len(speech))
            inside = np.concatenate(
                [speech[int(t["interval"][0] * SR) : int(t["interval"][1] * SR)] for t in turns]  # type: ignore[index]
            )
            power = float(np.mean(inside**2))
            for snr in SNRS:
                scale = np.sqrt(power / 10 ** (snr / 10) / np.mean(noise**2))
                name = f"{split}_{voice.name}_{j}_{kind}_{snr}db.wav"
                _save(cache / name, speech + noise * scale)
                meta["clips"].append(  # type: ignore[attr-defined]
                    {"file": name, "split": split, "snr": snr, "noise": kind, "turns": turns}
                )
    print(f"{split}: generated", file=sys.stderr)


def build_background(cache: Path = CACHE) -> Path:
    """Generate the background voices (`BACKGROUND`) into `cache` unless there; their index."""
    index = cache / "background.json"
    if index.exists() and json.loads(index.read_text()).get("version") == BACKGROUND_VERSION:
        return index
    cache.mkdir(parents=True, exist_ok=True)
    meta: dict[str, object] = {"version": BACKGROUND_VERSION, "enroll": {}, "clips": []}
    write_background(cache, meta, BACKGROUND, "background")
    index.write_text(json.dumps(meta, indent=1))
    return index


if __name__ == "__main__":
    print(build())
    print(build_background())
